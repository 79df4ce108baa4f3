"""Member data and recommendations, shared by the pages and the API."""
from flask import current_app
from sqlalchemy import func

from .engine import Pick
from .models import Rating, Recommendation, RetrainJob, db, utcnow


def engine():
    return current_app.extensions["movieme"]


def my_ratings(user_id):
    """{movie_id: rating} of a member."""
    return dict(db.session.query(Rating.movie_id, Rating.rating)
                .filter(Rating.user_id == user_id).all())


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
    count, avg = (db.session.query(func.count(Rating.rating), func.avg(Rating.rating))
                  .filter(Rating.movie_id == movie_id).one())
    return {"count": count or 0, "average": float(avg) if avg is not None else None}


def full(user_id, mine=None):
    """The member's full recommendations and their state:
    'no-ratings', 'too-few' (below the quick minimum), 'preparing' (not
    computed yet) or 'ready'."""
    mine = my_ratings(user_id) if mine is None else mine
    rows = (Recommendation.query.filter_by(user_id=user_id)
            .order_by(Recommendation.position).all())
    pending = (RetrainJob.query.filter(RetrainJob.status.in_(("pending", "running")))
               .order_by(RetrainJob.id).first())
    last_done = (RetrainJob.query.filter_by(status="done")
                 .order_by(RetrainJob.id.desc()).first())
    state = {"items": [], "cold": [], "status": "ready",
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
    model, uid = engine().model, engine().model_user_id(user_id)
    state["items"] = [
        Pick(r.movie_id, r.score,
             r.rating if r.rating is not None else model.predict(uid, r.movie_id),
             tuple(engine().reasons(mine, r.movie_id)))
        for r in rows if r.movie_id not in mine]
    state["computed_at"] = rows[0].created_at
    if last_done and last_done.snapshot_at:
        newer = (Rating.query.filter(Rating.user_id == user_id,
                                     Rating.updated_at > last_done.snapshot_at).count())
        state["stale"] = newer > 0
    return state
