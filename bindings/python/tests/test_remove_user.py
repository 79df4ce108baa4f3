"""Model.remove_user: forget a trained or added user; re-adding starts afresh."""
import threading

import pytest

import movieme

from conftest import make_tiny


@pytest.fixture
def model():
    r, _ = make_tiny()
    return movieme.train_als(r, rank=3, iterations=3, seed=1, n_threads=1)


def test_remove_trained_user(model):
    n = model.n_users
    other = model.top_n(2, n=20)
    assert 1 in model
    model.remove_user(1)
    assert 1 not in model and model.n_users == n - 1
    with pytest.raises(movieme.NotFoundError):
        model.top_n(1)
    with pytest.raises(movieme.NotFoundError):
        model.user_factors(1)
    assert model.predict(1, 3) == model.predict(999, 3)   # biases only
    assert model.top_n(2, n=20) == other                  # others unchanged


def test_readd_starts_afresh(model):
    model.add_user({1: 5.0, 2: 4.0, 3: 1.0}, user_id=500)
    model.remove_user(500)
    assert 500 not in model
    assert model.add_user({1: 5.0, 2: 4.0}, user_id=500) == 500
    got = model.top_n(500, n=30)
    # rated movies 1 and 2 only: movie 3 is a candidate again
    assert {r.movie_id for r in got} == set(range(3, 21))
    assert got == model.recommend_for_ratings({1: 5.0, 2: 4.0}, n=30)


def test_saved_model_after_removal(model, tmp_path):
    model.add_user({4: 5.0}, user_id=77)
    model.remove_user(3)
    path = tmp_path / "m.bin"
    model.save(path)
    loaded = movieme.load_model(path)
    assert 3 not in loaded and 77 in loaded
    assert loaded.n_users == model.n_users
    assert loaded.top_n(77, 5) == model.top_n(77, 5)


def test_errors(model):
    with pytest.raises(movieme.NotFoundError) as exc:
        model.remove_user(12345)
    assert "12345" in str(exc.value)
    assert isinstance(exc.value, KeyError)
    model.remove_user(5)
    with pytest.raises(movieme.NotFoundError):
        model.remove_user(5)
    with pytest.raises(movieme.InvalidArgumentError):
        model.remove_user(2 ** 40)
    with pytest.raises(TypeError):
        model.remove_user("5")
    model.close()
    with pytest.raises(movieme.InvalidArgumentError):
        model.remove_user(6)


def test_concurrent_readers_and_refolds(model):
    """Remove + add of one id in a thread while others read: the write lock
    keeps every call whole (readers see the user or NotFoundError)."""
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            try:
                model.top_n(600, 5)
            except movieme.NotFoundError:
                pass
            except Exception as exc:   # pragma: no cover - a failure
                errors.append(exc)
            model.top_n(2, 5)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(300):
        if 600 in model:
            model.remove_user(600)
        model.add_user({1 + i % 20: 5.0, 2: 3.0}, user_id=600)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert model.top_n(600, 30) == model.recommend_for_ratings(
        {1 + 299 % 20: 5.0, 2: 3.0}, n=30)
