"""The recommender service: the MovieLens catalogue, the model being served,
quick (fold-in) recommendations, and the retrain worker.

Model life cycle
  * The model file (instance/model.bin by default) is derived data. At start
    it is loaded; if missing, or if it does not load (kept as
    model.bin.corrupt), it is trained (MovieLens + members) under a file
    lock, so several gunicorn workers never train it together.
  * A retrain builds a new Ratings (MovieLens copy + every member's ratings
    from the database), trains, saves over model.bin (the library writes a
    temporary file, fsyncs it, renames it, fsyncs the folder: a kill or a
    power loss leaves the old file or the new one, and at most a
    temporary that the next worker removes), computes each member's full
    recommendations from the trained factors, then swaps the in-memory
    model under a lock and commits them with the job's end in one
    transaction. A failed retrain keeps the old model and marks the job
    failed; a database error puts the job back to pending (retried, at
    most MAX_ATTEMPTS attempts in all).
  * Every list a member gets is the library's ranking (the default hybrid
    model, candidate options such as min_count passed to the library), with
    its predicted rating and the reasons from rec_explain; a member with
    no ratings gets the library's cold-start list.
  * Quick recommendations fold the member into the model being served
    (remove_user, add_user with their current ratings, top_n), so each
    process's model gains the members it served; a new model starts
    without those folds and members are folded in again on demand.
  * Every process checks the model file's identity (mtime, inode, size) at
    most every MOVIEME_MODEL_CHECK_SECONDS and reloads it when another
    process has replaced it.

Retrain jobs are rows (pending/running/done/failed). Only one process per
host runs the worker: the one holding an exclusive flock on
instance/retrain.lock. Holding that lock proves no other worker is alive,
and the worker runs one job at a time, so a 'running' job found at the start
of a worker step was orphaned (killed process, database gone before the job
could be marked failed) and goes back to 'pending' to be retried. A job
interrupted anywhere is redone from the start on a fresh snapshot, so the
ratings posted meanwhile are in it; its recommendations replace all stored
ones in the transaction that ends it, so redoing it is harmless.
"""
import collections
import datetime as dt
import fcntl
import logging
import os
import threading
import time
import traceback

import movieme
from sqlalchemy import exc as sa_exc
from sqlalchemy import func

from . import faults
from .model_cache import PerModel
from .tuning import Tuning
from .models import Rating, Recommendation, RetrainJob, db, utcnow

log = logging.getLogger("flask_demo.engine")

# A recommendation as the site shows it: the library's ranking score, its
# predicted rating (within the rating range) and the titles of the member's
# liked movies that explain it.
Pick = collections.namedtuple("Pick", "movie_id score rating because")

MAX_ATTEMPTS = 3
# The database is away or restarting: the job is retried, not failed.
DATABASE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError,
                   sa_exc.DisconnectionError)


class Catalogue:
    """Read-only MovieLens movie list with popularity, for search and lists."""

    def __init__(self, ratings):
        stats = {s.movie_id: s for s in ratings.count_avg()}
        self.movies = {}
        self.genres = set()
        for m in ratings.movies():
            self.movies[m.movie_id] = m
            self.genres.update(g for g in m.genres if g and g != "(no genres listed)")
        self.genres = sorted(self.genres)
        self.count = {mid: (s.count, s.average) for mid, s in stats.items()}
        self.by_popularity = sorted(
            self.movies.values(),
            key=lambda m: (-self.count.get(m.movie_id, (0, 0))[0], m.movie_id))
        self._lower = [(m.title.lower(), m) for m in self.by_popularity]
        years = [m.year for m in self.movies.values() if m.year]
        self.decades = sorted({y // 10 * 10 for y in years}, reverse=True)

    def search(self, query, limit=50):
        words = query.lower().split()
        if not words:
            return []
        out = []
        for title, m in self._lower:
            if all(w in title for w in words):
                out.append(m)
                if len(out) >= limit:
                    break
        return out

    def popular(self, genre=None, decade=None, offset=0, limit=30):
        out = []
        for m in self.by_popularity:
            if genre and genre not in m.genres:
                continue
            if decade and not (m.year and decade <= m.year < decade + 10):
                continue
            out.append(m)
        return out[offset:offset + limit], len(out)


class Engine:
    def __init__(self, app):
        self.app = app
        cfg = app.config
        self.data_path = cfg["MOVIEME_DATA"]
        self.model_path = cfg["MOVIEME_MODEL_PATH"] or os.path.join(
            app.instance_path, "model.bin")
        self.offset = int(cfg["MOVIEME_MEMBER_ID_OFFSET"])
        self._lock = threading.Lock()          # guards self._model swap
        # remove_user + add_user + top_n of a quick request, as one step
        self._fold_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._model = None
        self._model_ident = None
        self._last_check = 0.0
        self._stop = threading.Event()
        self._thread = None
        self._lock_fd = None
        self.base = movieme.load_movielens(self.data_path)
        self.catalogue = Catalogue(self.base)
        self.catalogue_size = max(1, len(self.catalogue.movies))
        self._best_cache = {}
        # answers of the model that folds do not change (model_cache.py)
        size = cfg["MOVIEME_MODEL_CACHE"]
        self._explained = PerModel(self._explain, size)
        self._similar = PerModel(self._similar_movies, size)
        # test hook (faults.py): None unless MOVIEME_FAULT_STEPS is set
        self._faults = faults.from_config(cfg, app.instance_path)
        self.tuning = Tuning(app)

    # ---- ids ---------------------------------------------------------------
    def model_user_id(self, member_id):
        return self.offset + int(member_id)

    # ---- model -------------------------------------------------------------
    @staticmethod
    def _ident(path):
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_ino, st.st_size)

    def _model_file_lock(self):
        """An exclusive flock on model.bin.lock (released when closed):
        held while the first model is trained and while temporaries of
        killed saves are removed."""
        fd = open(self.model_path + ".lock", "a")
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def ensure_model(self):
        """Load the model file, training it first if it does not exist or
        does not load (a file damaged outside the site: it is derived data,
        kept as model.bin.corrupt for a look)."""
        try:
            return self._load_file()
        except (FileNotFoundError, movieme.FormatError):
            pass
        with self._model_file_lock():
            try:
                return self._load_file()    # another process made it meanwhile
            except FileNotFoundError:
                log.info("no model at %s: training it", self.model_path)
            except movieme.FormatError as exc:
                log.error("model file %s does not load (%s): kept as %s.corrupt; "
                          "training a new one", self.model_path, exc, self.model_path)
                os.replace(self.model_path, self.model_path + ".corrupt")
            model, _, _ = self._train_snapshot()
            self._save(model)
        self._load_file()

    def remove_temporaries(self):
        """Delete what saves killed midway left: the library's temporary
        files (model.bin.tmp-XXXXXX) and the model.bin.new that earlier
        versions of the site saved to. Under the model file lock, so no first training is saving."""
        folder, name = os.path.split(self.model_path)
        with self._model_file_lock():
            for entry in os.listdir(folder or "."):
                if entry.startswith(name + ".tmp-") or entry.startswith(name + ".new"):
                    log.warning("removing %s, left by an interrupted save", entry)
                    os.unlink(os.path.join(folder, entry))

    def _load_file(self):
        ident = self._ident(self.model_path)
        model = movieme.load_model(self.model_path)
        with self._lock:
            self._model, self._model_ident = model, ident
        self._last_check = time.monotonic()

    @property
    def model(self):
        """The current model (a reference: it stays valid while held)."""
        every = self.app.config["MOVIEME_MODEL_CHECK_SECONDS"]
        now = time.monotonic()
        if now - self._last_check >= every and self._reload_lock.acquire(False):
            try:
                self._last_check = now
                try:
                    ident = self._ident(self.model_path)
                except OSError:
                    ident = self._model_ident
                if ident != self._model_ident:
                    try:
                        self._load_file()
                        log.info("reloaded model file %s", self.model_path)
                    except movieme.Error:
                        log.exception("cannot reload model; keeping the old one")
            finally:
                self._reload_lock.release()
        with self._lock:
            return self._model

    def _save(self, model):
        # atomic and durable: temporary, fsync, rename, fsync of the folder
        model.save(self.model_path)

    def _swap(self, model):
        ident = self._ident(self.model_path)
        with self._lock:
            self._model, self._model_ident = model, ident

    # ---- serving -------------------------------------------------------------
    def movie(self, movie_id):
        """Movie metadata (model first: its counts include members)."""
        try:
            return self.model.movie(movie_id)
        except movieme.NotFoundError:
            return self.catalogue.movies.get(movie_id)

    def known_movie(self, movie_id):
        return movie_id in self.catalogue.movies

    def top_options(self, **extra):
        """The library's candidate options (rec_top_n_options) the site uses
        for a member's recommendations: MOVIEME_MIN_COUNT, if set, is the
        training ratings a movie needs; `extra` adds genre=, deny=, ..."""
        least = self.app.config.get("MOVIEME_MIN_COUNT") or 0
        opts = {"min_count": least} if least > 0 else {}
        opts.update((k, v) for k, v in extra.items() if v is not None)
        return opts

    def reasons(self, ratings, movie_id):
        """Titles of the member's own liked movies that contributed most to
        movie_id's score (rec_explain_for_ratings): reasons with a positive
        weight whose rating is at least MOVIEME_LIKED_MIN, at most
        MOVIEME_REASONS of them. () when the model cannot say."""
        return self.reasons_many(ratings, [movie_id])[0]

    def reasons_many(self, ratings, movie_ids):
        """reasons() of each movie, for one set of ratings. Kept per model
        and exact ratings (model_cache.py): a changed rating is a new key."""
        if not ratings or self.app.config["MOVIEME_REASONS"] <= 0:
            return [()] * len(movie_ids)
        model, key = self.model, frozenset(ratings.items())
        return [self._explained(model, key, m) for m in movie_ids]

    def _explain(self, model, ratings_key, movie_id):
        cfg = self.app.config
        liked, most = cfg["MOVIEME_LIKED_MIN"], cfg["MOVIEME_REASONS"]
        ratings = dict(ratings_key)
        try:
            x = model.explain_for_ratings(ratings, movie_id,
                                          n=most + len(ratings))
        except movieme.NotFoundError:
            return ()
        titles = []
        for r in x.reasons:
            if r.weight > 0 and ratings.get(r.movie_id, 0) >= liked:
                m = self.catalogue.movies.get(r.movie_id)
                titles.append(m.title if m else r.title)
                if len(titles) >= most:
                    break
        return tuple(titles)

    def picks(self, recs, ratings):
        """Library results as Picks (score, predicted rating, reasons)."""
        because = self.reasons_many(ratings, [r.movie_id for r in recs])
        return [Pick(r.movie_id, r.score, r.rating, b)
                for r, b in zip(recs, because)]

    def quick_recommendations(self, ratings, n=None, member_id=None, genre=None):
        """Recommendations for {movie_id: rating}: a member's current ratings,
        ranked by the library's default (hybrid) ranking, as Picks.

        With member_id, the member is folded into this process's current
        model (rec_add_user): the model user is removed if present (a
        trained member, or an earlier fold), added again from exactly these
        ratings under the member's model id (so a re-rating replaces and a
        removed rating no longer counts), then ranked with top_n. The three
        calls run under one lock, so concurrent requests never see a half
        fold; each call takes the model's write (or read) lock in the
        binding. A new model (retrain, reload) does not know the folds made
        into the old one: the next request folds the member in again.
        Without member_id: pure fold-in (recommend_for_ratings), no change.
        No ratings: the library's cold-start list (cold_start). `genre`
        keeps one genre (the library's genre option)."""
        n = n or self.app.config["MOVIEME_QUICK_N"]
        if not ratings:
            return self.cold_start(n=n, genre=genre)
        model, ratings = self.model, dict(ratings)
        opts = self.top_options(genre=genre)
        if member_id is None:
            recs = model.recommend_for_ratings(ratings, n=n, **opts)
        else:
            uid = self.model_user_id(member_id)
            with self._fold_lock:
                if uid in model:
                    model.remove_user(uid)
                model.add_user(ratings, user_id=uid)
                # top_n leaves out the member's rated movies itself
                recs = model.top_n(uid, n=n, **opts)
        return self.picks(recs, ratings)

    def cold_start(self, exclude=(), n=None, genre=None):
        """What the library recommends to someone with no usable ratings
        (its documented cold-start ranking: Bayesian average), leaving out
        `exclude` (movies the member already rated)."""
        n = n or self.app.config["MOVIEME_QUICK_N"]
        recs = self.model.recommend_for_ratings(
            {}, n=n, **self.top_options(deny=list(exclude) or None,
                                        genre=genre))
        return self.picks(recs, {})

    def similar(self, movie_id, n=10):
        """The model's similar movies (a tuple; kept per model)."""
        return self._similar(self.model, movie_id, n)

    def _similar_movies(self, model, movie_id, n):
        least = self.app.config["MOVIEME_SIMILAR_MIN_COUNT"]
        try:
            return tuple(model.similar_movies(movie_id, n=n,
                                              min_count=least or None))
        except movieme.NotFoundError:
            return ()

    def best(self, genre=None, n=50):
        key = (genre or "", n)
        if key not in self._best_cache:
            self._best_cache[key] = self.base.best_movies(
                n=n, min_count=self.app.config["MOVIEME_BEST_MIN_COUNT"],
                prior_weight=10.0, genre=genre or None)
        return self._best_cache[key]

    def _fault(self, step):
        if self._faults is not None:
            self._faults.reached(step)

    # ---- training ------------------------------------------------------------
    def _member_rows(self):
        rows = db.session.query(Rating.user_id, Rating.movie_id, Rating.rating).all()
        db.session.rollback()   # release the snapshot, SQLite locks
        return rows

    def _train_snapshot(self, progress=None):
        """Train on MovieLens + members. Returns (model, rows, snapshot_at)."""
        snapshot_at = utcnow()
        rows = self._member_rows()
        self._fault("snapshot")
        data = self.base.copy()
        if rows:
            data.add([(self.model_user_id(u), m, float(r)) for u, m, r in rows])
        cfg = self.app.config
        extra = {}
        for key in ("reg", "bias_reg"):      # None: the library's default
            if cfg.get("MOVIEME_" + key.upper()) is not None:
                extra[key] = cfg["MOVIEME_" + key.upper()]
        mode = cfg.get("MOVIEME_ALS_MODE", "hybrid")
        if mode == "implicit":              # ratings as interactions only
            extra.update(implicit=True, alpha=cfg.get("MOVIEME_ALPHA", 1.0))
        elif mode == "explicit":            # the rating model only
            extra["preference"] = False
        # tuning.py: tunes now and then, else trains with the stored choice
        model = self.tuning.train(data, dict(
            rank=cfg["MOVIEME_RANK"], iterations=cfg["MOVIEME_ITERATIONS"],
            seed=cfg["MOVIEME_SEED"], n_threads=cfg["MOVIEME_THREADS"],
            **extra), progress=progress, stop=self._stop.is_set)
        return model, rows, snapshot_at

    def _progress(self, job_id):
        """Progress callback: record the iteration in the job row; cancel the
        training (return False) when the worker is being stopped."""
        def report(p):
            try:
                RetrainJob.query.filter_by(id=job_id).update(
                    {"iteration": p.iteration, "iterations": p.iterations},
                    synchronize_session=False)
                db.session.commit()
            except Exception:       # progress is best effort
                db.session.rollback()
            self._fault("training")
            return not self._stop.is_set()
        return report

    # ---- jobs ------------------------------------------------------------------
    def enqueue(self, reason):
        """Add a pending job unless one is already pending; return the job."""
        job = RetrainJob.query.filter_by(status="pending").order_by(RetrainJob.id).first()
        if job is None:
            job = RetrainJob(reason=reason, status="pending")
            db.session.add(job)
            db.session.commit()
        return job

    def recover_interrupted(self):
        """Jobs left 'running' by a killed process: retry (or give up)."""
        n = 0
        for job in RetrainJob.query.filter_by(status="running").all():
            self._retry_or_give_up(job, "interrupted")
            n += 1
        db.session.commit()
        return n

    @staticmethod
    def _retry_or_give_up(job, why, last=None):
        """A job stopped by no fault of its own (its process killed, the
        database away): pending again, or failed after MAX_ATTEMPTS."""
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = "failed", utcnow()
            job.error = ("%s %d times" % (why, job.attempts)
                         + (" (last: %s)" % last if last else ""))[:500]
        else:
            job.status = "pending"

    def due_reason(self):
        """Why a retrain is due now, or None."""
        cfg = self.app.config
        if RetrainJob.query.filter(RetrainJob.status.in_(("pending", "running"))).count():
            return None
        last = RetrainJob.query.order_by(RetrainJob.id.desc()).first()
        last_done = (RetrainJob.query.filter_by(status="done")
                     .order_by(RetrainJob.id.desc()).first())
        since = last_done.snapshot_at if last_done else dt.datetime(1970, 1, 1)
        n_total = Rating.query.count()
        n_new = Rating.query.filter(Rating.updated_at > since).count()
        changed = n_new > 0 or (last_done is not None and n_total != last_done.n_ratings) \
            or (last_done is None and n_total > 0)
        if not changed:
            return None
        if n_new >= cfg["MOVIEME_RETRAIN_MIN_RATINGS"]:
            return "new-ratings"
        now = utcnow()
        if last is None or (now - last.created_at).total_seconds() >= cfg["MOVIEME_RETRAIN_INTERVAL"]:
            return "schedule"
        # new members waiting for their first full recommendations
        gap = cfg["MOVIEME_RETRAIN_MIN_GAP"]
        if last is not None and (now - last.created_at).total_seconds() < gap:
            return None
        waiting = (db.session.query(Rating.user_id)
                   .outerjoin(Recommendation, Recommendation.user_id == Rating.user_id)
                   .filter(Recommendation.user_id.is_(None))
                   .group_by(Rating.user_id)
                   .having(func.count(Rating.movie_id) >= cfg["MOVIEME_QUICK_MIN_RATINGS"])
                   .first())
        return "new-member" if waiting else None

    def run_next_job(self):
        """Claim the oldest pending job and run it. Returns it, or None."""
        job = RetrainJob.query.filter_by(status="pending").order_by(RetrainJob.id).first()
        if job is None:
            return None
        claimed = (RetrainJob.query.filter_by(id=job.id, status="pending")
                   .update({"status": "running", "started_at": utcnow(),
                            "attempts": RetrainJob.attempts + 1},
                           synchronize_session=False))
        db.session.commit()
        if not claimed:
            return None
        job_id = job.id
        t0 = time.monotonic()
        self._fault("claimed")
        try:
            delay = self.app.config["MOVIEME_TRAIN_DELAY"]
            if delay:
                time.sleep(delay)   # test hook: a window to kill the process
            model, rows, snapshot_at = self._train_snapshot(self._progress(job_id))
            self._fault("save")
            self._save(model)
            self._fault("renamed")
            # the recommendations from the trained factors, before quick
            # requests fold members into the served model; they and the
            # job's end are committed in one transaction after the swap
            self._store_recommendations(model, rows, job_id)
            self._swap(model)
            job = db.session.get(RetrainJob, job_id)
            job.status, job.finished_at = "done", utcnow()
            job.snapshot_at, job.n_ratings = snapshot_at, len(rows)
            job.seconds = time.monotonic() - t0
            self._fault("stored")
            db.session.commit()
            self._fault("committed")
            log.info("retrain job %d done in %.1fs", job_id, job.seconds)
        except movieme.CancelledError:
            # stopped while training (shutdown): the job waits for the next start
            db.session.rollback()
            job = db.session.get(RetrainJob, job_id)
            job.status, job.attempts = "pending", max(0, job.attempts - 1)
            job.iteration = job.iterations = None
            db.session.commit()
            log.info("retrain job %d cancelled by shutdown; it stays pending", job_id)
        except DATABASE_ERRORS as exc:
            # the database went away (a restart, the network): retry the
            # job. If it is still away this raises; the job stays
            # 'running' and the worker's next step recovers it.
            db.session.rollback()
            what = "%s: %s" % (type(exc).__name__, (str(exc).splitlines() or [""])[0])
            log.warning("retrain job %d interrupted by a database error: %s", job_id, what)
            job = db.session.get(RetrainJob, job_id)
            self._retry_or_give_up(job, "stopped by a database error", what)
            db.session.commit()
        except Exception as exc:   # keep the old model, record the failure
            db.session.rollback()
            log.error("retrain job %d failed: %s", job_id, traceback.format_exc())
            job = db.session.get(RetrainJob, job_id)
            job.status, job.finished_at = "failed", utcnow()
            job.error = ("%s: %s" % (type(exc).__name__, exc))[:500]
            job.seconds = time.monotonic() - t0
            db.session.commit()
        return job

    def _store_recommendations(self, model, rows, job_id):
        """Every member's list in one batch call (top_n_many: one matrix
        product per block of members, each row equal to top_n)."""
        n = self.app.config["MOVIEME_FULL_N"]
        members = [(u, self.model_user_id(u))
                   for u in sorted({u for u, _, _ in rows})]
        members = [(u, uid) for u, uid in members if uid in model]
        if members:     # computed before the first write: on SQLite a
            # write holds the database's write lock until the commit
            ids, scores, ratings = model.top_n_many(
                [uid for _, uid in members], n, with_ratings=True,
                **self.top_options())
        db.session.query(Recommendation).delete(synchronize_session=False)
        now = utcnow()
        for row, (u, _) in enumerate(members):
            db.session.add_all(
                Recommendation(user_id=u, position=i,
                               movie_id=int(ids[row, i]),
                               score=float(scores[row, i]),
                               rating=float(ratings[row, i]),
                               job_id=job_id, created_at=now)
                for i in range(ids.shape[1]) if ids[row, i] >= 0)

    def tick(self):
        """One worker step: schedule if due, then run a pending job.
        Only the worker runs jobs, one at a time, so a job still 'running'
        here was orphaned (its process was killed, or the database went
        away before the job could be marked failed): it is retried."""
        self.recover_interrupted()
        reason = self.due_reason()
        if reason:
            self.enqueue(reason)
        return self.run_next_job()

    # ---- background worker -------------------------------------------------------
    def start_background(self):
        lock_path = os.path.join(self.app.instance_path, "retrain.lock")
        fd = open(lock_path, "a")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fd.close()
            log.info("another process runs the retrain worker")
            return False
        self._lock_fd = fd
        self._thread = threading.Thread(target=self._loop, name="movieme-retrain",
                                        daemon=True)
        self._thread.start()
        return True

    def _loop(self):
        poll = self.app.config["MOVIEME_WORKER_POLL"]
        failures = 0
        try:
            self.remove_temporaries()
        except OSError:
            log.exception("cannot remove temporary model files")
        while not self._stop.is_set():
            with self.app.app_context():
                try:
                    while self.tick() is not None and not self._stop.is_set():
                        pass
                    failures = 0
                except Exception:   # the database may be away: try later
                    failures += 1
                    log.exception("retrain worker step failed")
                finally:
                    db.session.remove()
            # after failed steps, wait twice as long each time (up to a minute)
            self._stop.wait(min(poll * 2 ** min(failures, 10), max(poll, 60.0)))

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        if self._lock_fd:
            self._lock_fd.close()
            self._lock_fd = None

    # ---- status --------------------------------------------------------------------
    def status(self):
        model = self.model
        return {"model_users": model.n_users, "model_movies": model.n_movies,
                "rank": model.rank, "model_file": os.path.basename(self.model_path)}
