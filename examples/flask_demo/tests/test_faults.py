"""Live server processes killed (SIGKILL) at every step of a retrain, and
PostgreSQL stopped and started again mid-retrain.

Each case starts the site as a real process (tests/server.py) on the real
database of the run (SQLite, or the PostgreSQL server of
scripts/test-demo.sh), with the fault points of flask_demo/faults.py armed:
the retrain worker pauses at a named step and writes a marker file, the
test acts there (posts ratings, kill -9, stops the database), then lets it
go on or starts the site again. Afterwards:
  * every rating the site acknowledged (posted before and during the
    retrain) is in the database, with its latest value;
  * the model file loads: the previous one while the new one was not
    renamed into place, else the new one; no temporary file is left;
  * the stored recommendations are one job's complete set, never a mix;
  * the next start (or the same worker, after a database restart) finishes
    the job: the model file is exactly the training of the database's
    ratings and every member's stored list is that model's top 48.
"""
import glob
import os
import signal
import subprocess
import time

import movieme
import pytest
import sqlalchemy as sa
from helpers import BASE_OVERRIDES, database_url, register
from server import Browserless, Server

from flask_demo.faults import STEPS

PASSWORD = "correct horse"
OFFSET = 1_000_000
RANK, ITERATIONS, SEED = 8, 5, 42
ALICE = {2: 5.0, 4: 5.0, 6: 4.5, 8: 4.0, 3: 1.0}      # rated before job 1
CAROL = {11: 5.0, 13: 4.0, 15: 3.0, 17: 4.5}          # before the retrain
ALICE_DURING = {3: 4.0, 10: 2.5}                       # a re-rating, a new one
BOB_DURING = {1: 5.0, 5: 4.0, 7: 4.5}                  # a member's first ratings


def wait_for(predicate, timeout=60, step=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting for %s" % what)


class Site:
    """One instance folder and database, the site's processes on it, and
    direct reads of what they left behind."""

    def __init__(self, tmp_path, dataset, base_model):
        self.dataset = dataset
        self.instance = str(tmp_path / "instance")
        self.faults = str(tmp_path / "faults")
        os.makedirs(self.instance)
        os.makedirs(self.faults)
        self.model_file = os.path.join(self.instance, "model.bin")
        with open(base_model, "rb") as f:
            self.base_bytes = f.read()
        with open(self.model_file, "wb") as f:
            f.write(self.base_bytes)
        self.db_url = database_url(tmp_path)
        self.env = {"MOVIEME_DATA": dataset, "DATABASE_URL": self.db_url,
                    "MOVIEME_RANK": str(RANK), "MOVIEME_ITERATIONS": str(ITERATIONS),
                    "MOVIEME_SEED": str(SEED), "MOVIEME_THREADS": "1",
                    "MOVIEME_WORKER_POLL": "0.2", "MOVIEME_RETRAIN_MIN_RATINGS": "1000",
                    "MOVIEME_RETRAIN_INTERVAL": "3600", "MOVIEME_RETRAIN_MIN_GAP": "3600",
                    "MOVIEME_QUICK_MIN_RATINGS": "3", "MOVIEME_FAULT_DIR": self.faults}
        self.expected = {}          # (member id, movie id) -> acknowledged rating
        self.members = {}           # name -> member id
        self.servers = []
        self.db = sa.create_engine(self.db_url, pool_pre_ping=True)

    def close(self):
        for server in self.servers:
            server.stop()
        self.db.dispose()

    # ---- the state before the faulty retrain: job 1 done ----------------------
    def prepare(self):
        """alice rated and trained by job 1 (model file, 48 recommendations);
        bob and carol registered, no ratings. Done in-process (fast hashes)."""
        from flask_demo import create_app
        from flask_demo.models import db
        app = create_app(dict(BASE_OVERRIDES, MOVIEME_DATA=self.dataset,
                              INSTANCE_PATH=self.instance,
                              SQLALCHEMY_DATABASE_URI=self.db_url, SECRET_KEY=None,
                              MOVIEME_THREADS=1), profile="testing")
        engine = app.extensions["movieme"]
        try:
            for name in ("alice", "bob", "carol"):
                assert register(app.test_client(), name).status_code == 302
            with app.app_context():
                from flask_demo.models import User
                self.members = {u.username: u.id for u in User.query.all()}
            client = app.test_client()
            client.post("/api/login", json={"username": "alice", "password": PASSWORD})
            for mid, r in ALICE.items():
                assert client.put("/api/ratings/%d" % mid, json={"rating": r}).status_code == 200
                self.expected[(self.members["alice"], mid)] = r
            with app.app_context():
                engine.enqueue("first")
                assert engine.run_next_job().status == "done"
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        with open(self.model_file, "rb") as f:
            self.job1_bytes = f.read()
        assert self.recommendations()[self.members["alice"]][1] == {1}

    # ---- processes -----------------------------------------------------------------
    def start(self, steps=(), gunicorn_workers=0, **env):
        env = dict(self.env, MOVIEME_FAULT_STEPS=",".join(steps), **env)
        server = Server(self.instance, env)
        self.servers.append(server)
        return server.start(gunicorn_workers=gunicorn_workers)

    def reached(self, step, timeout=60):
        """Wait for the worker to pause at `step`; its pid."""
        marker = os.path.join(self.faults, step + ".reached")
        wait_for(lambda: os.path.exists(marker), timeout, what="fault point " + step)
        with open(marker) as f:
            return int(f.read())

    def go(self, step):
        open(os.path.join(self.faults, step + ".go"), "w").close()

    def client(self, server, name):
        c = Browserless(server.url)
        assert c.json("POST", "/api/login", {"username": name, "password": PASSWORD})[0] == 200
        return c

    def rate(self, client, name, ratings):
        for mid, r in ratings.items():
            status, _ = client.json("PUT", "/api/ratings/%d" % mid, {"rating": r})
            assert status == 200
            self.expected[(self.members[name], mid)] = r

    # ---- what is stored ------------------------------------------------------------
    def query(self, sql):
        with self.db.connect() as conn:
            return conn.execute(sa.text(sql)).fetchall()

    def ratings(self):
        return {(u, m): r for u, m, r in
                self.query("SELECT user_id, movie_id, rating FROM ratings")}

    def jobs(self):
        return {i: (status, attempts) for i, status, attempts in
                self.query("SELECT id, status, attempts FROM retrain_jobs")}

    def recommendations(self):
        """member id -> (movie ids by position, the job ids of its rows)."""
        out = {}
        for user, movie, job in self.query(
                "SELECT user_id, movie_id, job_id FROM recommendations "
                "ORDER BY user_id, position"):
            movies, jobs = out.setdefault(user, ([], set()))
            movies.append(movie)
            jobs.add(job)
        return out

    def wait_job(self, job_id, timeout=60):
        return wait_for(lambda: (lambda s: s if s and s[0] in ("done", "failed") else None)(
            self.jobs().get(job_id)), timeout, what="job %d" % job_id)

    # ---- checks ------------------------------------------------------------------------
    def assert_ratings_kept(self):
        assert self.ratings() == self.expected

    def assert_previous_state(self):
        """What a job that did not commit leaves: job 1's model file (or,
        after the rename, the new model) and job 1's recommendations."""
        movieme.load_model(self.model_file)                 # it loads
        recs = self.recommendations()
        assert set(recs) == {self.members["alice"]}
        movies, jobs = recs[self.members["alice"]]
        assert jobs == {1} and len(movies) == 48

    def assert_trained_on_everything(self, job_id, ratings=None):
        """The job finished on every acknowledged rating (or on `ratings`,
        its snapshot): the model file is the training of exactly those
        ratings (training is deterministic for a seed and thread count,
        whatever the row order), and each of their members' stored list is
        that model's top 48."""
        self.assert_ratings_kept()
        ratings = self.expected if ratings is None else ratings
        data = movieme.load_movielens(self.dataset)
        data.add([(OFFSET + u, m, r) for (u, m), r in ratings.items()])
        reference = movieme.train_als(data, rank=RANK, iterations=ITERATIONS, seed=SEED,
                                      n_threads=1)
        with open(self.model_file, "rb") as f:
            assert f.read() == reference.to_bytes()
        members = {u for u, _ in ratings}
        recs = self.recommendations()
        assert set(recs) == members
        for u in members:
            movies, jobs = recs[u]
            assert jobs == {job_id}
            assert movies == [r.movie_id for r in reference.top_n(OFFSET + u, n=48)]
        assert self.temporaries() == []

    def temporaries(self):
        return sorted(os.path.basename(p) for p in glob.glob(self.model_file + ".*")
                      if not p.endswith(".lock"))


@pytest.fixture
def site(tmp_path, dataset, base_model):
    s = Site(tmp_path, dataset, base_model)
    s.prepare()
    yield s
    s.close()


def start_retrain(site, server):
    """carol rates (before the retrain), then asks for one: job 2."""
    carol = site.client(server, "carol")
    site.rate(carol, "carol", CAROL)
    status, job = carol.json("POST", "/api/retrain")
    assert status == 202 and job["id"] == 2
    return carol


def rate_during(site, server):
    """While the worker is paused inside job 2: alice re-rates one movie and
    adds one, bob rates for the first time. Returns the ratings before."""
    before = dict(site.expected)
    site.rate(site.client(server, "alice"), "alice", ALICE_DURING)
    site.rate(site.client(server, "bob"), "bob", BOB_DURING)
    return before


def first_pause(step):
    return "claimed" if step == "claimed" else "snapshot"


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_then_restart(site, step):
    """kill -9 of the site (one process) paused at `step` of a retrain."""
    first = first_pause(step)
    server = site.start(steps=sorted({first, step}))
    start_retrain(site, server)
    assert site.reached(first) == server.proc.pid
    snapshot = rate_during(site, server)
    if step != first:
        site.go(first)
        assert site.reached(step) == server.proc.pid
    server.kill()
    # what the killed process left
    site.assert_ratings_kept()
    model = movieme.load_model(site.model_file)
    renamed = STEPS.index(step) >= STEPS.index("renamed")
    with open(site.model_file, "rb") as f:
        assert (f.read() == site.job1_bytes) != renamed
    carol_in = OFFSET + site.members["carol"] in model
    bob_in = OFFSET + site.members["bob"] in model
    assert (carol_in, bob_in) == (renamed, False)
    if step == "committed":
        assert site.jobs()[2] == ("done", 1)
        site.assert_trained_on_everything(2, snapshot)
    else:
        assert site.jobs()[2] == ("running", 1)
        site.assert_previous_state()
    if step == "save":
        # A kill inside rec_model_save leaves a prefix of the new file under
        # the library's temporary name (it writes, fsyncs, then renames);
        # the kill lands just before it, and this is what it would leave.
        with open(site.model_file + ".tmp-0badc0", "wb") as f:
            f.write(site.job1_bytes[:len(site.job1_bytes) // 2])
    # the next start redoes the job (or, once committed, a new job covers
    # the ratings posted during it)
    server = site.start()
    if step == "committed":
        assert site.jobs()[2] == ("done", 1)
        status, job = site.client(server, "alice").json("POST", "/api/retrain")
        assert status == 202 and job["id"] == 3
        assert site.wait_job(3) == ("done", 1)
        site.assert_trained_on_everything(3)
    else:
        assert site.wait_job(2) == ("done", 2)
        site.assert_trained_on_everything(2)
    # the restarted site serves the new model
    status, health = site.client(server, "carol").json("GET", "/api/health")
    assert status == 200 and health["model_users"] == model_users(site)


def test_damaged_model_file_is_retrained_at_start(site):
    """A model file damaged outside the site (a disk fault, a bad copy; the
    site's own saves cannot leave one): the start keeps it as
    model.bin.corrupt, trains a new one from the database, and serves."""
    with open(site.model_file, "r+b") as f:
        f.truncate(len(site.job1_bytes) // 2)
    server = site.start()
    assert "does not load" in server.read_log()
    with open(site.model_file + ".corrupt", "rb") as f:
        assert f.read() == site.job1_bytes[:len(site.job1_bytes) // 2]
    data = movieme.load_movielens(site.dataset)
    data.add([(OFFSET + u, m, r) for (u, m), r in site.expected.items()])
    reference = movieme.train_als(data, rank=RANK, iterations=ITERATIONS, seed=SEED,
                                  n_threads=1)
    with open(site.model_file, "rb") as f:
        assert f.read() == reference.to_bytes()
    status, health = site.client(server, "alice").json("GET", "/api/health")
    assert status == 200 and health["model_users"] == reference.n_users


def model_users(site):
    return movieme.load_model(site.model_file).n_users


def test_kill_retrain_worker_under_gunicorn(site):
    """gunicorn with 2 workers: kill -9 of the worker process doing the
    retrain (after the rename, before the commit). gunicorn starts a new
    worker, which takes the retrain lock and redoes the job; nothing is
    restarted by hand."""
    server = site.start(steps=("snapshot", "renamed"), gunicorn_workers=2)
    start_retrain(site, server)
    site.reached("snapshot")
    rate_during(site, server)
    site.go("snapshot")
    pid = site.reached("renamed")
    assert pid != server.proc.pid                       # a worker, not the master
    site.go("renamed")                                  # its successor passes
    os.kill(pid, signal.SIGKILL)
    assert site.wait_job(2) == ("done", 2)
    site.assert_trained_on_everything(2)
    assert server.proc.poll() is None


def test_gunicorn_workers_pick_up_the_new_model(site):
    """Several gunicorn workers all serve the new model after a retrain;
    exactly one process ran the retrain worker."""
    base_users = model_users(site)
    server = site.start(gunicorn_workers=2, MOVIEME_MODEL_CHECK_SECONDS="0.5")
    c = site.client(server, "bob")
    site.rate(c, "bob", BOB_DURING)
    status, job = c.json("POST", "/api/retrain")
    assert status == 202
    assert site.wait_job(job["id"]) == ("done", 1)
    assert model_users(site) == base_users + 1

    def workers():
        seen = {}
        for _ in range(40):
            status, health = c.json("GET", "/api/health")
            assert status == 200
            seen[health["pid"]] = health["model_users"]
        return seen
    seen = wait_for(lambda: (lambda s: s if len(s) >= 2 and set(s.values()) == {
        base_users + 1} else None)(workers()), timeout=30, what="both workers")
    assert len(seen) >= 2
    assert server.read_log().count("another process runs the retrain worker") == 1


# ---- PostgreSQL stopped and started again during a retrain ------------------------

def pg_commands():
    stop, start = os.environ.get("MOVIEME_TEST_PG_STOP"), os.environ.get("MOVIEME_TEST_PG_START")
    if not (stop and start):
        pytest.skip("needs the PostgreSQL server of scripts/test-demo.sh")
    return (lambda: subprocess.run(stop, shell=True, check=True, capture_output=True),
            lambda: subprocess.run(start, shell=True, check=True, capture_output=True))


def test_postgres_restarted_during_training(site):
    """The database goes away while the model trains and is back before the
    recommendations are stored: the same attempt finishes (on its
    snapshot), and the same worker runs the next job."""
    stop, start = pg_commands()
    server = site.start(steps=("snapshot", "training", "renamed"))
    carol = start_retrain(site, server)
    site.reached("snapshot")
    snapshot = rate_during(site, server)
    site.go("snapshot")
    site.reached("training")
    stop()
    try:
        site.go("training")               # trains on; progress cannot be recorded
        site.reached("renamed")
    finally:
        start()
    site.go("renamed")
    assert site.wait_job(2) == ("done", 1)
    site.assert_trained_on_everything(2, snapshot)
    status, job = carol.json("POST", "/api/retrain")
    assert status == 202 and job["id"] == 3
    assert site.wait_job(3) == ("done", 1)
    site.assert_trained_on_everything(3)
    assert server.proc.poll() is None


def test_postgres_down_at_the_commit(site):
    """The database stops with the recommendations written but not
    committed, and stays away a while: the worker survives the failed
    steps, and once the database is back the job is retried and finishes."""
    stop, start = pg_commands()
    server = site.start(steps=("snapshot", "stored"))
    start_retrain(site, server)
    site.reached("snapshot")
    rate_during(site, server)
    site.go("snapshot")
    site.reached("stored")
    stop()
    try:
        site.go("stored")
        wait_for(lambda: "retrain worker step failed" in server.read_log(),
                 what="the worker's failed step")
    finally:
        start()
    assert site.wait_job(2) == ("done", 2)
    site.assert_trained_on_everything(2)
    assert server.proc.poll() is None


def test_postgres_restarted_at_the_commit(site):
    """The database restarts (stop, start) while the job's transaction is
    open: the commit fails on a dead connection, the database is already
    back, and the job is retried (not marked failed) and finishes."""
    stop, start = pg_commands()
    server = site.start(steps=("snapshot", "stored"))
    start_retrain(site, server)
    site.reached("snapshot")
    rate_during(site, server)
    site.go("snapshot")
    site.reached("stored")
    stop()
    start()
    site.go("stored")
    assert site.wait_job(2) == ("done", 2)
    site.assert_trained_on_everything(2)
    assert server.proc.poll() is None
