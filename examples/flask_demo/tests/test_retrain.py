"""Retrain jobs, the atomic model swap, failure handling, recovery of jobs
interrupted by a kill, model pick-up across processes, database outages."""
import datetime as dt
import os
import subprocess
import time

import movieme
import pytest
from helpers import register

from flask_demo.models import Recommendation, RetrainJob, User, db


def add_member(app, name, ratings):
    client = app.test_client()
    assert register(client, name).status_code == 302
    for mid, r in ratings.items():
        assert client.put("/api/ratings/%d" % mid, json={"rating": r}).status_code == 200
    with app.app_context():
        return User.query.filter_by(username=name).one().id


def test_retrain_swaps_model_and_stores_recommendations(app, engine):
    old = engine.model
    old_users = old.n_users
    old_ident = os.stat(engine.model_path).st_mtime_ns
    alice = add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    bob = add_member(app, "bob", {1: 5, 3: 5, 5: 5, 7: 4})
    with app.app_context():
        job = engine.enqueue("test")
        assert engine.enqueue("again").id == job.id         # one pending job at most
        done = engine.run_next_job()
        assert done.id == job.id and done.status == "done", done.error
        assert done.n_ratings == 7 and done.attempts == 1 and done.snapshot_at
        # the hybrid model reports the rating model's iterations, then the
        # preference model's (as many by default)
        assert done.iteration == done.iterations == 2 * app.config["MOVIEME_ITERATIONS"]
        new = engine.model
        assert new is not old
        assert new.n_users == old_users + 2
        assert engine.model_user_id(alice) in new and engine.model_user_id(bob) in new
        assert engine.model_user_id(alice) == 1_000_000 + alice
        assert os.stat(engine.model_path).st_mtime_ns != old_ident
        assert not os.path.exists(engine.model_path + ".new")
        for uid, rated in ((alice, {2, 4, 6}), (bob, {1, 3, 5, 7})):
            recs = (Recommendation.query.filter_by(user_id=uid)
                    .order_by(Recommendation.position).all())
            assert len(recs) == 48
            assert not {r.movie_id for r in recs} & rated
            expect = new.top_n(engine.model_user_id(uid), n=48)
            assert [r.movie_id for r in recs] == [r.movie_id for r in expect]
            # stored through the batch call: scores and ratings as top_n's
            assert [(r.score, r.rating) for r in recs] == \
                [(float(e.score), float(e.rating)) for e in expect]
        assert engine.run_next_job() is None                  # nothing left


def test_saved_model_serves_alone(app, engine):
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    with app.app_context():
        engine.enqueue("test")
        engine.run_next_job()
    loaded = movieme.load_model(engine.model_path)
    uid = engine.model_user_id(1)
    assert uid in loaded
    assert [r.movie_id for r in loaded.top_n(uid, n=10)] == \
        [r.movie_id for r in engine.model.top_n(uid, n=10)]


def test_failed_retrain_keeps_old_model(app, engine, monkeypatch):
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    with app.app_context():
        engine.enqueue("first")
        engine.run_next_job()
        before = engine.model
        stamp = os.stat(engine.model_path).st_mtime_ns
        recs_before = Recommendation.query.count()

        def broken(*a, **kw):
            raise movieme.InvalidArgumentError("simulated training failure")
        monkeypatch.setattr(movieme, "train_als", broken)
        engine.enqueue("second")
        job = engine.run_next_job()
        assert job.status == "failed"
        assert "simulated training failure" in job.error
        assert engine.model is before
        assert os.stat(engine.model_path).st_mtime_ns == stamp
        assert Recommendation.query.count() == recs_before == 48
    # the site still serves
    c = app.test_client()
    c.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert c.get("/api/recommendations").get_json()["status"] == "ready"
    assert len(c.get("/api/recommendations/quick").get_json()["results"]) == 12


def test_interrupted_job_is_retried(app, engine):
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    with app.app_context():
        job = RetrainJob(status="running", reason="schedule", attempts=1,
                         started_at=dt.datetime.utcnow())
        db.session.add(job)
        db.session.commit()
        assert engine.recover_interrupted() == 1
        assert db.session.get(RetrainJob, job.id).status == "pending"
        done = engine.run_next_job()
        assert done.id == job.id and done.status == "done" and done.attempts == 2


def test_orphaned_job_is_retried_by_the_next_tick(app, engine, monkeypatch):
    """The database goes away while a job finishes: the job cannot even be
    marked failed. The worker's next step retries it."""
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    from sqlalchemy.exc import OperationalError
    real_commit = db.session.commit
    calls = {"n": 0}

    def flaky_commit():
        calls["n"] += 1
        if calls["n"] >= 2:          # the claim works, then the database is gone
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        real_commit()
    with app.app_context():
        job = engine.enqueue("test")
        monkeypatch.setattr(db.session, "commit", flaky_commit)
        with pytest.raises(OperationalError):
            engine.run_next_job()
        monkeypatch.undo()
        db.session.rollback()
        assert db.session.get(RetrainJob, job.id).status == "running"
        done = engine.tick()
        assert done.id == job.id and done.status == "done" and done.attempts == 2
        assert Recommendation.query.filter_by(user_id=1).count() == 48


def test_database_errors_retry_the_job_a_bounded_number_of_times(app, engine, monkeypatch):
    """A database error in a job (the database restarted under it and is
    back at once) puts the job back to pending, not failed; after
    MAX_ATTEMPTS attempts it fails with the last error. (The live version,
    a real PostgreSQL restart, is in test_faults.py.)"""
    from sqlalchemy.exc import OperationalError
    from flask_demo.engine import MAX_ATTEMPTS
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})

    def connection_lost(*a, **kw):
        raise OperationalError("DELETE FROM recommendations", {},
                               Exception("server closed the connection unexpectedly"))
    monkeypatch.setattr(engine, "_store_recommendations", connection_lost)
    with app.app_context():
        job = engine.enqueue("test")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            again = engine.run_next_job()
            assert again.id == job.id and again.attempts == attempt
            assert again.status == ("pending" if attempt < MAX_ATTEMPTS else "failed")
        assert "stopped by a database error 3 times" in again.error
        assert "server closed the connection" in again.error
        assert engine.run_next_job() is None


def test_shutdown_cancels_training_and_job_stays_pending(app, engine):
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    before = engine.model
    with app.app_context():
        job = engine.enqueue("test")
        engine._stop.set()                        # as stop() does at shutdown
        engine.run_next_job()
        again = db.session.get(RetrainJob, job.id)
        assert again.status == "pending" and again.attempts == 0
        assert engine.model is before
        engine._stop.clear()
        assert engine.run_next_job().status == "done"


def test_missing_columns_are_added(app):
    """An older database without the progress columns gets them at start."""
    import sqlalchemy as sa
    from flask_demo.models import add_missing_columns
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE retrain_jobs DROP COLUMN iteration"))
        cols = {c["name"] for c in sa.inspect(db.engine).get_columns("retrain_jobs")}
        assert "iteration" not in cols
        add_missing_columns(db.engine)
        cols = {c["name"] for c in sa.inspect(db.engine).get_columns("retrain_jobs")}
        assert "iteration" in cols
        db.session.add(RetrainJob(reason="x", iteration=3, iterations=5))
        db.session.commit()


def test_job_interrupted_too_often_fails(app, engine):
    with app.app_context():
        db.session.add(RetrainJob(status="running", reason="schedule", attempts=3))
        db.session.commit()
        engine.recover_interrupted()
        job = RetrainJob.query.one()
        assert job.status == "failed" and "interrupted" in job.error


def test_triggers(make_app):
    app = make_app(MOVIEME_RETRAIN_MIN_RATINGS=5, MOVIEME_RETRAIN_INTERVAL=3600,
                   MOVIEME_RETRAIN_MIN_GAP=3600)
    engine = app.extensions["movieme"]
    with app.app_context():
        assert engine.due_reason() is None                 # no members, no jobs
    add_member(app, "alice", {1: 4, 2: 4})
    with app.app_context():
        assert engine.due_reason() == "schedule"           # first job ever
        assert engine.tick().status == "done"
        assert engine.due_reason() is None                 # nothing new
    add_member(app, "bob", {3: 4, 4: 4, 5: 4})
    with app.app_context():
        assert engine.due_reason() is None                 # 3 new < 5, within gap
        # a pending job blocks new ones
        engine.enqueue("api")
        assert engine.due_reason() is None
        engine.run_next_job()
    add_member(app, "carol", {c: 3 for c in range(10, 15)})
    with app.app_context():
        assert engine.due_reason() == "new-ratings"
        engine.tick()
        # the schedule: the last job is older than the interval
        for job in RetrainJob.query.all():
            job.created_at -= dt.timedelta(hours=2)
        db.session.commit()
        assert engine.due_reason() is None                 # ...but nothing changed
    c = app.test_client()
    c.post("/api/login", json={"username": "carol", "password": "correct horse"})
    c.delete("/api/ratings/10", json={})
    with app.app_context():
        assert engine.due_reason() == "schedule"            # a deletion is a change


def test_new_member_trigger(make_app):
    app = make_app(MOVIEME_RETRAIN_MIN_RATINGS=100, MOVIEME_RETRAIN_MIN_GAP=0)
    engine = app.extensions["movieme"]
    add_member(app, "alice", {1: 4, 2: 4, 3: 4})
    with app.app_context():
        engine.tick()
    add_member(app, "bob", {4: 4, 5: 4})
    with app.app_context():
        assert engine.due_reason() is None                 # below the quick minimum
    c = app.test_client()
    c.post("/api/login", json={"username": "bob", "password": "correct horse"})
    c.put("/api/ratings/6", json={"rating": 5})
    with app.app_context():
        assert engine.due_reason() == "new-member"


def test_other_process_picks_up_new_model(make_app):
    """Two apps on one instance folder stand for two gunicorn workers."""
    a = make_app()
    b = make_app(MOVIEME_MODEL_CHECK_SECONDS=0.0)
    add_member(a, "alice", {2: 5, 4: 5, 6: 4.5})
    ea, eb = a.extensions["movieme"], b.extensions["movieme"]
    uid = ea.model_user_id(1)
    assert uid not in eb.model
    with a.app_context():
        ea.enqueue("test")
        assert ea.run_next_job().status == "done"
    time.sleep(0.01)
    assert uid in eb.model
    assert eb.model.n_users == ea.model.n_users


def test_corrupt_model_file_on_reload_keeps_old(make_app):
    a = make_app(MOVIEME_MODEL_CHECK_SECONDS=0.0)
    e = a.extensions["movieme"]
    before = e.model
    with open(e.model_path + ".bad", "wb") as f:
        f.write(b"not a model at all")
    os.replace(e.model_path + ".bad", e.model_path)
    assert e.model is before


def test_background_worker_runs_jobs(make_app):
    app = make_app(MOVIEME_BACKGROUND=True, MOVIEME_WORKER_POLL=0.1,
                   MOVIEME_RETRAIN_MIN_RATINGS=3)
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    deadline = time.time() + 20
    with app.app_context():
        while time.time() < deadline:
            db.session.remove()
            if Recommendation.query.filter_by(user_id=1).count() == 48:
                break
            time.sleep(0.1)
        assert Recommendation.query.filter_by(user_id=1).count() == 48
        assert RetrainJob.query.filter_by(status="done").count() >= 1


def test_only_one_background_worker_per_instance(make_app):
    a = make_app(MOVIEME_BACKGROUND=True, MOVIEME_WORKER_POLL=0.2)
    b = make_app(MOVIEME_BACKGROUND=True, MOVIEME_WORKER_POLL=0.2)
    assert a.extensions["movieme"]._thread is not None
    assert b.extensions["movieme"]._thread is None


# ---- database outages ---------------------------------------------------------------

def _sqlite_path(app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    return uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else None


def test_database_outage_gives_503_then_recovers(app):
    """The database disappears (SQLite: its file is replaced by a directory;
    PostgreSQL: MOVIEME_TEST_PG_STOP / _START commands from test-demo.sh)."""
    path = _sqlite_path(app)
    stop, start = os.environ.get("MOVIEME_TEST_PG_STOP"), os.environ.get("MOVIEME_TEST_PG_START")
    if path is None and not (stop and start):
        pytest.skip("no way to stop this database")
    add_member(app, "alice", {2: 5})
    c = app.test_client()
    c.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert c.get("/ratings").status_code == 200
    if path:
        os.rename(path, path + ".away")
        os.mkdir(path)
        with app.app_context():
            db.engine.dispose()              # drop pooled connections to the old file
    else:
        subprocess.run(stop, shell=True, check=True)
    try:
        for url in ("/ratings", "/", "/recommendations"):
            resp = c.get(url)
            assert resp.status_code == 503, url
            assert "Temporarily unavailable" in resp.get_data(as_text=True)
            assert resp.headers["Retry-After"] == "5"
        resp = c.get("/api/health")
        assert resp.status_code == 503 and "database" in resp.get_json()["error"]
        assert app.test_client().get("/login").status_code == 200   # guests: no DB needed
    finally:
        if path:
            os.rmdir(path)
            os.rename(path + ".away", path)
        else:
            subprocess.run(start, shell=True, check=True)
    # recovery: pool_pre_ping replaces dead connections, no restart needed
    resp = c.get("/ratings")
    assert resp.status_code == 200
    assert "Movie 002" in resp.get_data(as_text=True)
