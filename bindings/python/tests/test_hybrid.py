"""The 0.2 ranking API in Python (issue 15): the hybrid default model, the
predicted `rating` of every recommendation, the v3 training parameters,
candidate control (min_count, genre, allow, deny, include_rated), cold
start and explanations."""
import math

import pytest

import movieme
from conftest import make_tiny


@pytest.fixture(scope="module")
def tiny_model():
    r, rows = make_tiny(n_users=40, n_movies=30, per_user=10, seed=3)
    return movieme.train_als(r, rank=4, iterations=8, seed=1,
                             n_threads=1), rows


def rated_by(rows, user):
    return {m: v for u, m, v in rows if u == user}


def test_default_model_is_hybrid_and_others_are_not(tiny):
    assert movieme.train_als(tiny, rank=3, iterations=3).hybrid
    explicit = movieme.train_als(tiny, rank=3, iterations=3, preference=False)
    assert not explicit.hybrid and not explicit.implicit
    implicit = movieme.train_als(tiny, rank=3, iterations=3, implicit=True)
    assert implicit.implicit and not implicit.hybrid


def test_rating_is_the_clamped_prediction(tiny_model):
    model, rows = tiny_model
    lo, hi = min(v for *_, v in rows), max(v for *_, v in rows)
    for user in (1, 2, 3):
        recs = model.top_n(user, 30)
        assert recs, "every user has unrated movies"
        for r in recs:
            assert lo <= r.rating <= hi
            assert r.rating == pytest.approx(model.predict(user, r.movie_id),
                                             abs=1e-5)
        scores = [r.score for r in recs]
        assert scores == sorted(scores, reverse=True)


def test_ml_ratings_stay_on_the_star_scale(ml_model):
    for user in (1, 2, 3, 414):
        for r in ml_model.top_n(user, 20):
            assert 0.5 <= r.rating <= 5.0
    for r in ml_model.recommend_for_ratings({1: 5.0, 260: 5.0}, n=20):
        assert 0.5 <= r.rating <= 5.0


def test_v3_training_parameters_take_effect(tiny):
    base = dict(rank=4, iterations=5, seed=2, n_threads=1)
    a = movieme.train_als(tiny, **base)
    b = movieme.train_als(tiny, blend=3.0, **base)
    c = movieme.train_als(tiny, weighting="none", **base)
    e = movieme.train_als(tiny, preference_confidence="linear", **base)
    assert ([r.score for r in e.top_n(1, 5)]
            != [r.score for r in a.top_n(1, 5)])
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(tiny, preference_confidence="log", **base)
    d = movieme.train_als(tiny, preference_rank=2, preference_reg=1.0,
                          preference_alpha=5.0, preference_iterations=2,
                          blend_shrink=0.0, bias_prior=0.0, bm25_k1=10.0,
                          bm25_b=0.5, **base)
    top = [[r.score for r in m.top_n(1, 5)] for m in (a, b, c, d)]
    assert top[0] != top[1] and top[0] != top[2] and top[0] != top[3]
    # the same parameters give the same model
    again = movieme.train_als(tiny, blend=3.0, **base)
    assert [r.score for r in again.top_n(1, 5)] == top[1]


def test_preference_reg_auto(tiny):
    base = dict(rank=4, iterations=3, seed=2, n_threads=1)
    a = movieme.train_als(tiny, **base)
    assert a.preference_reg > 0          # derived from the data
    b = movieme.train_als(tiny, preference_reg="auto", **base)
    assert b.preference_reg == a.preference_reg
    assert [r.score for r in b.top_n(1, 5)] == [r.score for r in a.top_n(1, 5)]
    c = movieme.train_als(tiny, preference_reg=2.5, **base)
    assert c.preference_reg == 2.5
    assert movieme.train_als(tiny, preference=False, **base).preference_reg == 0
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(tiny, preference_reg=-2.0, **base)


def test_bias_prior_shrinks_predictions_toward_the_mean(tiny):
    base = dict(rank=2, iterations=5, seed=2, n_threads=1, preference=False)
    loose = movieme.train_als(tiny, bias_prior=0.0, **base)
    tight = movieme.train_als(tiny, bias_prior=1000.0, **base)
    spread = [abs(loose.movie_factors(m)[1]) for m in range(1, 21)]
    shrunk = [abs(tight.movie_factors(m)[1]) for m in range(1, 21)]
    assert sum(shrunk) < sum(spread)


@pytest.mark.parametrize("kwargs, error", [
    ({"weighting": "tfidf"}, movieme.InvalidArgumentError),
    ({"weighting": 3}, movieme.InvalidArgumentError),
    ({"blend": -1.0}, movieme.InvalidArgumentError),
    ({"preference_rank": -2}, movieme.InvalidArgumentError),
    ({"bm25_b": 2.0}, movieme.InvalidArgumentError),
    ({"blend": "much"}, TypeError),
])
def test_bad_v3_parameters_raise(tiny, kwargs, error):
    with pytest.raises(error):
        movieme.train_als(tiny, rank=2, iterations=2, **kwargs)


def test_min_count_and_genre(ml_model):
    recs = ml_model.top_n(1, 30, min_count=50)
    assert len(recs) == 30
    assert all(ml_model.movie(r.movie_id).n_ratings >= 50 for r in recs)
    horror = ml_model.top_n(1, 20, genre="horror")
    assert len(horror) == 20
    assert all("Horror" in ml_model.movie(r.movie_id).genres for r in horror)
    assert ml_model.top_n(1, 10, genre="No Such Genre") == []
    both = ml_model.recommend_for_ratings({1: 5.0, 2: 4.0}, 10,
                                          min_count=100, genre="Comedy")
    assert both and all(
        ml_model.movie(r.movie_id).n_ratings >= 100 and
        "Comedy" in ml_model.movie(r.movie_id).genres for r in both)


def test_allow_deny_include_rated(tiny_model):
    model, rows = tiny_model
    mine = rated_by(rows, 1)
    assert not {r.movie_id for r in model.top_n(1, 30)} & set(mine)
    with_rated = {r.movie_id for r in model.top_n(1, 30, include_rated=True)}
    assert set(mine) <= with_rated
    allow = [m for m in range(1, 31) if m not in mine][:4] + [99999]
    got = [r.movie_id for r in model.top_n(1, 30, allow=allow)]
    assert sorted(got) == sorted(allow[:4])  # unknown ids are ignored
    full = [r.movie_id for r in model.top_n(1, 30)]
    deny = full[:3]
    left = [r.movie_id for r in model.top_n(1, 30, deny=deny)]
    assert left == full[3:]
    # numpy arrays and tuples serve as lists
    np = pytest.importorskip("numpy")
    assert [r.movie_id for r in model.top_n(1, 30, deny=np.array(deny))] \
        == left
    assert [r.movie_id for r in model.top_n(1, 30, allow=tuple(allow))] == got


def test_a_movie_nobody_rated_only_when_allowed(tiny):
    tiny.set_movie(500, "Unseen (2020)", "Drama")
    model = movieme.train_als(tiny, rank=3, iterations=3)
    assert 500 not in {r.movie_id for r in model.top_n(1, 100)}
    assert [r.movie_id for r in model.top_n(1, 5, allow=[500])] == [500]


@pytest.mark.parametrize("kwargs, error", [
    ({"min_count": -1}, movieme.InvalidArgumentError),
    ({"min_count": 2 ** 40}, movieme.InvalidArgumentError),
    ({"min_count": "5"}, TypeError),
    ({"genre": 5}, TypeError),
    ({"allow": "12"}, TypeError),
    ({"allow": 12}, TypeError),
    ({"deny": [1, "x"]}, TypeError),
    ({"deny": [2 ** 40]}, movieme.InvalidArgumentError),
])
def test_bad_options_raise(tiny_model, kwargs, error):
    model, _ = tiny_model
    with pytest.raises(error):
        model.top_n(1, 5, **kwargs)
    with pytest.raises(error):
        model.recommend_for_ratings({1: 4.0}, 5, **kwargs)


def test_top_n_many_honours_the_options(tiny_model):
    model, _ = tiny_model
    ids, scores = model.top_n_many([1, 2, 3], 6, genre="Action",
                                   deny=[2, 4])
    for i, user in enumerate((1, 2, 3)):
        one = model.top_n(user, 6, genre="Action", deny=[2, 4])
        assert [int(m) for m in ids[i][:len(one)]] == [r.movie_id for r in one]
        assert one and all(r.movie_id % 2 == 0 and r.movie_id not in (2, 4)
                           for r in one)


def test_similar_movies_options(ml_model):
    sims = ml_model.similar_movies(1, 10, min_count=30, genre="Animation")
    assert len(sims) == 10 and 1 not in {r.movie_id for r in sims}
    for r in sims:
        mv = ml_model.movie(r.movie_id)
        assert mv.n_ratings >= 30 and "Animation" in mv.genres
        assert 0.5 <= r.rating <= 5.0
    first = sims[0].movie_id
    assert first not in {r.movie_id for r in ml_model.similar_movies(
        1, 10, min_count=30, genre="Animation", deny=[first])}


def test_cold_start_is_the_bayesian_list_not_id_order(ml_model, ml):
    cold = ml_model.recommend_for_ratings({}, 10)
    assert len(cold) == 10
    ids = [r.movie_id for r in cold]
    assert ids != sorted(ids)
    scores = [r.score for r in cold]
    assert scores == sorted(scores, reverse=True)
    # ratings the model cannot use are the same as none
    assert ml_model.recommend_for_ratings({10 ** 8: 5.0}, 10) == cold
    # the list is the Bayesian average (prior 10 ratings at the mean)
    g = ml_model.global_mean
    for r in cold:
        mv = ml_model.movie(r.movie_id)
        bayes = (10 * g + mv.mean_rating * mv.n_ratings) / (10 + mv.n_ratings)
        assert r.score == pytest.approx(bayes, abs=2e-3)
    drama = ml_model.recommend_for_ratings({}, 5, genre="Drama",
                                           min_count=100)
    assert len(drama) == 5 and all(
        "Drama" in ml_model.movie(r.movie_id).genres and
        ml_model.movie(r.movie_id).n_ratings >= 100 for r in drama)


def test_explanations_sum_to_the_score(tiny_model):
    model, rows = tiny_model
    mine = rated_by(rows, 5)
    rec = model.top_n(5, 1)[0]
    x = model.explain(5, rec.movie_id, n=100)
    assert len(x.reasons) == len(mine)
    assert {r.movie_id for r in x.reasons} == set(mine)
    assert x.score == pytest.approx(x.base + sum(r.weight for r in x.reasons),
                                    abs=1e-3)
    assert x.score == pytest.approx(rec.score, abs=0.05)
    weights = [r.weight for r in x.reasons]
    assert weights == sorted(weights, reverse=True)
    assert sum(abs(r.share) for r in x.reasons) == pytest.approx(1.0, abs=1e-4)
    assert all(r.title.startswith("Movie ") for r in x.reasons)
    top2 = model.explain(5, rec.movie_id, n=2)
    assert top2.reasons == x.reasons[:2] and top2.score == x.score


def test_explain_for_ratings_matches_the_fold_in(ml_model):
    ratings = {1: 5.0, 260: 5.0, 1196: 4.5, 2571: 4.0, 344: 1.0}
    recs = ml_model.recommend_for_ratings(ratings, 3)
    for rec in recs:
        x = ml_model.explain_for_ratings(ratings, rec.movie_id, n=10)
        assert x.score == pytest.approx(rec.score, abs=1e-3)
        assert x.score == pytest.approx(
            x.base + sum(r.weight for r in x.reasons), abs=1e-3)
        assert {r.movie_id for r in x.reasons} == set(ratings)
        assert x.reasons[0].weight > 0


def test_explain_errors(tiny_model):
    model, _ = tiny_model
    with pytest.raises(movieme.NotFoundError):
        model.explain(12345, 1)
    with pytest.raises(movieme.NotFoundError):
        model.explain(1, 12345)
    with pytest.raises(movieme.NotFoundError):
        model.explain_for_ratings({1: 4.0}, 12345)
    with pytest.raises(movieme.InvalidArgumentError):
        model.explain(1, 1, n=-1)
    with pytest.raises(TypeError):
        model.explain_for_ratings(5, 1)
    assert model.explain(1, 2, n=0).reasons == []


def test_hybrid_survives_bytes_and_files(tiny_model, tmp_path):
    model, _ = tiny_model
    back = movieme.Model.from_bytes(model.to_bytes())
    assert back.hybrid
    assert back.top_n(1, 5) == model.top_n(1, 5)
    model.save(tmp_path / "m.bin")
    loaded = movieme.load_model(tmp_path / "m.bin")
    assert loaded.hybrid
    assert loaded.explain(1, model.top_n(1, 1)[0].movie_id) == \
        model.explain(1, model.top_n(1, 1)[0].movie_id)
    assert not math.isnan(loaded.top_n(1, 1)[0].rating)
