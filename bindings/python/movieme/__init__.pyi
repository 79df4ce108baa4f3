"""Type stubs of the movieme package (see __init__.py for the docs)."""

import os
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping,
                    NamedTuple, Optional, Sequence, Tuple, TypeVar, Union,
                    overload)

import numpy as np
import numpy.typing as npt

from ._errors import (CancelledError as CancelledError, Error as Error,
                      FileError as FileError, FormatError as FormatError,
                      InvalidArgumentError as InvalidArgumentError,
                      NotFoundError as NotFoundError,
                      OutOfMemoryError as OutOfMemoryError,
                      SolverError as SolverError)

__version__: str

def version() -> str: ...
def version_number() -> int: ...

class Recommendation(NamedTuple):
    movie_id: int
    score: float
    title: str
    rating: float = ...

class Reason(NamedTuple):
    movie_id: int
    title: str
    weight: float
    share: float

class Explanation(NamedTuple):
    score: float
    base: float
    reasons: List[Reason]

class Movie(NamedTuple):
    movie_id: int
    title: str
    genres: Tuple[str, ...]
    year: int
    n_ratings: int
    mean_rating: float

class MovieStats(NamedTuple):
    movie_id: int
    count: int
    average: float

class EvalResult(NamedTuple):
    rmse: float
    mae: float
    n_predictions: int
    k: int
    precision_at_k: float
    recall_at_k: float
    ndcg_at_k: float
    map_at_k: float
    n_users_ranked: int
    auc: float = ...
    coverage: float = ...
    median_train_count: float = ...

class Progress(NamedTuple):
    iteration: int
    iterations: int
    train_rmse: float
    loss: float
    seconds: float

_PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_UserRatings = Union[Mapping[int, float], Iterable[Tuple[int, float]]]
_H = TypeVar("_H", bound="_Handle")

class _Handle:
    @property
    def n_users(self) -> int: ...
    @property
    def n_movies(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def copy(self: _H) -> _H: ...
    def __copy__(self: _H) -> _H: ...
    def __deepcopy__(self: _H, memo: object) -> _H: ...
    def movie(self, movie_id: int) -> Movie: ...
    def movies(self) -> Iterator[Movie]: ...
    def close(self) -> None: ...
    def __enter__(self: _H) -> _H: ...
    def __exit__(self, *exc: object) -> bool: ...

class FactorMatrix(NamedTuple):
    ids: np.ndarray
    factors: np.ndarray
    biases: np.ndarray

class Ratings(_Handle):
    def __init__(self) -> None: ...
    @classmethod
    def from_arrays(cls, users: npt.ArrayLike, movies: npt.ArrayLike,
                    ratings: npt.ArrayLike) -> "Ratings": ...
    @classmethod
    def from_pandas(cls, df: object, user: str = ..., movie: str = ...,
                    rating: str = ...) -> "Ratings": ...
    @classmethod
    def from_scipy(cls, matrix: object) -> "Ratings": ...
    def to_arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]: ...
    def add(self, rows: Iterable[Tuple[int, int, float]]) -> None: ...
    def set_movie(self, movie_id: int, title: str,
                  genres: Union[str, Iterable[str], None] = ...) -> None: ...
    @property
    def n_ratings(self) -> int: ...
    def __len__(self) -> int: ...
    def user_ratings(self, user_id: int) -> List[Tuple[int, float]]: ...
    def count_avg(self) -> List[MovieStats]: ...
    def best_movies(self, n: int = ..., min_count: int = ...,
                    prior_weight: float = ...,
                    genre: Optional[str] = ...) -> List[Recommendation]: ...
    def split(self, test_fraction: float = ...,
              seed: int = ...) -> Tuple["Ratings", "Ratings"]: ...
    def split_per_user(self, k: int = ...,
                       seed: int = ...) -> Tuple["Ratings", "Ratings"]: ...

class Model(_Handle):
    @classmethod
    def load(cls, path: _PathLike) -> "Model": ...
    def save(self, path: _PathLike) -> None: ...
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview]
                   ) -> "Model": ...
    @property
    def rank(self) -> int: ...
    @property
    def global_mean(self) -> float: ...
    @property
    def implicit(self) -> bool: ...
    @property
    def hybrid(self) -> bool: ...
    @property
    def preference_reg(self) -> float: ...
    @property
    def rating_pref(self) -> Tuple[float, float]: ...
    def __contains__(self, user_id: object) -> bool: ...
    @overload
    def predict(self, user_id: int, movie_id: int) -> float: ...
    @overload
    def predict(self, user_id: npt.ArrayLike,
                movie_id: npt.ArrayLike) -> np.ndarray: ...
    def predict_many(self, users: npt.ArrayLike,
                     movies: npt.ArrayLike) -> np.ndarray: ...
    def top_n_many(self, user_ids: npt.ArrayLike, n: int = ...,
                   *, min_count: Optional[int] = ...,
              genre: Optional[str] = ..., allow: Optional[Iterable[int]] = ...,
              deny: Optional[Iterable[int]] = ...,
              include_rated: bool = ...,
              with_ratings: bool = ...) -> Tuple[np.ndarray, ...]: ...
    def user_factors_matrix(self) -> FactorMatrix: ...
    def movie_factors_matrix(self) -> FactorMatrix: ...
    def top_n(self, user_id: int, n: int = ...,
              *, min_count: Optional[int] = ...,
              genre: Optional[str] = ..., allow: Optional[Iterable[int]] = ...,
              deny: Optional[Iterable[int]] = ...,
              include_rated: bool = ...) -> List[Recommendation]: ...
    def recommend_for_ratings(self, ratings: _UserRatings, n: int = ...,
              *, min_count: Optional[int] = ...,
              genre: Optional[str] = ..., allow: Optional[Iterable[int]] = ...,
              deny: Optional[Iterable[int]] = ...,
              include_rated: bool = ...) -> List[Recommendation]: ...
    def explain(self, user_id: int, movie_id: int,
                n: int = ...) -> Explanation: ...
    def explain_for_ratings(self, ratings: _UserRatings, movie_id: int,
                            n: int = ...) -> Explanation: ...
    def add_user(self, ratings: _UserRatings,
                 user_id: Optional[int] = ...) -> int: ...
    def remove_user(self, user_id: int) -> None: ...
    def similar_movies(self, movie_id: int, n: int = ..., *,
                       min_count: Optional[int] = ...,
                       genre: Optional[str] = ...,
                       allow: Optional[Iterable[int]] = ...,
                       deny: Optional[Iterable[int]] = ...
                       ) -> List[Recommendation]: ...
    def user_factors(self, user_id: int) -> Tuple[List[float], float]: ...
    def movie_factors(self, movie_id: int) -> Tuple[List[float], float]: ...
    def evaluate(self, test_ratings: Ratings, k: int = ...,
                 relevant_min: float = ...) -> EvalResult: ...

def load_movielens(path: _PathLike) -> Ratings: ...
def load_model(path: _PathLike) -> Model: ...
def train_als(ratings: Ratings, *, rank: Optional[int] = ...,
              iterations: Optional[int] = ..., reg: Optional[float] = ...,
              seed: Optional[int] = ..., n_threads: int = ...,
              nonnegative: bool = ..., biases: bool = ...,
              bias_reg: Optional[float] = ...,
              progress: Optional[Callable[[Progress], Optional[bool]]] = ...,
              implicit: bool = ..., alpha: Optional[float] = ...,
              solver: Optional[str] = ..., cg_steps: Optional[int] = ...,
              min_rating: Optional[float] = ...,
              weight_by_value: bool = ...,
              preference: Optional[bool] = ...,
              preference_rank: Optional[int] = ...,
              preference_reg: Optional[Union[float, str]] = ...,
              preference_alpha: Optional[float] = ...,
              preference_iterations: Optional[int] = ...,
              weighting: Optional[str] = ...,
              bm25_k1: Optional[float] = ..., bm25_b: Optional[float] = ...,
              blend: Optional[float] = ...,
              blend_shrink: Optional[float] = ...,
              bias_prior: Optional[float] = ...,
              preference_confidence: Optional[str] = ...,
              rating_pref_weight: Optional[float] = ...,
              rating_pref_shift: Optional[float] = ...) -> Model: ...
def evaluate_popularity(train_ratings: Ratings, test_ratings: Ratings,
                        k: int = ..., relevant_min: float = ...
                        ) -> EvalResult: ...

# ---- tuning (issue 11) ----

class TuneResult(NamedTuple):
    points: List[Dict[str, Any]]
    best: Dict[str, Any]
    metric: float
    rmse: float
    ndcg: float
    best_index: int
    seconds: float

def tune_als(ratings: Ratings, *, metric: str = ..., validation: str = ...,
             fraction: Optional[float] = ..., leave_out: Optional[int] = ...,
             folds: Optional[int] = ..., split_seed: Optional[int] = ...,
             k: Optional[int] = ..., relevant_min: Optional[float] = ...,
             regs: Optional[Sequence[float]] = ...,
             ranks: Optional[Sequence[int]] = ...,
             alphas: Optional[Sequence[float]] = ...,
             bias_regs: Optional[Sequence[float]] = ...,
             bias_priors: Optional[Sequence[float]] = ...,
             preference_regs: Optional[Sequence[float]] = ...,
             preference_alphas: Optional[Sequence[float]] = ...,
             blends: Optional[Sequence[float]] = ...,
             blend_shrinks: Optional[Sequence[float]] = ...,
             warm_start: bool = ..., warm_iterations: Optional[int] = ...,
             early_stop: Optional[float] = ...,
             path_patience: Optional[int] = ...,
             fit_rating_pref: bool = ...,
             auto_blend: bool = ...,
             progress: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = ...,
             **base: Any) -> TuneResult: ...
