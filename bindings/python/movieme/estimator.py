"""A scikit-learn-style estimator over movieme (without depending on
scikit-learn): ``fit(X, y)`` / ``predict(X)`` on (user, movie) pairs, plus
``recommend``. ``get_params``/``set_params`` follow scikit-learn's protocol,
so the estimator works with its model-selection tools when they are
installed; it pickles (the trained model goes as its file's bytes).
"""
import numpy as _np

import movieme as _mm

__all__ = ["ALSRecommender"]

_PARAMS = ("rank", "iterations", "reg", "bias_reg", "seed", "n_threads",
           "biases", "nonnegative", "implicit", "alpha", "solver", "cg_steps",
           "min_rating", "weight_by_value", "bias_prior", "preference",
           "preference_rank", "preference_reg", "preference_alpha",
           "preference_iterations", "weighting", "bm25_k1", "bm25_b", "blend",
           "blend_shrink", "preference_confidence", "rating_pref_weight",
           "rating_pref_shift")


class ALSRecommender:
    """ALS matrix factorisation as an estimator.

    ``X`` is either a pandas DataFrame with the columns `user_col` and
    `movie_col` (and `rating_col`, used by :meth:`fit` when ``y`` is None)
    or an array-like of shape (n, 2) of (user id, movie id) pairs; ``y``
    the ratings. Parameters are :func:`movieme.train_als`'s (None: the
    library's default), the hybrid model's too (`bias_prior`, `blend`,
    `preference_reg`, ...), so the best parameters of a search build one:
    ``ALSRecommender(**movieme.tune_als(ratings).best)``. After
    :meth:`fit`, ``model_`` is the :class:`movieme.Model`.
    """

    def __init__(self, rank=32, iterations=10, reg=None, bias_reg=None,
                 seed=42, n_threads=0, biases=True, nonnegative=False,
                 implicit=False, alpha=None, solver=None, cg_steps=None,
                 min_rating=None, weight_by_value=False, bias_prior=None,
                 preference=None, preference_rank=None, preference_reg=None,
                 preference_alpha=None, preference_iterations=None,
                 weighting=None, bm25_k1=None, bm25_b=None, blend=None,
                 blend_shrink=None, preference_confidence=None,
                 rating_pref_weight=None, rating_pref_shift=None,
                 user_col="userId", movie_col="movieId", rating_col="rating"):
        # scikit-learn's protocol: every parameter kept as given
        for name in _PARAMS:
            setattr(self, name, locals()[name])
        self.user_col, self.movie_col = user_col, movie_col
        self.rating_col = rating_col

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in
                _PARAMS + ("user_col", "movie_col", "rating_col")}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError("unknown parameter %r" % k)
            setattr(self, k, v)
        return self

    def _pairs(self, X):
        if hasattr(X, "columns"):  # a DataFrame
            return (X[self.user_col].to_numpy(), X[self.movie_col].to_numpy())
        a = _np.asarray(X)
        if a.ndim != 2 or a.shape[1] < 2:
            raise ValueError("X must be a DataFrame or an (n, 2) array of "
                             "(user, movie) pairs, got shape %s" % (a.shape,))
        return a[:, 0], a[:, 1]

    def fit(self, X, y=None):
        """Train on the pairs of X with ratings y (or X's rating column)."""
        users, movies = self._pairs(X)
        if y is None:
            if not hasattr(X, "columns"):
                raise ValueError("fit() needs y, or a DataFrame with a %r "
                                 "column" % self.rating_col)
            y = X[self.rating_col].to_numpy()
        ratings = _mm.Ratings.from_arrays(users, movies, y)
        opts = {k: getattr(self, k) for k in _PARAMS}
        self.model_ = _mm.train_als(ratings, **opts)
        return self

    def _model(self):
        m = getattr(self, "model_", None)
        if m is None:
            raise _mm.InvalidArgumentError("ALSRecommender is not fitted: "
                                           "call fit() first")
        return m

    def predict(self, X):
        """Predicted ratings of the pairs of X (float32 ndarray)."""
        return self._model().predict(*self._pairs(X))

    def score(self, X, y):
        """Minus the RMSE of :meth:`predict` on (X, y): higher is better,
        as scikit-learn's model selection expects."""
        err = self.predict(X).astype(_np.float64) - _np.asarray(y, float)
        return -float(_np.sqrt(_np.mean(err * err)))

    def recommend(self, user_ids, n=10):
        """``(movie_ids, scores)`` of shape (len(user_ids), n): each user's
        top n unrated movies (:meth:`movieme.Model.top_n_many`)."""
        return self._model().top_n_many(user_ids, n)

    def __repr__(self):
        return "ALSRecommender(%s)" % ", ".join(
            "%s=%r" % kv for kv in self.get_params().items())
