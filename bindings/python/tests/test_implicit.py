"""Implicit-feedback ALS and the ranking evaluation through the binding."""
import pytest

import movieme

from conftest import make_tiny


@pytest.fixture(scope="module")
def split(ml):
    return ml.split_per_user(5, seed=1)


def test_implicit_beats_popularity(split):
    train, test = split
    model = movieme.train_als(train, implicit=True, alpha=1.0, iterations=12,
                              n_threads=2)
    assert model.implicit
    ev = model.evaluate(test, k=10)
    pop = movieme.evaluate_popularity(train, test, k=10)
    assert isinstance(ev, movieme.EvalResult)
    assert ev.n_users_ranked == pop.n_users_ranked > 500
    assert ev.ndcg_at_k > 1.5 * pop.ndcg_at_k
    assert ev.auc > pop.auc > 0.5


def test_split_per_user(ml):
    train, test = ml.split_per_user(3, seed=9)
    assert len(train) + len(test) == len(ml)
    assert len(test) % 3 == 0
    assert len(test) == 3 * test.n_users
    again = ml.split_per_user(3, seed=9)[1]
    assert again.user_ratings(1) == test.user_ratings(1)


def test_options_and_preferences():
    r, _ = make_tiny()
    m = movieme.train_als(r, implicit=True, rank=4, solver="cholesky",
                          min_rating=3.0, weight_by_value=True, alpha=2.0,
                          n_threads=1)
    cg = movieme.train_als(r, implicit=True, rank=4, solver="cg", cg_steps=5,
                           n_threads=1)
    assert m.implicit and cg.implicit
    assert not movieme.train_als(r, rank=4).implicit
    assert m.global_mean == 0.0
    top = m.top_n(1, 3)
    assert top[0].score == pytest.approx(m.predict(1, top[0].movie_id))
    recs = m.recommend_for_ratings({1: 5.0, 2: 4.0}, 3)
    assert len(recs) == 3


def test_model_file_keeps_mode(tmp_path):
    r, _ = make_tiny()
    m = movieme.train_als(r, implicit=True, rank=3, n_threads=1)
    p = tmp_path / "imp.model"
    m.save(p)
    l = movieme.load_model(p)
    assert l.implicit
    assert l.recommend_for_ratings({3: 4.0}, 5) == \
        m.recommend_for_ratings({3: 4.0}, 5)


def test_errors():
    r, _ = make_tiny()
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(r, implicit=True, solver="qr")
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(r, implicit=True, alpha=-1.0)
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(r, implicit=True, cg_steps=0)
    with pytest.raises(movieme.InvalidArgumentError):
        r.split_per_user(0)
    with pytest.raises(TypeError):
        movieme.evaluate_popularity(r, None)
