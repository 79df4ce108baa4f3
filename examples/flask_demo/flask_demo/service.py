"""Member data and recommendations, shared by the pages and the API."""
from flask import current_app
from sqlalchemy import bindparam, func, or_, select

from .engine import Pick
from .models import Rating, Recommendation, RetrainJob, db, utcnow

# The queries of every page view, built once: SQLAlchemy would otherwise
# build and hash the expression again on each call (measured: most of the
# cost of a query on SQLite). Executed with bound parameters.
_MY_RATINGS = select(Rating.movie_id, Rating.rating).where(
    Rating.user_id == bindparam("user_id"))
_MY_RATINGS_TIMES = select(Rating.movie_id, Rating.rating, Rating.updated_at).where(
    Rating.user_id == bindparam("user_id"))
_SITE_STATS = select(func.count(Rating.rating), func.avg(Rating.rating)).where(
    Rating.movie_id == bindparam("movie_id"))
_RECOMMENDATIONS = (
    select(Recommendation.movie_id, Recommendation.score, Recommendation.rating,
           Recommendation.created_at)
    .where(Recommendation.user_id == bindparam("user_id"))
    .order_by(Recommendation.position))
# the jobs a recommendations page shows: pending or running, and the last done
_PAGE_JOBS = (
    select(RetrainJob.id, RetrainJob.status, RetrainJob.snapshot_at)
    .where(or_(RetrainJob.status.in_(("pending", "running")),
               RetrainJob.id == select(func.max(RetrainJob.id))
               .where(RetrainJob.status == "done").scalar_subquery()))
    .order_by(RetrainJob.id))


def engine():
    return current_app.extensions["movieme"]


def _read(statement, params=None):
    """Rows of a prebuilt column query, on the session's connection and
    transaction but past the ORM's result machinery (these queries load
    columns, not objects): a third of each query's cost on SQLite."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()                 # what the ORM's autoflush would do
    return session.connection().execute(statement, params or {})


def my_ratings(user_id):
    """{movie_id: rating} of a member."""
    return dict(_read(_MY_RATINGS, {"user_id": user_id}).all())


def my_ratings_latest(user_id):
    """({movie_id: rating}, when the member last rated or None), one query."""
    rows = _read(_MY_RATINGS_TIMES, {"user_id": user_id}).all()
    return ({m: r for m, r, _ in rows},
            max((t for _, _, t in rows), default=None))


def my_rating_rows(user_id):
    return (Rating.query.filter_by(user_id=user_id)
            .order_by(Rating.updated_at.desc(), Rating.movie_id).all())


def set_rating(user_id, movie_id, rating):
    """Insert or replace; committed before the request answers."""
    row = db.session.get(Rating, (user_id, movie_id))
    if row is None:
        db.session.add(Rating(user_id=user_id, movie_id=movie_id, rating=float(rating)))
    else:
        row.rating = float(rating)
        row.updated_at = utcnow()
    db.session.commit()


def delete_rating(user_id, movie_id):
    if not 0 <= movie_id < 2 ** 31:      # no such row; PostgreSQL would refuse the value
        return False
    n = Rating.query.filter_by(user_id=user_id, movie_id=movie_id).delete()
    db.session.commit()
    return n > 0


def quick(user_id, mine=None, genre=None):
    """12 recommendations with the member folded into the model
    (add_user), of one genre if given, or [] below the minimum of ratings."""
    mine = my_ratings(user_id) if mine is None else mine
    if len(mine) < current_app.config["MOVIEME_QUICK_MIN_RATINGS"]:
        return []
    return engine().quick_recommendations(mine, member_id=user_id, genre=genre)


def cold(mine, n=None, genre=None):
    """What a member too new for personal picks gets: the library's
    cold-start list, without the movies they already rated."""
    return engine().cold_start(exclude=mine, n=n, genre=genre)


def site_stats(movie_id):
    count, avg = _read(_SITE_STATS, {"movie_id": movie_id}).one()
    return {"count": count or 0, "average": float(avg) if avg is not None else None}


def full(user_id):
    """The member's full recommendations and their state:
    'no-ratings', 'too-few' (below the quick minimum), 'preparing' (not
    computed yet) or 'ready'; state["mine"] is their {movie_id: rating}.
    Four queries with the member's: ratings, recommendations (columns, not
    objects) and the retrain jobs (pending or running, and the last done,
    in one)."""
    mine, latest = my_ratings_latest(user_id)
    rows = _read(_RECOMMENDATIONS, {"user_id": user_id}).all()
    jobs = _read(_PAGE_JOBS).all()
    pending = next((j for j in jobs if j.status in ("pending", "running")), None)
    last_done = next((j for j in jobs if j.status == "done"), None)
    if pending is not None:             # all of it, for the page's progress line
        pending = db.session.get(RetrainJob, pending.id)
    state = {"items": [], "cold": [], "status": "ready", "mine": mine,
             "job": pending.as_dict() if pending else None,
             "computed_at": None, "stale": False,
             "interval": current_app.config["MOVIEME_RETRAIN_INTERVAL"]}
    if not rows:
        if not mine:
            state["status"] = "no-ratings"
        elif len(mine) < current_app.config["MOVIEME_QUICK_MIN_RATINGS"]:
            state["status"] = "too-few"     # no retrain is triggered for them yet
        else:
            state["status"] = "preparing"
        if state["status"] != "preparing":
            state["cold"] = cold(mine)
        return state
    state["computed_at"] = rows[0].created_at
    rows = [r for r in rows if r.movie_id not in mine]
    model, uid = engine().model, engine().model_user_id(user_id)
    because = engine().reasons_many(mine, [r.movie_id for r in rows])
    state["items"] = [
        Pick(r.movie_id, r.score,
             r.rating if r.rating is not None else model.predict(uid, r.movie_id),
             b)
        for r, b in zip(rows, because)]
    if last_done and last_done.snapshot_at and latest is not None:
        # rated since the snapshot the recommendations were computed from
        state["stale"] = latest > last_done.snapshot_at
    return state
