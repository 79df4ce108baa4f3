"""Application pages (members only)."""
import datetime as dt
import os

from flask import (Blueprint, abort, current_app, flash, redirect,
                   render_template, request, url_for)
from flask_login import current_user, login_required

from . import service
from .forms import DeleteRatingForm, RateForm
from .models import RetrainJob
from .security import safe_next

bp = Blueprint("main", __name__)


@bp.before_request
@login_required
def _members_only():
    return None


def engine():
    return current_app.extensions["movieme"]


def _int_arg(name, default=None, lo=None, hi=None):
    value = request.args.get(name, "")
    if value == "":
        return default
    try:
        value = int(value)
    except ValueError:
        abort(400, "'%s' must be a number" % name)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        abort(400, "'%s' is out of range" % name)
    return value


def _genre_arg():
    genre = request.args.get("genre", "")
    if genre and genre not in engine().catalogue.genres:
        abort(400, "unknown genre")
    return genre or None


@bp.route("/")
def home():
    mine = service.my_ratings(current_user.id)
    quick = service.quick(current_user.id, mine)
    cold = [] if quick else service.cold(mine, n=8)
    quick = [(r, engine().catalogue.movies.get(r.movie_id)) for r in quick[:8]]
    cold = [(r, engine().catalogue.movies.get(r.movie_id)) for r in cold]
    return render_template("home.html", n_ratings=len(mine), quick=quick,
                           cold=cold,
                           popular=engine().catalogue.popular(limit=8)[0],
                           counts=engine().catalogue.count,
                           mine=mine, min_quick=current_app.config["MOVIEME_QUICK_MIN_RATINGS"])


@bp.route("/search")
def search():
    q = request.args.get("q", "").strip()[:100]
    results = engine().catalogue.search(q) if q else []
    mine = service.my_ratings(current_user.id)
    return render_template("search.html", q=q, results=results, mine=mine,
                           counts=engine().catalogue.count)


@bp.route("/popular")
def popular():
    genre = _genre_arg()
    decade = _int_arg("decade", None, 1800, 2100)
    page = _int_arg("page", 1, 1, 10000)
    per = 30
    movies, total = engine().catalogue.popular(genre, decade, (page - 1) * per, per)
    mine = service.my_ratings(current_user.id)
    return render_template("popular.html", movies=movies, total=total, page=page,
                           pages=max(1, (total + per - 1) // per), genre=genre,
                           decade=decade, genres=engine().catalogue.genres,
                           decades=engine().catalogue.decades, mine=mine,
                           counts=engine().catalogue.count)


@bp.route("/best")
def best():
    genre = _genre_arg()
    items = [(r, engine().catalogue.movies.get(r.movie_id)) for r in engine().best(genre)]
    return render_template("best.html", items=items, genre=genre,
                           genres=engine().catalogue.genres,
                           counts=engine().catalogue.count,
                           mine=service.my_ratings(current_user.id))


@bp.route("/movie/<int:movie_id>")
def movie(movie_id):
    m = engine().movie(movie_id) if engine().known_movie(movie_id) else None
    if m is None:
        abort(404)
    mine = service.my_ratings(current_user.id)
    similar = [(r, engine().catalogue.movies.get(r.movie_id))
               for r in engine().similar(movie_id, 12)]
    site = service.site_stats(movie_id)
    return render_template("movie.html", m=m, similar=similar, mine=mine,
                           site=site, counts=engine().catalogue.count)


@bp.route("/ratings")
def my_ratings():
    mine = service.my_ratings(current_user.id)
    rows = service.my_rating_rows(current_user.id)
    items = [(r, engine().catalogue.movies.get(r.movie_id)) for r in rows]
    return render_template("ratings.html", items=items, mine=mine,
                           counts=engine().catalogue.count)


@bp.route("/rate", methods=["POST"])
def rate():
    form = RateForm()
    back = safe_next(form.next.data, url_for("main.my_ratings"))
    if not form.validate():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        return render_template("errors/error.html", code=400, title="Rating not saved",
                               text=errors, back=back), 400
    if not engine().known_movie(form.movie_id.data):
        abort(404)
    service.set_rating(current_user.id, form.movie_id.data, form.rating.data)
    title = engine().catalogue.movies[form.movie_id.data].title
    flash("You rated %s %s stars." % (title, _stars(form.rating.data)), "success")
    return redirect(back)


@bp.route("/rate/delete", methods=["POST"])
def delete_rating():
    form = DeleteRatingForm()
    back = safe_next(form.next.data, url_for("main.my_ratings"))
    if not form.validate():
        abort(400)
    if not service.delete_rating(current_user.id, form.movie_id.data):
        abort(404)
    flash("Rating removed.", "info")
    return redirect(back)


@bp.route("/recommendations/quick")
def quick():
    genre = _genre_arg()
    mine = service.my_ratings(current_user.id)
    personal = len(mine) >= current_app.config["MOVIEME_QUICK_MIN_RATINGS"]
    recs = service.quick(current_user.id, mine, genre)   # [] when not personal
    items = [(r, engine().catalogue.movies.get(r.movie_id)) for r in recs]
    cold = [] if personal else [(r, engine().catalogue.movies.get(r.movie_id))
                                for r in service.cold(mine, genre=genre)]
    return render_template("quick.html", items=items, cold=cold, mine=mine,
                           personal=personal,
                           genre=genre, genres=engine().catalogue.genres,
                           counts=engine().catalogue.count,
                           min_quick=current_app.config["MOVIEME_QUICK_MIN_RATINGS"])


@bp.route("/recommendations")
def full():
    state = service.full(current_user.id)
    mine = state["mine"]
    items = [(r, engine().catalogue.movies.get(r.movie_id)) for r in state["items"]]
    cold = [(r, engine().catalogue.movies.get(r.movie_id)) for r in state["cold"]]
    return render_template("full.html", state=state, items=items, cold=cold,
                           mine=mine,
                           counts=engine().catalogue.count,
                           min_quick=current_app.config["MOVIEME_QUICK_MIN_RATINGS"])


def _stars(x):
    return ("%.1f" % x).rstrip("0").rstrip(".")


@bp.route("/about")
def about():
    """About the model: its parameters, where they come from (the stored
    tuning, tuning.py), their validation scores, when it was trained and on
    how many ratings."""
    eng = engine()
    cfg = current_app.config
    tuned = eng.tuning.about()
    last_job = (RetrainJob.query.filter_by(status="done")
                .order_by(RetrainJob.id.desc()).first())
    trained_at = dt.datetime.utcfromtimestamp(os.path.getmtime(eng.model_path))
    next_tune = None
    if tuned:
        row = tuned["row"]
        if cfg["MOVIEME_TUNE_EVERY"]:
            next_tune = {"trainings": max(0, cfg["MOVIEME_TUNE_EVERY"] - row.trainings)}
        if cfg["MOVIEME_TUNE_MAX_AGE"]:
            next_tune = dict(next_tune or {}, at=row.tuned_at + dt.timedelta(
                seconds=cfg["MOVIEME_TUNE_MAX_AGE"]))
    return render_template("about.html", tuned=tuned, status=eng.status(),
                           mode=cfg["MOVIEME_ALS_MODE"], trained_at=trained_at,
                           last_job=last_job, base_ratings=len(eng.base),
                           tuning_on=eng.tuning.enabled, next_tune=next_tune,
                           mine=service.my_ratings(current_user.id))
