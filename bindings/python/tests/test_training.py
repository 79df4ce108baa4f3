"""train_als: parameters, determinism, the progress callback, cancelling,
exceptions raised in the callback, and the GIL being released."""
import threading
import time

import pytest

import movieme


def test_progress_records(tiny):
    seen = []
    model = movieme.train_als(tiny, rank=3, iterations=6, progress=seen.append)
    assert isinstance(model, movieme.Model)
    # the default (hybrid) model: 6 iterations of the rating model, then 6
    # of the preference model
    assert [p.iteration for p in seen] == list(range(1, 13))
    assert all(isinstance(p, movieme.Progress) for p in seen)
    assert all(p.iterations == 12 for p in seen)
    assert all(p.train_rmse > 0 and p.loss > 0 for p in seen)
    seconds = [p.seconds for p in seen]
    assert seconds == sorted(seconds)
    # ALS never increases its objective (within each model)
    for phase in (seen[:6], seen[6:]):
        assert all(b.loss <= a.loss * (1 + 1e-9)
                   for a, b in zip(phase, phase[1:]))


def test_progress_true_and_none_continue(tiny):
    calls = []
    movieme.train_als(tiny, rank=2, iterations=3,
                      progress=lambda p: calls.append(p) or True)
    movieme.train_als(tiny, rank=2, iterations=3,
                      progress=lambda p: calls.append(p))
    assert len(calls) == 12  # 2 x 3 iterations of each of the two models


@pytest.mark.parametrize("stop_value", [False, 0])
def test_progress_false_cancels(tiny, stop_value):
    calls = []

    def progress(p):
        calls.append(p.iteration)
        return stop_value if p.iteration == 2 else None

    with pytest.raises(movieme.CancelledError) as info:
        movieme.train_als(tiny, rank=2, iterations=10, progress=progress)
    assert calls == [1, 2]
    assert info.value.code == -7


def test_progress_exception_cancels_and_propagates(tiny):
    calls = []

    class Boom(Exception):
        pass

    boom = Boom("stop here")

    def progress(p):
        calls.append(p.iteration)
        if p.iteration == 3:
            raise boom

    with pytest.raises(Boom) as info:
        movieme.train_als(tiny, rank=2, iterations=10, progress=progress)
    assert info.value is boom
    assert calls == [1, 2, 3]  # training stopped at once
    # the binding is still healthy afterwards
    assert movieme.train_als(tiny, rank=2, iterations=2).rank == 2


def test_progress_keyboard_interrupt(tiny):
    def progress(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        movieme.train_als(tiny, rank=2, iterations=5, progress=progress)


def test_progress_closure_keeps_objects_alive(tiny):
    # the callback is the only owner of the list it fills
    def make():
        box = []
        return box, (lambda p: box.append(p.iteration))

    box, cb = make()
    movieme.train_als(tiny, rank=2, iterations=4, progress=cb)
    del cb
    assert box == list(range(1, 9))


def test_deterministic(ml):
    a = movieme.train_als(ml, rank=6, iterations=3, seed=11, n_threads=2)
    b = movieme.train_als(ml, rank=6, iterations=3, seed=11, n_threads=2)
    c = movieme.train_als(ml, rank=6, iterations=3, seed=12, n_threads=2)
    assert a.user_factors(1) == b.user_factors(1)
    assert a.movie_factors(1) == b.movie_factors(1)
    assert a.top_n(7, 20) == b.top_n(7, 20)
    assert a.user_factors(1) != c.user_factors(1)


def test_parameters_change_the_model(tiny):
    base = movieme.train_als(tiny, rank=3, iterations=4, seed=1)
    assert movieme.train_als(tiny, rank=5, iterations=4).rank == 5
    heavy = movieme.train_als(tiny, rank=3, iterations=4, seed=1, reg=10.0)
    assert heavy.user_factors(1) != base.user_factors(1)
    nb = movieme.train_als(tiny, rank=3, iterations=4, seed=1, biases=False)
    assert nb.user_factors(1)[1] == 0.0  # no user bias
    nn = movieme.train_als(tiny, rank=3, iterations=4, seed=1,
                           nonnegative=True)
    assert all(x >= 0.0 for x in nn.user_factors(1)[0])
    assert all(x >= 0.0 for x in nn.movie_factors(1)[0])
    br = movieme.train_als(tiny, rank=3, iterations=4, seed=1, bias_reg=50.0)
    assert abs(br.user_factors(1)[1]) < abs(base.user_factors(1)[1]) + 1e-6
    one = movieme.train_als(tiny, rank=3, iterations=4, seed=1, n_threads=1)
    assert one.rank == 3


def test_training_releases_the_gil(ml):
    """A long training in a thread must not stop this thread."""
    done = threading.Event()
    result = {}

    def train():
        t0 = time.perf_counter()
        # about 18 GFLOP on one thread: well over a second on this class of
        # machine, so a GIL held throughout could not hide in timer noise
        result["model"] = movieme.train_als(ml, rank=48, iterations=30,
                                            n_threads=1)
        result["seconds"] = time.perf_counter() - t0
        done.set()

    th = threading.Thread(target=train)
    ticks = []
    th.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    th.join()
    assert result["model"].rank == 48
    assert result["seconds"] >= 0.2, "training too short to tell"
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # with the GIL held for the whole training there would be one gap as
    # long as the training itself
    assert len(ticks) > 20
    assert max(gaps) < result["seconds"] / 2


def test_loading_releases_the_gil(data_dir):
    done = threading.Event()
    out = []

    def load():
        out.append(movieme.load_movielens(data_dir))
        done.set()

    th = threading.Thread(target=load)
    ticks = 0
    th.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.0005)
    th.join()
    assert len(out[0]) == 100836
    assert ticks > 1


def test_ctrl_c_stops_training(data_dir, tmp_path):
    """SIGINT during a long training (no callback) raises KeyboardInterrupt
    within an iteration instead of waiting for the end."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(
        "import sys, time, movieme\n"
        "r = movieme.load_movielens(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "t = time.time()\n"
        "try:\n"
        "    movieme.train_als(r, rank=32, iterations=100000, n_threads=1)\n"
        "    print('finished')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted %.1f' % (time.time() - t))\n")
    proc = subprocess.Popen([sys.executable, str(script), data_dir],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert out.startswith("interrupted"), out
    assert proc.returncode == 0


def test_callback_cannot_modify_the_dataset_being_trained(tiny):
    """It would deadlock on the dataset's lock; it fails instead."""
    def progress(p):
        tiny.add([(999, 1, 4.0)])

    with pytest.raises(movieme.InvalidArgumentError, match="progress"):
        movieme.train_als(tiny, rank=2, iterations=3, n_threads=1,
                          progress=progress)
    # reading it, or training on it again, is fine
    seen = []
    movieme.train_als(tiny, rank=2, iterations=2, n_threads=1,
                      progress=lambda p: seen.append(len(tiny)))
    assert seen == [len(tiny)] * 4
    tiny.add([(999, 1, 4.0)])  # and after training it is writable again
