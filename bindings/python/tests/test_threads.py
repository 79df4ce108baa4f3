"""Thread safety: readers on a model while another thread trains and swaps
it; add_user under concurrent readers; dataset writes under readers."""
import threading

import pytest

import movieme


def _check_recs(recs, n):
    assert len(recs) == n
    keys = [(-r.score, r.movie_id) for r in recs]
    assert keys == sorted(keys)
    assert all(isinstance(r.title, str) for r in recs)


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a thread hung (deadlock?)"


def test_readers_while_training_and_swapping(ml, ml_model):
    """Several threads serve top_n/predict/similar from the current model
    while another thread retrains and swaps it under a lock, the way the
    demo site does."""
    lock = threading.Lock()
    current = {"model": ml_model, "swaps": 0}
    stop = threading.Event()
    errors = []
    served = [0] * 4

    def reader(i):
        try:
            while not stop.is_set():
                with lock:
                    model = current["model"]
                user = 1 + (served[i] * 7 + i) % 610
                _check_recs(model.top_n(user, 10), 10)
                assert 0.5 <= model.predict(user, 1) <= 5.0
                _check_recs(model.similar_movies(1, 5), 5)
                _check_recs(model.recommend_for_ratings({1: 5.0, 50: 4.0}, 5), 5)
                served[i] += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def trainer():
        try:
            for seed in range(3):
                model = movieme.train_als(ml, rank=8, iterations=4,
                                          seed=seed, n_threads=2)
                with lock:
                    current["model"] = model
                    current["swaps"] += 1
        except Exception as e:  # pragma: no cover
            errors.append(e)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=trainer))
    _run(threads)
    assert not errors, errors
    assert current["swaps"] == 3
    assert all(n > 0 for n in served), served


def test_add_user_under_concurrent_readers(ml_model):
    model = ml_model.copy()
    before = model.n_users
    stop = threading.Event()
    errors = []
    counts = []

    def reader(i):
        n = 0
        try:
            while not stop.is_set():
                _check_recs(model.top_n(1 + i, 10), 10)
                model.recommend_for_ratings({260: 5.0}, 3)
                model.movie(1)
                _ = model.n_users
                n += 1
        except Exception as e:  # pragma: no cover
            errors.append(e)
        counts.append(n)

    added = []

    def writer():
        try:
            for k in range(150):
                uid = model.add_user({1: 5.0, 260 + k % 5: 4.0,
                                      1196: 1.0 + k % 5})
                added.append(uid)
                _check_recs(model.top_n(uid, 5), 5)
        except Exception as e:  # pragma: no cover
            errors.append(e)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=writer))
    _run(threads)
    assert not errors, errors
    assert len(set(added)) == 150
    assert model.n_users == before + 150
    assert all(uid in model for uid in added)
    assert all(c > 0 for c in counts), counts


def test_concurrent_writers_on_one_model(tiny_model):
    """add_user from several threads at once is serialised by the lock."""
    errors = []

    def writer(base):
        try:
            for k in range(50):
                tiny_model.add_user({1 + k % 20: 4.0}, base + k)
        except Exception as e:  # pragma: no cover
            errors.append(e)

    n0 = tiny_model.n_users
    _run([threading.Thread(target=writer, args=(1000 * (i + 1),))
          for i in range(4)])
    assert not errors, errors
    assert tiny_model.n_users == n0 + 200


def test_dataset_writes_under_readers(tiny):
    stop = threading.Event()
    errors = []

    def reader():
        try:
            while not stop.is_set():
                ids = [s.movie_id for s in tiny.count_avg()]
                assert ids == sorted(ids) and len(ids) >= 20
                tiny.best_movies(5, min_count=0)
                list(tiny.movies())
        except Exception as e:  # pragma: no cover
            errors.append(e)

    def writer():
        try:
            for k in range(100):
                tiny.add([(100 + k, 1 + k % 20, 4.0)])
                tiny.set_movie(1000 + k, "New %d (2000)" % k, "Drama")
        except Exception as e:  # pragma: no cover
            errors.append(e)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    threads.append(threading.Thread(target=writer))
    _run(threads)
    assert not errors, errors
    assert tiny.n_users == 130
    assert tiny.n_movies == 120


def test_train_while_dataset_is_written(tiny):
    """Training holds the dataset's read lock: a concurrent add waits and
    both succeed."""
    errors = []
    models = []

    def train():
        try:
            for _ in range(5):
                models.append(movieme.train_als(tiny, rank=3, iterations=3))
        except Exception as e:  # pragma: no cover
            errors.append(e)

    def add():
        try:
            for k in range(50):
                tiny.add([(500 + k, 1, 3.0)])
        except Exception as e:  # pragma: no cover
            errors.append(e)

    _run([threading.Thread(target=train), threading.Thread(target=add)])
    assert not errors, errors
    assert len(models) == 5
    assert tiny.n_users == 80


@pytest.mark.parametrize("n_threads", [8])
def test_many_threads_share_one_model(ml_model, n_threads):
    expected = {u: ml_model.top_n(u, 10) for u in range(1, 41)}
    errors = []

    def worker(i):
        try:
            for _ in range(5):
                for u in range(1, 41):
                    assert ml_model.top_n(u, 10) == expected[u]
        except Exception as e:  # pragma: no cover
            errors.append(e)

    _run([threading.Thread(target=worker, args=(i,)) for i in range(n_threads)])
    assert not errors, errors
