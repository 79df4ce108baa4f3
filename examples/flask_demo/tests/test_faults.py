"""Live server processes: killed (SIGKILL) in the middle of a retrain and
started again (every committed rating is still there, the previous model
serves at once, the interrupted job is retried); several gunicorn workers
all serving the new model after a retrain."""
import os
import shutil
import time

import pytest
from server import Browserless, Server


@pytest.fixture
def server_env(tmp_path, dataset, base_model):
    from helpers import database_url
    instance = str(tmp_path / "instance")
    os.makedirs(instance)
    shutil.copy(base_model, os.path.join(instance, "model.bin"))
    return instance, {"MOVIEME_DATA": dataset, "DATABASE_URL": database_url(tmp_path),
                      "MOVIEME_RANK": "8", "MOVIEME_ITERATIONS": "5",
                      "MOVIEME_WORKER_POLL": "0.2", "MOVIEME_RETRAIN_MIN_RATINGS": "1000",
                      "MOVIEME_RETRAIN_INTERVAL": "3600", "MOVIEME_QUICK_MIN_RATINGS": "3"}


def wait_for(predicate, timeout=60, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def test_kill_during_retrain_then_restart(server_env):
    instance, env = server_env
    model_file = os.path.join(instance, "model.bin")
    first = Server(instance, dict(env, MOVIEME_TRAIN_DELAY="30")).start()
    try:
        c = Browserless(first.url)
        assert c.register("alice")[0] == 200          # redirect followed
        ratings = {2: 5.0, 4: 5.0, 6: 4.5, 8: 4.0, 3: 1.0}
        for mid, r in ratings.items():
            assert c.json("PUT", "/api/ratings/%d" % mid, {"rating": r})[0] == 200
        # the first job ever is due at once (or ask for one); it starts and
        # sleeps MOVIEME_TRAIN_DELAY seconds before training
        status, job = c.json("POST", "/api/retrain")
        assert status == 202
        job = {"id": 1}
        wait_for(lambda: c.json("GET", "/api/jobs/%d" % job["id"])[1]["status"] == "running")
        model_before = open(model_file, "rb").read()
        first.kill()                                  # mid-retrain, no cleanup
    finally:
        first.stop()
    # the job row says 'running' with nobody running it; the model is intact
    assert open(model_file, "rb").read() == model_before
    import movieme
    assert 1_000_001 not in movieme.load_model(model_file)
    second = Server(instance, env, port=first.port).start()
    try:
        c = Browserless(second.url)
        assert c.json("POST", "/api/login", {"username": "alice",
                                             "password": "correct horse"})[0] == 200
        rows = c.json("GET", "/api/ratings")[1]["ratings"]
        assert {r["movie_id"]: r["rating"] for r in rows} == ratings
        # the previous model serves right away
        quick = c.json("GET", "/api/recommendations/quick")[1]["results"]
        assert len(quick) == 12
        # the interrupted job is retried and completes
        done = wait_for(lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(
            c.json("GET", "/api/jobs/%d" % job["id"])[1]))
        assert done["status"] == "done" and done["attempts"] == 2
        full = c.json("GET", "/api/recommendations")[1]
        assert full["status"] == "ready" and len(full["results"]) == 48
        import movieme
        assert 1_000_001 in movieme.load_model(model_file)   # alice (member 1) is in it
    finally:
        second.stop()


def test_gunicorn_workers_pick_up_the_new_model(server_env):
    instance, env = server_env
    import movieme
    base_users = movieme.load_model(os.path.join(instance, "model.bin")).n_users
    srv = Server(instance, dict(env, MOVIEME_MODEL_CHECK_SECONDS="0.5"))
    srv.start(gunicorn_workers=2)
    try:
        c = Browserless(srv.url)
        assert c.register("alice")[0] == 200
        for mid in (2, 4, 6):
            assert c.json("PUT", "/api/ratings/%d" % mid, {"rating": 5})[0] == 200

        def workers():
            seen = {}
            for _ in range(40):
                status, health = c.json("GET", "/api/health")
                assert status == 200
                seen[health["pid"]] = health["model_users"]
            return seen
        status, job = c.json("POST", "/api/retrain")
        assert status == 202
        wait_for(lambda: c.json("GET", "/api/jobs/%d" % job["id"])[1]["status"] == "done")
        time.sleep(1.0)                       # > MOVIEME_MODEL_CHECK_SECONDS
        seen = wait_for(lambda: (lambda s: s if len(s) >= 2 else None)(workers()), timeout=30)
        assert set(seen.values()) == {base_users + 1}, seen
        # exactly one process ran the retrain worker
        log = srv.read_log()
        assert log.count("another process runs the retrain worker") == 1
    finally:
        srv.stop()
