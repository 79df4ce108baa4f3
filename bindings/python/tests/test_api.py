"""Every call of the Python API, on real data and on tiny in-memory sets."""
import copy
import math
import pathlib

import pytest

import movieme
from conftest import make_tiny


# ---- module ---------------------------------------------------------------

def test_version():
    assert isinstance(movieme.__version__, str)
    assert movieme.__version__ == movieme.version()
    major, minor, patch = (int(x) for x in movieme.version().split("."))
    assert movieme.version_number() == major * 10000 + minor * 100 + patch


def test_private_layer_not_exported():
    assert "_movieme" not in movieme.__all__
    for name in movieme.__all__:
        assert hasattr(movieme, name), name


# ---- Ratings ----------------------------------------------------------------

def test_load_movielens(ml):
    assert (ml.n_users, ml.n_movies, ml.n_ratings) == (610, 9742, 100836)
    assert len(ml) == ml.n_ratings
    assert repr(ml) == ("<movieme.Ratings: 610 users, 9742 movies, "
                        "100836 ratings>")


def test_load_movielens_pathlike(data_dir):
    r = movieme.load_movielens(pathlib.Path(data_dir) / "ratings.csv")
    assert len(r) == 100836
    r2 = movieme.load_movielens(str(data_dir).encode())
    assert r2.n_movies == r.n_movies


def test_movie_metadata(ml):
    toy = ml.movie(1)
    assert isinstance(toy, movieme.Movie)
    assert toy.movie_id == 1
    assert toy.title == "Toy Story (1995)"
    assert toy.year == 1995
    assert toy.genres == ("Adventure", "Animation", "Children", "Comedy",
                          "Fantasy")
    assert toy.n_ratings == 215
    assert 3.5 < toy.mean_rating < 4.5


def test_utf8_titles(ml):
    titles = [m.title for m in ml.movies()]
    assert any(not t.isascii() for t in titles)  # e.g. "Jetée, La (1962)"


def test_movies_iterates_all_in_order(ml):
    movies = ml.movies()
    assert iter(movies) is movies
    ids = [m.movie_id for m in movies]
    assert len(ids) == ml.n_movies
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_user_ratings(ml):
    rows = ml.user_ratings(1)
    assert len(rows) == 232
    ids = [m for m, _ in rows]
    assert ids == sorted(ids)
    assert all(0.5 <= r <= 5.0 for _, r in rows)
    assert (1, 4.0) in rows


def test_count_avg(ml):
    stats = ml.count_avg()
    assert len(stats) == ml.n_movies
    assert isinstance(stats[0], movieme.MovieStats)
    assert sum(s.count for s in stats) == ml.n_ratings
    toy = next(s for s in stats if s.movie_id == 1)
    assert toy.count == 215
    assert toy.average == pytest.approx(ml.movie(1).mean_rating, rel=1e-6)
    assert [s.movie_id for s in stats] == sorted(s.movie_id for s in stats)


def test_best_movies(ml):
    best = ml.best_movies(5)
    assert len(best) == 5
    assert all(isinstance(b, movieme.Recommendation) for b in best)
    assert best[0].title == "Shawshank Redemption, The (1994)"
    scores = [b.score for b in best]
    assert scores == sorted(scores, reverse=True)
    stats = {s.movie_id: s for s in ml.count_avg()}
    assert all(stats[b.movie_id].count >= 20 for b in best)


def test_best_movies_options(ml):
    comedies = ml.best_movies(n=10, min_count=50, genre="comedy")
    assert len(comedies) == 10
    for c in comedies:
        assert "Comedy" in ml.movie(c.movie_id).genres
        assert ml.movie(c.movie_id).n_ratings >= 50
    plain = ml.best_movies(n=3, min_count=100, prior_weight=0.0)
    stats = {s.movie_id: s for s in ml.count_avg()}
    for p in plain:
        assert p.score == pytest.approx(stats[p.movie_id].average, rel=1e-5)
    assert ml.best_movies(n=0) == []
    assert ml.best_movies(genre="No Such Genre") == []
    assert len(ml.best_movies(n=10 ** 9, min_count=0)) == ml.n_movies


def test_empty_ratings():
    r = movieme.Ratings()
    assert (r.n_users, r.n_movies, r.n_ratings, len(r)) == (0, 0, 0, 0)
    assert list(r.movies()) == []
    assert r.count_avg() == []
    assert "0 users" in repr(r)


def test_add_and_set_movie():
    r = movieme.Ratings()
    r.add([(1, 10, 4.0), (1, 20, 3.0), (2, 10, 5.0)])
    r.add(iter([(3, 30, 2.5)]))  # any iterable
    r.add([])
    assert (r.n_users, r.n_movies, len(r)) == (3, 3, 4)
    r.add([(1, 10, 1.0), (1, 10, 2.0)])  # last value wins
    assert r.user_ratings(1) == [(10, 2.0), (20, 3.0)]
    assert len(r) == 4
    r.set_movie(10, "Ten (1999)", "Drama|Comedy")
    r.set_movie(20, "Twenty", ["Action", "Sci-Fi"])
    r.set_movie(40, "Forty (2001)")  # metadata only: a movie without ratings
    assert r.movie(10) == movieme.Movie(10, "Ten (1999)", ("Drama", "Comedy"),
                                        1999, 2, 3.5)
    assert r.movie(20).genres == ("Action", "Sci-Fi")
    assert r.movie(20).year == 0
    m40 = r.movie(40)
    assert (m40.genres, m40.year, m40.n_ratings, m40.mean_rating) == \
        ((), 2001, 0, 0.0)
    assert r.n_movies == 4
    r.set_movie(10, "Ten again", None)
    assert r.movie(10).title == "Ten again"
    assert r.movie(10).genres == ()


def test_set_movie_unicode():
    r = movieme.Ratings()
    r.set_movie(1, "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
                ["Comédie", "Romance"])
    m = r.movie(1)
    assert m.title.startswith("Amélie")
    assert m.genres == ("Comédie", "Romance")


def test_add_accepts_number_like():
    r = movieme.Ratings()
    r.add([(True + 1, 3, 4), (5, 6, 7.5)])  # ints, bools, floats
    assert r.user_ratings(2) == [(3, 4.0)]


def test_copy_is_independent(tiny):
    c = tiny.copy()
    assert (c.n_users, c.n_movies, len(c)) == \
        (tiny.n_users, tiny.n_movies, len(tiny))
    c.add([(999, 1, 5.0)])
    c.set_movie(1, "Changed")
    assert c.n_users == tiny.n_users + 1
    assert tiny.movie(1).title == "Movie 1 (1981)"
    assert copy.copy(tiny) is not tiny
    assert len(copy.deepcopy(tiny)) == len(tiny)


def test_split(ml):
    train, test = ml.split(0.2, seed=1)
    assert isinstance(train, movieme.Ratings)
    assert len(train) + len(test) == len(ml)
    assert 0.17 < len(test) / len(ml) < 0.23
    assert train.n_movies == test.n_movies == ml.n_movies  # metadata copied
    assert test.movie(1).title == "Toy Story (1995)"
    again_train, again_test = ml.split(test_fraction=0.2, seed=1)
    assert len(again_test) == len(test)
    assert again_test.user_ratings(1) == test.user_ratings(1)
    other = ml.split(0.2, seed=2)[1]
    assert [m.movie_id for m in other.movies()] is not None
    default_train, default_test = ml.split()
    assert 0.08 < len(default_test) / len(ml) < 0.12
    empty_train, empty_test = ml.split(0.0)
    assert len(empty_test) == 0 and len(empty_train) == len(ml)


def test_ratings_context_manager(tiny):
    with tiny as r:
        assert r is tiny
        assert len(r) > 0
    assert tiny.closed
    assert repr(tiny) == "<movieme.Ratings (closed)>"
    with pytest.raises(movieme.InvalidArgumentError, match="closed"):
        len(tiny)
    with pytest.raises(ValueError):
        tiny.movie(1)


# ---- training and Model ------------------------------------------------------

def test_train_defaults(tiny):
    m = movieme.train_als(tiny)
    p = movieme.train_als(tiny, rank=None, iterations=None, reg=None,
                          seed=None, bias_reg=None)
    assert m.rank == p.rank == 32  # rec_als_params_init's default
    assert m.predict(1, 1) == p.predict(1, 1)


def test_model_properties(ml, ml_model):
    m = ml_model
    assert m.rank == 8
    assert m.n_users == 610
    assert m.n_movies == ml.n_movies
    assert 3.0 < m.global_mean < 4.0
    assert 1 in m and 610 in m
    assert 611 not in m and -1 not in m
    assert "x" not in m and 2 ** 40 not in m
    assert repr(m) == "<movieme.Model: rank 8, 610 users, %d movies>" % \
        ml.n_movies


def test_predict(ml, ml_model):
    p = ml_model.predict(1, 1)
    assert isinstance(p, float)
    assert 0.5 <= p <= 5.0
    # unknown user and unknown movie fall back to the biases
    assert 0.5 <= ml_model.predict(10 ** 6, 1) <= 5.0
    assert 0.5 <= ml_model.predict(1, 10 ** 7) <= 5.0


def test_top_n(ml, ml_model):
    recs = ml_model.top_n(1, 10)
    assert len(recs) == 10
    assert all(isinstance(r, movieme.Recommendation) for r in recs)
    rated = {m for m, _ in ml.user_ratings(1)}
    assert not rated & {r.movie_id for r in recs}
    keys = [(-r.score, r.movie_id) for r in recs]
    assert keys == sorted(keys)
    for r in recs:
        assert r.title == ml.movie(r.movie_id).title
    assert ml_model.top_n(1) == recs  # n defaults to 10
    assert ml_model.top_n(1, n=3) == recs[:3]
    assert ml_model.top_n(1, 0) == []
    everything = ml_model.top_n(1, 10 ** 9)
    # every movie with a training rating that user 1 did not rate
    rated_by_someone = sum(1 for s in ml.count_avg() if s.count > 0)
    assert len(everything) == rated_by_someone - len(rated)


def test_recommend_for_ratings(ml_model):
    n_users = ml_model.n_users
    likes = {1: 5.0, 260: 5.0, 1196: 4.5, 2571: 4.0}
    recs = ml_model.recommend_for_ratings(likes, n=5)
    assert len(recs) == 5
    assert not set(likes) & {r.movie_id for r in recs}
    assert ml_model.recommend_for_ratings(list(likes.items()), 5) == recs
    assert ml_model.recommend_for_ratings(iter(likes.items()), 5) == recs
    assert ml_model.n_users == n_users  # the model is not modified
    # movies unknown to the model are ignored
    assert ml_model.recommend_for_ratings({**likes, 10 ** 7: 5.0}, 5) == recs
    assert len(ml_model.recommend_for_ratings({}, 3)) == 3


def test_add_user(ml_model):
    m = ml_model.copy()
    likes = {1: 5.0, 260: 5.0, 1196: 4.5}
    uid = m.add_user(likes)
    assert uid == 611  # largest known id + 1
    assert uid in m and uid not in ml_model
    assert m.n_users == ml_model.n_users + 1
    recs = m.top_n(uid, 5)
    assert recs == m.recommend_for_ratings(likes, 5)
    assert not set(likes) & {r.movie_id for r in recs}
    assert m.add_user([(2571, 4.0)], user_id=5000) == 5000
    assert 5000 in m
    # a known id: ratings merged, the movie leaves the recommendations
    top = m.top_n(5000, 1)[0].movie_id
    assert m.add_user({top: 1.0}, 5000) == 5000
    assert top not in {r.movie_id for r in m.top_n(5000, 20)}
    factors, bias = m.user_factors(uid)
    assert len(factors) == m.rank and isinstance(bias, float)


def test_similar_movies(ml, ml_model):
    sims = ml_model.similar_movies(1, 10)
    assert len(sims) == 10
    assert 1 not in {s.movie_id for s in sims}
    assert all(-1.0001 <= s.score <= 1.0001 for s in sims)
    assert [s.score for s in sims] == sorted((s.score for s in sims),
                                             reverse=True)
    assert sims[0].title == ml.movie(sims[0].movie_id).title
    assert ml_model.similar_movies(1) == sims


def test_model_metadata(ml, ml_model):
    assert ml_model.movie(1) == ml.movie(1)
    movies = list(ml_model.movies())
    assert len(movies) == ml_model.n_movies
    assert movies[0] == ml.movie(movies[0].movie_id)


def test_factors(ml_model):
    uf, ub = ml_model.user_factors(1)
    mf, mb = ml_model.movie_factors(1)
    assert len(uf) == len(mf) == 8
    assert all(math.isfinite(x) for x in uf + mf + [ub, mb])
    # the prediction is the dot product plus the biases (before clamping)
    raw = ml_model.global_mean + ub + mb + sum(a * b for a, b in zip(uf, mf))
    assert ml_model.predict(1, 1) == pytest.approx(min(max(raw, 0.5), 5.0),
                                                   abs=1e-3)


def test_evaluate(ml):
    train, test = ml.split(0.1, seed=3)
    model = movieme.train_als(train, rank=8, iterations=5, n_threads=2)
    res = model.evaluate(test)
    assert isinstance(res, movieme.EvalResult)
    assert res.n_predictions == len(test)
    assert res.k == 10
    assert 0.7 < res.rmse < 1.2
    assert 0.5 < res.mae < res.rmse
    assert 0 < res.n_users_ranked <= test.n_users
    for v in (res.precision_at_k, res.recall_at_k, res.ndcg_at_k,
              res.map_at_k):
        assert 0.0 <= v <= 1.0
    res5 = model.evaluate(test, k=5, relevant_min=4.5)
    assert res5.k == 5 and res5.rmse == res.rmse


def test_save_load_roundtrip(tmp_path, ml_model):
    path = tmp_path / "model.bin"
    ml_model.save(path)
    assert path.stat().st_size > 0
    loaded = movieme.load_model(path)
    same = movieme.Model.load(str(path))
    for m in (loaded, same):
        assert (m.rank, m.n_users, m.n_movies) == \
            (ml_model.rank, ml_model.n_users, ml_model.n_movies)
        assert m.global_mean == ml_model.global_mean
        assert m.top_n(1, 10) == ml_model.top_n(1, 10)
        assert m.predict(3, 50) == ml_model.predict(3, 50)
        assert m.movie(1) == ml_model.movie(1)
    assert not list(tmp_path.glob("*.tmp*"))  # no temporary file left


def test_model_copy_is_independent(tiny_model):
    c = tiny_model.copy()
    uid = c.add_user({1: 5.0})
    assert uid in c and uid not in tiny_model
    assert copy.copy(tiny_model).n_users == tiny_model.n_users
    assert copy.deepcopy(tiny_model).top_n(1) == tiny_model.top_n(1)


def test_model_context_manager(tiny_model):
    with tiny_model as m:
        assert m.top_n(1, 2)
    assert tiny_model.closed
    assert repr(tiny_model) == "<movieme.Model (closed)>"
    with pytest.raises(movieme.InvalidArgumentError, match="Model is closed"):
        tiny_model.top_n(1)


def test_model_cannot_be_constructed():
    with pytest.raises(TypeError):
        movieme.Model()


def test_tiny_model_end_to_end(tiny, tiny_rows):
    model = movieme.train_als(tiny, rank=4, iterations=10, seed=1)
    assert model.n_users == 30 and model.n_movies == 20
    recs = model.top_n(1, 20)
    rated = {m for u, m, _ in tiny_rows if u == 1}
    assert {r.movie_id for r in recs} == set(range(1, 21)) - rated
    assert recs[0].title.startswith("Movie ")


def test_records_are_named_tuples():
    rec = movieme.Recommendation(1, 4.5, "A", 4.2)
    assert rec == (1, 4.5, "A", 4.2) and rec.score == 4.5
    assert rec.rating == 4.2
    assert movieme.Recommendation._fields == ("movie_id", "score", "title",
                                              "rating")
    assert movieme.Reason._fields == ("movie_id", "title", "weight", "share")
    assert movieme.Explanation._fields == ("score", "base", "reasons")
    assert movieme.Progress._fields == ("iteration", "iterations",
                                        "train_rmse", "loss", "seconds")
    assert movieme.EvalResult._fields[-4:] == ("n_users_ranked", "auc",
                                               "coverage",
                                               "median_train_count")
    assert movieme.MovieStats._fields == ("movie_id", "count", "average")
    assert movieme.Movie._fields == ("movie_id", "title", "genres", "year",
                                     "n_ratings", "mean_rating")


def test_docstrings():
    for obj in (movieme.train_als, movieme.load_movielens, movieme.load_model,
                movieme.Ratings.add, movieme.Ratings.best_movies,
                movieme.Model.top_n, movieme.Model.add_user,
                movieme.Model.recommend_for_ratings):
        assert obj.__doc__ and len(obj.__doc__) > 40, obj


def test_make_tiny_is_deterministic():
    assert make_tiny()[1] == make_tiny()[1]


def test_numpy_integers(ml_model, tiny):
    np = pytest.importorskip("numpy")
    ids = np.array([1, 2, 3], dtype=np.int64)
    assert ml_model.top_n(ids[0], np.int32(3)) == ml_model.top_n(1, 3)
    assert ids[1] in ml_model
    assert ml_model.predict(ids[0], np.int64(1)) == ml_model.predict(1, 1)
    tiny.add([(np.int64(77), np.int32(1), np.float64(4.5))])
    assert tiny.user_ratings(77) == [(1, 4.5)]


def test_type_stubs_cover_the_api():
    import ast
    import inspect

    pkg = pathlib.Path(movieme.__file__).parent
    assert (pkg / "py.typed").exists()
    tree = ast.parse((pkg / "__init__.pyi").read_text())
    names = set()
    methods = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            methods[node.name] = {n.name for n in node.body
                                  if isinstance(n, ast.FunctionDef)}
        if isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        if isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    assert set(movieme.__all__) <= names, set(movieme.__all__) - names
    for cls in (movieme.Ratings, movieme.Model):
        public = {n for n, _ in inspect.getmembers(cls)
                  if not n.startswith("_") or n in ("__len__", "__contains__")}
        stubbed = methods[cls.__name__] | methods["_Handle"]
        assert public <= stubbed, (cls.__name__, public - stubbed)
