"""movieme.tune_als: the table as records, the best parameters ready for
train_als, progress and cancel, bad options."""
import threading

import pytest

import movieme


def test_tune_records_and_best(ml):
    seen = []
    t = movieme.tune_als(ml, rank=8, iterations=6, n_threads=2,
                         regs=[0.05, 0.2, 0.1], progress=seen.append)
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
