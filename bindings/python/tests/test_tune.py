"""movieme.tune_als: the table as records, the best parameters ready for
train_als, progress and cancel, bad options."""
import threading

import pytest

import movieme


def test_tune_records_and_best(ml):
    seen = []
    t = movieme.tune_als(ml, rank=8, iterations=6, n_threads=2,
                         regs=[0.05, 0.2, 0.1], progress=seen.append,
                         auto_blend=False)
    assert isinstance(t, movieme.TuneResult)
    # walked strong to weak, every point reported, to progress too
    assert [p["reg"] for p in t.points] == [0.2, 0.1, 0.05][:len(t.points)]
    assert [p["reg"] for p in seen] == [p["reg"] for p in t.points]
    assert t.points[0]["warm"] is False and t.points[0]["iterations"] == 6
    best = t.points[t.best_index]
    assert t.rmse == best["rmse"] == min(p["rmse"] for p in t.points)
    assert t.metric == t.rmse and 0.0 <= t.ndcg <= 1.0
    assert all(p["ndcg"] == -1.0 for p in t.points)
    assert t.best["reg"] == best["reg"] and t.best["rank"] == 8
    assert t.best["iterations"] == 6 and t.best["n_threads"] == 2
    model = movieme.train_als(ml, **t.best)
    assert model.rank == 8


def test_tune_ndcg_folds_and_grid(ml):
    t = movieme.tune_als(ml, rank=4, iterations=4, n_threads=2,
                         metric="ndcg", validation="folds", folds=2,
                         regs=[0.3, 0.1], ranks=[2, 4], path_patience=0)
    assert [(p["rank"], p["reg"]) for p in t.points] == [
        (2, 0.3), (2, 0.1), (4, 0.3), (4, 0.1)]
    assert all(p["metric"] == p["ndcg"] >= 0 for p in t.points)
    assert t.metric == max(p["ndcg"] for p in t.points)


def test_tune_implicit_alpha(ml):
    t = movieme.tune_als(ml, implicit=True, rank=4, iterations=3,
                         n_threads=2, metric="ndcg", validation="per_user",
                         leave_out=2, regs=[1.0], alphas=[1.0, 8.0])
    assert [p["alpha"] for p in t.points] == [1.0, 8.0]
    assert t.best["implicit"] is True and t.best["alpha"] in (1.0, 8.0)


def test_tune_same_result_any_thread_count(ml):
    a = movieme.tune_als(ml, rank=6, iterations=5, n_threads=1,
                         regs=[0.2, 0.1])
    b = movieme.tune_als(ml, rank=6, iterations=5, n_threads=2,
                         regs=[0.2, 0.1])
    assert [p["metric"] for p in a.points] == [p["metric"] for p in b.points]
    assert a.best["reg"] == b.best["reg"] and a.ndcg == b.ndcg


def test_tune_cancel_and_raise(ml):
    with pytest.raises(movieme.CancelledError):
        movieme.tune_als(ml, rank=4, iterations=3, regs=[0.2, 0.1],
                         progress=lambda p: False)

    class Boom(Exception):
        pass

    def boom(p):
        raise Boom()

    with pytest.raises(Boom):
        movieme.tune_als(ml, rank=4, iterations=3, regs=[0.2, 0.1],
                         progress=boom)


@pytest.mark.parametrize("kwargs,needle", [
    ({"validation": "folds", "folds": 1}, "folds"),
    ({"fraction": 1.5}, "fraction"),
    ({"regs": [0.1, -1.0]}, "regs[1]"),
    ({"ranks": [0]}, "ranks[0]"),
    ({"alphas": [1.0]}, "implicit"),
    ({"implicit": True}, "NDCG"),
    ({"early_stop": -1}, "early_stop"),
])
def test_tune_bad_options(ml, kwargs, needle):
    with pytest.raises(movieme.InvalidArgumentError) as e:
        movieme.tune_als(ml, **kwargs)
    assert needle in str(e.value)


def test_tune_bad_python_arguments(ml):
    with pytest.raises(ValueError):
        movieme.tune_als(ml, metric="mae")
    with pytest.raises(ValueError):
        movieme.tune_als(ml, validation="kfold")
    with pytest.raises(TypeError):
        movieme.tune_als(ml, lambda_=0.1)
    with pytest.raises(TypeError):
        movieme.tune_als([(1, 2, 3.0)])
    with pytest.raises(TypeError):
        movieme.tune_als(ml, regs=0.1)


def test_tune_releases_the_gil(ml):
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.005)

    th = threading.Thread(target=ticker)
    th.start()
    try:
        movieme.tune_als(ml, rank=16, iterations=8, regs=[0.2, 0.1])
    finally:
        stop.set()
        th.join()
    assert len(ticks) > 5


# ---- the hybrid model: bias prior, preference model, blend (issue 11) ----

def test_tune_hybrid_rmse_then_blend(ml):
    t = movieme.tune_als(ml, rank=6, iterations=5, n_threads=2,
                         regs=[0.2, 0.1], bias_priors=[0.5, 4.0],
                         blends=[0.0, 0.4, 2.0], path_patience=0)
    search, ranked = t.points[:-3], t.points[-3:]
    assert [(p["bias_prior"], p["reg"]) for p in search] == [
        (0.5, 0.2), (0.5, 0.1), (4.0, 0.2), (4.0, 0.1)]
    assert all(p["ndcg"] == -1.0 and not p["reranked"] for p in search)
    best_rmse = min(search, key=lambda p: p["rmse"])
    assert [p["blend"] for p in ranked] == [0.0, 0.4, 2.0]
    for p in ranked:
        assert p["reranked"] and p["rmse"] == best_rmse["rmse"]
        assert (p["reg"], p["bias_prior"]) == (best_rmse["reg"],
                                               best_rmse["bias_prior"])
    assert t.ndcg == max(p["ndcg"] for p in ranked)
    assert t.points[t.best_index]["ndcg"] == t.ndcg
    best = t.best
    assert best["preference"] is True and best["weighting"] == "bm25"
    assert best["preference_confidence"] == "scaled"  # the default
    assert (best["reg"], best["bias_prior"], best["blend"]) == (
        best_rmse["reg"], best_rmse["bias_prior"],
        t.points[t.best_index]["blend"])
    model = movieme.train_als(ml, **best)
    assert model.hybrid


def test_tune_ndcg_ranks_as_top_n(ml):
    # a cold point's figure is the nDCG of the model train_als trains on
    # the same split, ranked by top_n (here: at every blend_shrink)
    t = movieme.tune_als(ml, rank=4, iterations=4, n_threads=2,
                         metric="ndcg", regs=[0.1],
                         preference_alphas=[0.3, 2.0],
                         blend_shrinks=[0.0, 50.0])
    assert [(p["preference_alpha"], p["blend_shrink"], p["reranked"])
            for p in t.points] == [(0.3, 0.0, False), (0.3, 50.0, True),
                                   (2.0, 0.0, False), (2.0, 50.0, True)]
    train, val = ml.split(0.1, 1)   # the tuner's split (fraction, split seed)
    for p in t.points:
        model = movieme.train_als(train, rank=4, iterations=4, n_threads=2,
                                  reg=p["reg"],
                                  preference_alpha=p["preference_alpha"],
                                  blend_shrink=p["blend_shrink"])
        assert p["ndcg"] == model.evaluate(val, k=10).ndcg_at_k
    assert t.metric == t.ndcg == max(p["ndcg"] for p in t.points)
    assert t.best["preference_alpha"] == t.points[t.best_index][
        "preference_alpha"]


def test_tune_keeps_the_base_confidence(ml):
    t = movieme.tune_als(ml, rank=4, iterations=3, n_threads=2, regs=[0.1],
                         preference_confidence="scaled", preference_alpha=2.0)
    assert t.best["preference_confidence"] == "scaled"
    assert t.best["preference_alpha"] == 2.0
    from movieme.estimator import ALSRecommender
    assert ALSRecommender(**t.best).preference_confidence == "scaled"


def test_tune_explicit_only_and_implicit_best(ml):
    t = movieme.tune_als(ml, rank=4, iterations=3, n_threads=2,
                         preference=False, regs=[0.1])
    assert t.best["preference"] is False
    assert not movieme.train_als(ml, **t.best).hybrid
    t = movieme.tune_als(ml, implicit=True, rank=4, iterations=3,
                         n_threads=2, metric="ndcg", regs=[1.0],
                         weighting="bm25")
    assert t.best["implicit"] is True and t.best["weighting"] == "bm25"
    assert movieme.train_als(ml, **t.best).implicit


def test_estimator_carries_the_hybrid_params(ml):
    from movieme.estimator import ALSRecommender
    t = movieme.tune_als(ml, rank=4, iterations=3, n_threads=2,
                         regs=[0.1], blends=[0.0, 1.0])
    est = ALSRecommender(**t.best)
    params = est.get_params()
    for key in ("bias_prior", "blend", "blend_shrink", "preference",
                "preference_reg", "preference_alpha", "weighting"):
        assert params[key] == t.best[key]
    users, movies, ratings = ml.to_arrays()
    import numpy as np
    X = np.stack([users, movies], axis=1)
    est.fit(X, ratings)
    # the same ratings (X holds no unrated movie: the preference model,
    # which predictions use through the fitted term, sees the same items)
    direct = movieme.train_als(
        movieme.Ratings.from_arrays(users, movies, ratings), **t.best)
    assert (est.predict(X[:50]) == direct.predict(users[:50],
                                                  movies[:50])).all()
    ids, _ = est.recommend([1], n=5)
    assert list(ids[0]) == [r.movie_id for r in direct.top_n(1, n=5)]
    est.set_params(blend=3.0, preference=False)
    assert est.get_params()["blend"] == 3.0
    with pytest.raises(ValueError):
        est.set_params(blend_weight=1.0)


@pytest.mark.parametrize("kwargs,needle", [
    ({"bias_priors": [-1.0]}, "bias_priors[0]"),
    ({"preference_regs": [1.0, 10.0]}, "NDCG"),
    ({"metric": "ndcg", "preference_alphas": [0.0]}, "preference_alphas[0]"),
    ({"blends": [0.4], "preference": False}, "hybrid"),
    ({"blend_shrinks": [float("nan")]}, "blend_shrinks[0]"),
    ({"bias_priors": [1.0], "implicit": True, "metric": "ndcg"},
     "bias_priors need"),
    ({"weighting": "tfidf"}, "weighting"),
])
def test_tune_bad_hybrid_options(ml, kwargs, needle):
    with pytest.raises(movieme.InvalidArgumentError) as e:
        movieme.tune_als(ml, rank=4, iterations=2, **kwargs)
    assert needle in str(e.value)


def test_tune_fits_the_rating_pref_term(ml):
    # every point of the hybrid fits the preference term on its validation
    # ratings; fit_rating_pref=False keeps it at 0 and scores worse on
    # ml-latest-small; train_als(**best) predicts with it
    args = dict(rank=8, iterations=6, n_threads=2, regs=[0.2, 0.1],
                path_patience=0)
    fit = movieme.tune_als(ml, **args)
    plain = movieme.tune_als(ml, fit_rating_pref=False, **args)
    for p, q in zip(fit.points, plain.points):
        assert p["rating_pref_weight"] > 0.1 and p["rating_pref_shift"] < 0
        assert q["rating_pref_weight"] == q["rating_pref_shift"] == 0.0
        assert p["rmse"] < q["rmse"] - 0.002
    best = fit.best
    assert (best["rating_pref_weight"], best["rating_pref_shift"]) == (
        fit.points[fit.best_index]["rating_pref_weight"],
        fit.points[fit.best_index]["rating_pref_shift"])
    train, test = ml.split(0.1, 42)
    with_term = movieme.train_als(train, **best)
    assert with_term.rating_pref == (best["rating_pref_weight"],
                                     best["rating_pref_shift"])
    without = movieme.train_als(train, **dict(best, rating_pref_weight=0.0,
                                              rating_pref_shift=0.0))
    assert without.rating_pref == (0.0, 0.0)
    assert (with_term.evaluate(test).rmse <
            without.evaluate(test).rmse - 0.002)
    # the ranking is the same, the ratings shown are predict()'s
    a, b = with_term.top_n(1, n=10), without.top_n(1, n=10)
    assert [r.movie_id for r in a] == [r.movie_id for r in b]
    for r in a:
        assert r.rating == pytest.approx(with_term.predict(1, r.movie_id),
                                         abs=0)
    # a round trip keeps the term
    back = movieme.Model.from_bytes(with_term.to_bytes())
    assert back.rating_pref == with_term.rating_pref
    assert back.predict(1, a[0].movie_id) == with_term.predict(1, a[0].movie_id)
    from movieme.estimator import ALSRecommender
    assert ALSRecommender(**best).get_params()["rating_pref_weight"] == \
        best["rating_pref_weight"]
    with pytest.raises(movieme.InvalidArgumentError, match="hybrid"):
        movieme.train_als(train, preference=False, rating_pref_weight=0.5)


def test_tune_automatic_blends(ml):
    # under RMSE without blend lists the best point is ranked again at
    # blend / 2, blend / 4 and 0; the base blend stays unless another is
    # more than 2% better on validation nDCG
    t = movieme.tune_als(ml, rank=8, iterations=5, n_threads=2,
                         regs=[0.2, 0.1], path_patience=0)
    rows = [p for p in t.points if p["reranked"]]
    assert [p["blend"] for p in rows] == [0.2, 0.1, 0.05, 0.0]
    top = max(p["ndcg"] for p in rows)
    if top > rows[0]["ndcg"] * 1.02:
        assert t.ndcg == top
    else:
        assert t.best["blend"] == 0.2 and t.ndcg == rows[0]["ndcg"]
    plain = movieme.tune_als(ml, rank=8, iterations=5, n_threads=2,
                             regs=[0.2, 0.1], path_patience=0,
                             auto_blend=False)
    assert not any(p["reranked"] for p in plain.points)
    assert plain.ndcg == rows[0]["ndcg"]
