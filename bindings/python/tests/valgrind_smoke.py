"""Every call and error path once, under valgrind (CTest python_valgrind):
no invalid access, and nothing definitely lost. Not a pytest module."""
import gc
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import movieme  # noqa: E402
from conftest import make_tiny  # noqa: E402

tmp_dir = tempfile.TemporaryDirectory(prefix="movieme-valgrind-")
model_path = os.path.join(tmp_dir.name, "m.bin")
for _ in range(2):
    r, rows = make_tiny()
    m = movieme.train_als(r, rank=4, iterations=3, n_threads=1,
                          progress=lambda p: None)
    m.top_n(1, 5)
    m.similar_movies(1, 5)
    m.recommend_for_ratings({1: 4.0}, 5)
    m.predict(1, 2)
    c = m.copy()
    c.add_user({1: 5.0})
    c.user_factors(1)
    c.movie_factors(1)
    c.movie(1)
    list(c.movies())
    train, test = r.split(0.3, 1)
    m.evaluate(test)
    r.count_avg()
    r.best_movies(3, min_count=0)
    r.user_ratings(1)
    r.copy().set_movie(1, "T (2000)", ["A", "B"])
    m.save(model_path)
    movieme.load_model(model_path)
    # numpy in and out, and its error paths
    arrays = r.to_arrays()
    r2 = movieme.Ratings.from_arrays(*arrays)
    m.predict(arrays[0][:50], arrays[1][:50])
    m.predict(1, [1, 2, 999])
    m.user_factors_matrix()
    m.top_n_many([1, 2, 3], 4)
    try:
        m.top_n_many([1, 99999], 4)
        raise AssertionError("no error")
    except movieme.NotFoundError:
        pass
    m.movie_factors_matrix()
    for call in (lambda: movieme.Ratings.from_arrays([1, 2], [1], [1, 2]),
                 lambda: movieme.Ratings.from_arrays([1], [1], [float("nan")]),
                 lambda: movieme.Ratings.from_arrays([-1], [1], [1]),
                 lambda: movieme.Ratings.from_arrays([1.5], [1], [1]),
                 lambda: m.predict([1, 2], [1.5, 2])):
        try:
            call()
            raise AssertionError("no error")
        except movieme.Error:
            pass
    try:
        movieme.Ratings.from_arrays(["a"], [1], [1])
        raise AssertionError("no error")
    except TypeError:
        pass
    del arrays, r2
    # models as bytes and pickles, datasets as pickles
    import pickle
    blob = m.to_bytes()
    movieme.Model.from_bytes(blob)
    pickle.loads(pickle.dumps(m))
    pickle.loads(pickle.dumps(r))
    for bad in (blob[:-3], b"not a model"):
        try:
            movieme.Model.from_bytes(bad)
            raise AssertionError("no error")
        except movieme.FormatError:
            pass
    del blob
    for call in (lambda: m.top_n(999),
                 lambda: r.add([(1, 1, float("nan"))]),
                 lambda: r.add([(1, 2 ** 40, 1.0)]),
                 lambda: movieme.load_movielens("/nonexistent"),
                 lambda: movieme.load_model("/nonexistent"),
                 lambda: movieme.train_als(r, rank=2, iterations=3,
                                           n_threads=1,
                                           progress=lambda p: False),
                 lambda: movieme.train_als(r, rank=0)):
        try:
            call()
            raise AssertionError("no error")
        except movieme.Error:
            pass
    for bad in (lambda: r.add([(1, "x", 1.0)]), lambda: r.add(5),
                lambda: movieme.train_als(r, rank=2, iterations=3,
                                          n_threads=1,
                                          progress=lambda p: 1 / 0)):
        try:
            bad()
            raise AssertionError("no error")
        except (TypeError, ZeroDivisionError):
            pass
    del r, m, c, train, test
gc.collect()
os.remove(model_path)
tmp_dir.cleanup()
print("valgrind smoke: ok")
