"""Ownership and lifetime: objects outlive what they came from, and
creating/dropping thousands of objects (and error paths) does not leak."""
import gc
import os
import weakref

import pytest

import movieme
from conftest import make_tiny


def rss_kb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def growth_kb(fn, warmup, rounds):
    """RSS growth over `rounds` calls of fn, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    gc.collect()
    before = rss_kb()
    for _ in range(rounds):
        fn()
    gc.collect()
    return rss_kb() - before


# ---- lifetimes ---------------------------------------------------------------

def test_model_outlives_its_ratings():
    ratings = make_tiny()[0]
    model = movieme.train_als(ratings, rank=3, iterations=3)
    expected = model.top_n(1, 5)
    ref = weakref.ref(ratings)
    del ratings
    gc.collect()
    assert ref() is None
    assert model.top_n(1, 5) == expected
    assert model.movie(1).title == "Movie 1 (1981)"


def test_split_halves_outlive_the_parent():
    ratings = make_tiny()[0]
    train, test = ratings.split(0.3, seed=1)
    n = len(train) + len(test)
    del ratings
    gc.collect()
    assert len(train) + len(test) == n
    assert test.movie(2).genres == ("Action",)


def test_copy_outlives_original(tiny_model):
    c = tiny_model.copy()
    tiny_model.close()
    assert c.top_n(1, 3)


def test_records_are_copies(tiny):
    movie = tiny.movie(3)
    tiny.set_movie(3, "Renamed")
    assert movie.title == "Movie 3 (1983)"
    model = movieme.train_als(tiny, rank=2, iterations=2)
    recs = model.top_n(1, 3)
    del model
    gc.collect()
    assert all(isinstance(r.title, str) for r in recs)


def test_model_loaded_file_can_be_removed(tmp_path, tiny_model):
    path = tmp_path / "m.bin"
    tiny_model.save(path)
    loaded = movieme.load_model(path)
    path.unlink()
    assert loaded.top_n(1, 3) == tiny_model.top_n(1, 3)


def test_close_twice_and_gc_after_close(tiny):
    tiny.close()
    tiny.close()
    assert tiny.closed
    del tiny
    gc.collect()


# ---- leaks ----------------------------------------------------------------------

def test_thousands_of_datasets_do_not_leak():
    rows = make_tiny(n_users=50, n_movies=40, per_user=20)[1]

    def once():
        r = movieme.Ratings()
        r.add(rows)
        r.set_movie(1, "A title (2000)", ["A", "B"])
        c = r.copy()
        train, test = c.split(0.2, seed=1)
        c.user_ratings(1)
        c.count_avg()
        c.best_movies(5, min_count=0)
        list(c.movies())
        del r, c, train, test

    assert growth_kb(once, 200, 3000) < 4096


def test_thousands_of_models_do_not_leak(tmp_path):
    ratings = make_tiny(n_users=60, n_movies=50, per_user=15)[0]
    model = movieme.train_als(ratings, rank=8, iterations=2)
    path = tmp_path / "m.bin"
    model.save(path)

    def once():
        m = model.copy()
        m.add_user({1: 5.0, 2: 4.0})
        m.top_n(1, 20)
        m.similar_movies(1, 20)
        m.recommend_for_ratings({3: 4.0}, 20)
        m.user_factors(1)
        m.movie_factors(1)
        m.movie(1)
        list(m.movies())
        loaded = movieme.load_model(path)
        loaded.predict(1, 1)
        del m, loaded

    assert growth_kb(once, 200, 3000) < 4096


def test_training_does_not_leak():
    ratings = make_tiny()[0]

    def once():
        movieme.train_als(ratings, rank=4, iterations=2, n_threads=1,
                          progress=lambda p: None)

    assert growth_kb(once, 50, 1000) < 4096


def test_error_paths_do_not_leak(tmp_path, tiny, tiny_model):
    missing = str(tmp_path / "missing")

    def once():
        for call in (lambda: tiny_model.top_n(999, 50),
                     lambda: tiny.user_ratings(999),
                     lambda: tiny.movie(999),
                     lambda: tiny.add([(1, 1, 2.0), (1, 2, float("nan"))]),
                     lambda: tiny_model.add_user({1: float("nan")}),
                     lambda: movieme.load_movielens(missing),
                     lambda: movieme.load_model(missing),
                     lambda: movieme.train_als(tiny, rank=0),
                     lambda: movieme.train_als(tiny, rank=2, iterations=3,
                                               n_threads=1,
                                               progress=lambda p: False)):
            with pytest.raises(movieme.Error):
                call()

    assert growth_kb(once, 100, 1500) < 4096


def test_large_results_do_not_leak(ml_model):
    """Many long result lists with titles: a leaked title per result would
    show as tens of MB here."""

    def once():
        ml_model.top_n(1, 200)
        ml_model.similar_movies(1, 200)

    assert growth_kb(once, 50, 1500) < 4096
