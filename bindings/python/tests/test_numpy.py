"""numpy in and out: Ratings.from_arrays/from_pandas/from_scipy/to_arrays,
factor matrices, vectorised predict."""
import gc
import os
import sys

import numpy as np
import pytest

import movieme

from conftest import make_tiny


def _same_ratings(a, b):
    for x, y in zip(a.to_arrays(), b.to_arrays()):
        np.testing.assert_array_equal(x, y)


# ---- from_arrays ------------------------------------------------------------

def test_from_arrays_matches_add():
    ref, rows = make_tiny()
    u, m, v = (np.array(c) for c in zip(*rows))
    r = movieme.Ratings.from_arrays(u, m, v)
    assert (r.n_users, r.n_movies, r.n_ratings) == (30, 20, len(rows))
    _same_ratings(r, ref)
    for uid in (1, 7, 30):
        assert r.user_ratings(uid) == ref.user_ratings(uid)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int32, np.int64,
                                   np.uint64, np.float32, np.float64])
def test_from_arrays_id_dtypes(dtype):
    r = movieme.Ratings.from_arrays(np.array([1, 2, 2], dtype=dtype),
                                    np.array([10, 10, 11], dtype=dtype),
                                    np.array([4, 3.5, 2], dtype=np.float64))
    u, m, v = r.to_arrays()
    assert u.dtype == np.int32 and m.dtype == np.int32
    assert v.dtype == np.float32
    assert u.tolist() == [1, 2, 2] and m.tolist() == [10, 10, 11]
    assert v.tolist() == [4.0, 3.5, 2.0]


def test_from_arrays_lists_and_integer_ratings():
    r = movieme.Ratings.from_arrays([3, 1], [5, 5], [4, 2])
    assert r.user_ratings(1) == [(5, 2.0)] and r.user_ratings(3) == [(5, 4.0)]


def test_from_arrays_non_contiguous():
    big = np.arange(40, dtype=np.int64).reshape(20, 2)
    users = big[:, 0]            # stride 16 bytes
    movies = big[::-1, 1][::-1]  # negative strides twice
    ratings = np.linspace(1, 5, 40)[::2]
    assert not users.flags.c_contiguous
    r = movieme.Ratings.from_arrays(users, movies, ratings)
    u, m, v = r.to_arrays()
    assert u.tolist() == users.tolist() and m.tolist() == movies.tolist()
    np.testing.assert_allclose(v, ratings.astype(np.float32))


def test_from_arrays_duplicates_last_wins_and_empty():
    r = movieme.Ratings.from_arrays([1, 1], [2, 2], [1.0, 4.5])
    assert r.user_ratings(1) == [(2, 4.5)]
    e = movieme.Ratings.from_arrays([], [], [])
    assert len(e) == 0 and e.n_users == 0


@pytest.mark.parametrize("users,movies,ratings,match", [
    ([1, 2], [1], [1, 2], r"same length, got 2, 1 and 2"),
    ([1, 2], [1, 2], [1.0], r"same length, got 2, 2 and 1"),
    ([1, -2], [1, 1], [1, 1], r"users\[1\] = -2 is out of range"),
    ([1, 2], [1, 2**31], [1, 1], r"movies\[1\] = 2147483648 is out of range"),
    (np.array([1, 2**63 + 5], dtype=np.uint64), [1, 1], [1, 1],
     r"users\[1\] = .* is not an integer id"),
    ([1.0, 2.5], [1, 1], [1, 1], r"users\[1\] = 2.5 is not an integer id"),
    ([1.0, np.nan], [1, 1], [1, 1], r"users\[1\] = nan is not an integer id"),
    ([1, 2], [1, 2], [1.0, np.nan], r"ratings\[1\] = nan is not a finite"),
    ([1, 2], [1, 2], [np.inf, 1.0], r"ratings\[0\] = inf is not a finite"),
    ([1, 2], [1, 2], [1.0, 1e300], r"ratings\[1\] = 1e\+300 is not a finite"),
    ([[1, 2]], [[1, 2]], [[1, 2]], r"users must be one-dimensional"),
    (5, [1], [1], r"users must be one-dimensional, got 0"),
])
def test_from_arrays_bad_values(users, movies, ratings, match):
    with pytest.raises(movieme.InvalidArgumentError, match=match) as ei:
        movieme.Ratings.from_arrays(users, movies, ratings)
    assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("users,ratings,match", [
    (["a", "b"], [1, 2], r"users must hold integer ids, got dtype <U1"),
    ([1, None], [1, 2], r"users must hold integer ids, got dtype object"),
    ([True, False], [1, 2], r"users must hold integer ids, got dtype bool"),
    ([1, 2], ["x", "y"], r"ratings must hold numbers, got dtype <U1"),
])
def test_from_arrays_bad_dtype(users, ratings, match):
    with pytest.raises(TypeError, match=match):
        movieme.Ratings.from_arrays(users, [1, 2], ratings)


def test_to_arrays_are_copies(ml):
    u, m, v = ml.to_arrays()
    assert len(u) == len(ml) == 100836
    assert u.flags.owndata or u.base is not None
    u[:] = -1  # writable, and does not touch the dataset
    u2, _, _ = ml.to_arrays()
    assert u2.min() >= 1
    assert np.all(np.diff(u2) >= 0)


def test_round_trip_ml(ml):
    r = movieme.Ratings.from_arrays(*ml.to_arrays())
    assert (r.n_users, r.n_ratings) == (ml.n_users, ml.n_ratings)
    _same_ratings(r, ml)


def test_closed_dataset():
    r, _ = make_tiny()
    r.close()
    with pytest.raises(movieme.InvalidArgumentError, match="closed"):
        r.to_arrays()


# ---- pandas and scipy -----------------------------------------------------------

def test_from_pandas(data_dir, ml):
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(os.path.join(data_dir, "ratings.csv"))
    r = movieme.Ratings.from_pandas(df)
    assert len(r) == len(ml)
    _same_ratings(r, ml)
    df2 = df.rename(columns={"userId": "u", "movieId": "i", "rating": "r"})
    assert len(movieme.Ratings.from_pandas(df2, user="u", movie="i",
                                           rating="r")) == len(ml)
    with pytest.raises(KeyError, match="no column 'user_id'"):
        movieme.Ratings.from_pandas(df, user="user_id")
    with pytest.raises(TypeError, match="needs a pandas.DataFrame"):
        movieme.Ratings.from_pandas({"userId": [1]})
    bad = df.head(3).copy()
    bad.loc[1, "rating"] = float("nan")
    with pytest.raises(movieme.InvalidArgumentError, match=r"ratings\[1\]"):
        movieme.Ratings.from_pandas(bad)


def test_from_scipy():
    sp = pytest.importorskip("scipy.sparse")
    rows = np.array([0, 0, 2, 5]); cols = np.array([1, 3, 1, 0])
    vals = np.array([4.0, 3.0, 5.0, 1.5])
    coo = sp.coo_matrix((vals, (rows, cols)), shape=(6, 4))
    for mat in (coo, coo.tocsr(), coo.tocsc()):
        r = movieme.Ratings.from_scipy(mat)
        u, m, v = r.to_arrays()
        assert u.tolist() == [0, 0, 2, 5] and m.tolist() == [1, 3, 1, 0]
        assert v.tolist() == [4.0, 3.0, 5.0, 1.5]
    # duplicates of a COO matrix are summed, as scipy does
    dup = sp.coo_matrix((np.array([1.0, 2.0]), (np.array([1, 1]),
                                                 np.array([2, 2]))))
    assert movieme.Ratings.from_scipy(dup).user_ratings(1) == [(2, 3.0)]
    with pytest.raises(TypeError, match="needs a scipy.sparse matrix"):
        movieme.Ratings.from_scipy(np.eye(3))


def test_optional_packages_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="from_pandas needs pandas.*"
                                          "python3-pandas"):
        movieme.Ratings.from_pandas(object())
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match="python3-scipy"):
        movieme.Ratings.from_scipy(object())


# ---- model arrays -----------------------------------------------------------------

def test_factor_matrices(ml_model):
    fm = ml_model.user_factors_matrix()
    assert fm.ids.dtype == np.int32 and fm.factors.dtype == np.float32
    assert fm.factors.shape == (ml_model.n_users, ml_model.rank)
    assert fm.biases.shape == (ml_model.n_users,)
    assert np.all(np.diff(fm.ids) > 0)
    for i in (0, 17, len(fm.ids) - 1):
        f, b = ml_model.user_factors(int(fm.ids[i]))
        np.testing.assert_array_equal(fm.factors[i], np.float32(f))
        assert fm.biases[i] == np.float32(b)
    mm = ml_model.movie_factors_matrix()
    assert mm.factors.shape == (ml_model.n_movies, ml_model.rank)
    assert mm.ids.tolist() == [mv.movie_id for mv in ml_model.movies()]
    f, b = ml_model.movie_factors(int(mm.ids[5]))
    np.testing.assert_array_equal(mm.factors[5], np.float32(f))


def test_arrays_outlive_model(ml):
    model = movieme.train_als(ml, rank=4, iterations=2, n_threads=1)
    fm = model.user_factors_matrix()
    preds = model.predict(fm.ids[:10], np.full(10, 1))
    expect = fm.factors.copy()
    del model
    gc.collect()
    # the arrays own their memory: still readable after the model is gone
    np.testing.assert_array_equal(fm.factors, expect)
    assert np.isfinite(preds).all()
    m2 = movieme.train_als(ml, rank=4, iterations=2, n_threads=1)
    ids = m2.user_factors_matrix().ids
    m2.close()
    assert ids[0] == 1
    with pytest.raises(movieme.InvalidArgumentError, match="closed"):
        m2.user_factors_matrix()


def test_predict_arrays(ml_model, ml):
    u, m, _ = ml.to_arrays()
    u, m = u[:500], m[:500]
    p = ml_model.predict(u, m)
    assert isinstance(p, np.ndarray) and p.dtype == np.float32
    assert p.shape == (500,)
    expect = [ml_model.predict(int(a), int(b)) for a, b in zip(u, m)]
    np.testing.assert_array_equal(p, np.float32(expect))
    # unknown ids fall back to the biases, as the scalar call
    q = ml_model.predict([1, 999999, 1], [1, 1, 99999999])
    assert q.tolist() == [ml_model.predict(1, 1), ml_model.predict(999999, 1),
                          ml_model.predict(1, 99999999)]
    # the scalar call still returns a float
    assert isinstance(ml_model.predict(1, 1), float)
    assert isinstance(ml_model.predict(np.int64(1), np.int32(1)), float)


def test_predict_many(ml_model, ml):
    u, m, _ = ml.to_arrays()
    u, m = u[:300], m[:300]
    p = ml_model.predict_many(u, m)
    assert isinstance(p, np.ndarray) and p.dtype == np.float32
    np.testing.assert_array_equal(p, ml_model.predict(u, m))
    assert p.tolist() == [np.float32(ml_model.predict(int(a), int(b)))
                          for a, b in zip(u, m)]
    # lists, and one user against many movies
    assert ml_model.predict_many([1], [1, 2]).shape == (2,)
    with pytest.raises(movieme.InvalidArgumentError, match="broadcast"):
        ml_model.predict_many([1, 2, 3], [1, 2])


def test_predict_broadcast_and_shape(ml_model):
    movies = np.array([1, 2, 3, 6])
    one = ml_model.predict(1, movies)
    assert one.shape == (4,)
    assert one.tolist() == [ml_model.predict(1, int(x)) for x in movies]
    grid = ml_model.predict(np.array([[1], [2]]), movies)
    assert grid.shape == (2, 4)
    assert grid[1, 2] == np.float32(ml_model.predict(2, 3))
    assert ml_model.predict(np.array(1), np.array(1)).shape == ()
    strided = np.arange(1, 41)[::4]
    assert ml_model.predict(strided, strided).tolist() == \
        [ml_model.predict(int(x), int(x)) for x in strided]


def test_predict_bad_input(ml_model):
    with pytest.raises(movieme.InvalidArgumentError, match="broadcast"):
        ml_model.predict([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="dtype <U1"):
        ml_model.predict(["a"], [1])
    with pytest.raises(movieme.InvalidArgumentError, match="not an integer"):
        ml_model.predict([1.5], [1])
    with pytest.raises(movieme.InvalidArgumentError, match="out of range"):
        ml_model.predict([2**40], [1])


def test_top_n_many(ml_model):
    users = np.array([1, 5, 600, 1])
    ids, scores = ml_model.top_n_many(users, 7)
    assert ids.shape == scores.shape == (4, 7)
    assert ids.dtype == np.int32 and scores.dtype == np.float32
    for i, u in enumerate(users):
        recs = ml_model.top_n(int(u), 7)
        assert ids[i].tolist() == [r.movie_id for r in recs]
        np.testing.assert_array_equal(scores[i], np.float32([r.score
                                                             for r in recs]))
    with pytest.raises(movieme.NotFoundError, match="999999"):
        ml_model.top_n_many([1, 999999], 3)
    with pytest.raises(movieme.InvalidArgumentError):
        ml_model.top_n_many([1], -1)
    e_ids, e_scores = ml_model.top_n_many([], 5)
    assert e_ids.shape == (0, 5)


def test_top_n_many_with_ratings(ml_model):
    users = [1, 5, 9]
    ids, scores, ratings = ml_model.top_n_many(users, 12, with_ratings=True)
    assert ratings.dtype == np.float32 and ratings.shape == (3, 12)
    for i, u in enumerate(users):
        recs = ml_model.top_n(u, 12)
        assert ids[i].tolist() == [r.movie_id for r in recs]
        assert ratings[i].tolist() == [np.float32(r.rating) for r in recs]
    assert len(ml_model.top_n_many(users, 3)) == 2


def test_top_n_many_pads_short_rows():
    r = movieme.Ratings.from_arrays([1, 1, 2], [10, 11, 10], [5, 3, 4])
    m = movieme.train_als(r, rank=2, iterations=2, n_threads=1)
    ids, scores = m.top_n_many([1, 2], 3)
    assert ids[0].tolist() == [-1, -1, -1] and np.isnan(scores[0]).all()
    assert ids[1].tolist() == [11, -1, -1]
    assert np.isfinite(scores[1, 0]) and np.isnan(scores[1, 1:]).all()


def test_recommendations_carry_the_rating(ml_model, ml):
    # rec_scored.rating (issue 15): stars within the data's rating range
    for recs in (ml_model.top_n(1, 10),
                 ml_model.recommend_for_ratings({260: 5.0, 1196: 4.5}, 10),
                 ml_model.similar_movies(260, 10)):
        assert recs and all(0.5 <= r.rating <= 5.0 for r in recs)
    top = ml_model.top_n(1, 5)
    for r in top:
        assert abs(r.rating - ml_model.predict(1, r.movie_id)) < 1e-5
    best = ml.best_movies(5, min_count=50)
    means = {s.movie_id: s.average for s in ml.count_avg()}
    for r in best:
        assert abs(r.rating - means[r.movie_id]) < 1e-5
