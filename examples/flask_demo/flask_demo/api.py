"""JSON API under /api/, with the same session authentication as the pages.

CSRF: this blueprint is exempt from the form token. Unsafe methods (POST,
PUT, DELETE) must send Content-Type: application/json and, when the browser
sends Origin / Sec-Fetch-Site, come from this site (security.same_origin_json).
A cross-site HTML form cannot produce such a request, and cross-origin
fetch() with JSON needs a CORS preflight that this app never answers. The
session cookie is SameSite=Lax on top of that.
"""
import os

from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import text

from . import service
from .auth import authenticate, end_session, start_session
from .limits import half_star, has_nul
from .models import RetrainJob, db
from .security import (clear_failures, login_blocked, record_failure,
                       same_origin_json)

bp = Blueprint("api", __name__)


def engine():
    return current_app.extensions["movieme"]


@bp.before_request
def _csrf_rule():
    problem = same_origin_json()
    if problem:
        code = 415 if "Content-Type" in problem else 403
        return jsonify(error=problem), code
    return None


def movie_json(m, score=None):
    count, avg = engine().catalogue.count.get(m.movie_id, (0, 0.0))
    out = {"movie_id": m.movie_id, "title": m.title, "genres": list(m.genres),
           "year": m.year or None, "n_ratings": count, "mean_rating": round(avg, 3)}
    if score is not None:
        out["score"] = round(float(score), 4)
    return out


def recs_json(recs):
    """Library results as JSON; recommendations (Picks) also carry the
    predicted rating and the reasons."""
    cat = engine().catalogue.movies
    out = []
    for r in recs:
        if r.movie_id not in cat:
            continue
        item = movie_json(cat[r.movie_id], r.score)
        if hasattr(r, "because"):
            item["predicted_rating"] = round(float(r.rating), 2)
            item["because"] = list(r.because)
        out.append(item)
    return out


def _body():
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested too deep: silent= covers ValueError only
        abort(400, "the body must be a JSON object")
    if not isinstance(data, dict):
        abort(400, "the body must be a JSON object")
    if has_nul(data):
        abort(400, "text must not contain NUL characters")
    return data


@bp.route("/health")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok", pid=os.getpid(), **engine().status())


@bp.route("/login", methods=["POST"])
def login():
    data = _body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) \
            or not username or len(username) > 40 or len(password) > 128:
        abort(400, "username and password (strings) are required")
    if login_blocked(username):
        return jsonify(error="too many failed attempts"), 429
    user = authenticate(username, password)
    if user is None:
        record_failure(username)
        return jsonify(error="wrong username or password"), 401
    clear_failures(username)
    start_session(user)
    return jsonify(id=user.id, username=user.username)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(current_user._get_current_object())
    return jsonify(ok=True)


@bp.route("/me")
@login_required
def me():
    return jsonify(id=current_user.id, username=current_user.username,
                   n_ratings=len(service.my_ratings(current_user.id)))


@bp.route("/movies/search")
@login_required
def search():
    q = request.args.get("q", "").strip()[:100]
    return jsonify(query=q, results=[movie_json(m) for m in engine().catalogue.search(q)])


@bp.route("/movies/popular")
@login_required
def popular():
    genre = request.args.get("genre") or None
    if genre and genre not in engine().catalogue.genres:
        abort(400, "unknown genre")
    try:
        decade = int(request.args.get("decade") or 0) or None
        limit = min(max(int(request.args.get("limit", 30)), 1), 200)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        abort(400, "decade, limit and offset must be integers")
    movies, total = engine().catalogue.popular(genre, decade, offset, limit)
    return jsonify(total=total, results=[movie_json(m) for m in movies])


@bp.route("/movies/best")
@login_required
def best():
    genre = request.args.get("genre") or None
    if genre and genre not in engine().catalogue.genres:
        abort(400, "unknown genre")
    return jsonify(genre=genre, results=recs_json(engine().best(genre)))


@bp.route("/movies/<int:movie_id>")
@login_required
def movie(movie_id):
    if not engine().known_movie(movie_id):
        abort(404)
    out = movie_json(engine().catalogue.movies[movie_id])
    out["site"] = service.site_stats(movie_id)
    out["my_rating"] = service.my_ratings(current_user.id).get(movie_id)
    out["similar"] = recs_json(engine().similar(movie_id, 12))
    return jsonify(out)


@bp.route("/ratings")
@login_required
def ratings():
    rows = service.my_rating_rows(current_user.id)
    return jsonify(ratings=[{"movie_id": r.movie_id, "rating": r.rating,
                             "updated_at": r.updated_at.isoformat() + "Z"} for r in rows])


@bp.route("/ratings/<int:movie_id>", methods=["PUT", "POST"])
@login_required
def put_rating(movie_id):
    data = _body()
    rating = data.get("rating")
    if not half_star(rating):
        abort(400, "rating must be a number from 0.5 to 5 in half stars")
    if not engine().known_movie(movie_id):
        abort(404)
    service.set_rating(current_user.id, movie_id, rating)
    return jsonify(movie_id=movie_id, rating=float(rating))


@bp.route("/ratings/<int:movie_id>", methods=["DELETE"])
@login_required
def delete_rating(movie_id):
    if not service.delete_rating(current_user.id, movie_id):
        abort(404)
    return jsonify(deleted=movie_id)


@bp.route("/recommendations/quick")
@login_required
def quick():
    """Quick picks; below the minimum of ratings the library's cold-start
    list (personal: false)."""
    genre = request.args.get("genre") or None
    if genre and genre not in engine().catalogue.genres:
        abort(400, "unknown genre")
    mine = service.my_ratings(current_user.id)
    personal = len(mine) >= current_app.config["MOVIEME_QUICK_MIN_RATINGS"]
    recs = service.quick(current_user.id, mine, genre)   # [] when not personal
    if not personal:
        recs = service.cold(mine, genre=genre)
    return jsonify(personal=personal, genre=genre, results=recs_json(recs))


@bp.route("/recommendations")
@login_required
def full():
    state = service.full(current_user.id)
    return jsonify(status=state["status"], stale=state["stale"], job=state["job"],
                   computed_at=state["computed_at"].isoformat() + "Z"
                   if state["computed_at"] else None,
                   results=recs_json(state["items"]),
                   cold_start=recs_json(state["cold"]))


@bp.route("/retrain", methods=["POST"])
@login_required
def retrain():
    """Ask for a retrain (for tests and scripts; off in production)."""
    if not current_app.config["MOVIEME_RETRAIN_API"]:
        abort(403)
    job = engine().enqueue("api")
    return jsonify(job.as_dict()), 202


@bp.route("/jobs/<int:job_id>")
@login_required
def job(job_id):
    job = db.session.get(RetrainJob, job_id)
    if job is None:
        abort(404)
    return jsonify(job.as_dict())
