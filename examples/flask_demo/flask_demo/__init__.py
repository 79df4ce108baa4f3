"""MovieMe demo site: a Flask application on libmovieme's Python binding.

    create_app(overrides=None, profile=None) -> Flask app

Configuration comes from the environment (see config.py and README.md).
"""
import fcntl
import logging
import os
import secrets

from flask import (Flask, g, jsonify, make_response, redirect, render_template,
                   request, url_for)
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import bindparam, event, select
from sqlalchemy.pool import QueuePool
from sqlalchemy import exc as sa_exc

from . import pg_alive
from .config import load_config
from .limits import IdConverter, has_nul, ids_in_range, valid_id
from .models import User, add_missing_columns, db
from .sessions import RefreshWhenOld

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


# Built once: the session's member is loaded on every request (prebuilt,
# SQLAlchemy skips building and hashing the query each time).
_USER_BY_ID = select(User).where(User.id == bindparam("uid"))


@login_manager.user_loader
def _load_user(user_id):
    try:
        uid, version = (int(x) for x in user_id.split(":"))
    except (ValueError, AttributeError):
        return None
    if not valid_id(uid):                 # no such row (limits.py)
        return None
    user = db.session.execute(_USER_BY_ID, {"uid": uid}).scalar_one_or_none()
    if user is None or user.session_version != version:
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        return jsonify(error="login required"), 401
    from .security import safe_next
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=safe_next(target)))


def _sqlite_pragmas(dbapi_conn, record):
    """WAL lets readers (other workers) go on while one process writes."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _secret_key(app):
    path = os.path.join(app.instance_path, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path) as f:
            key = f.read().strip()
        if key:
            return key
        raise RuntimeError("empty secret key file %s" % path)
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def _wants_json():
    return request.path.startswith("/api/")


ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You are not allowed to do that."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Method not allowed", "This address does not accept that method."),
    413: ("Too large", "The request body is too large."),
    415: ("Unsupported media type", "Send JSON to the API."),
    429: ("Too many attempts", "Too many failed logins. Wait a few minutes and try again."),
    500: ("Server error", "Something went wrong on our side."),
    503: ("Temporarily unavailable",
          "The database cannot be reached right now. Please try again in a moment."),
}


def error_response(code, detail=None):
    title, text = ERROR_TEXT.get(code, ("Error", "Error"))
    if _wants_json():
        return make_response(jsonify(error=detail or text), code)
    return make_response(render_template("errors/error.html", code=code, title=title,
                                         text=detail or text), code)


def _register_errors(app):
    for code in ERROR_TEXT:
        if code == 503:
            continue
        app.register_error_handler(
            code, lambda e, code=code: error_response(
                code, getattr(e, "description", None) if code in (400, 415) else None))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return error_response(400, "The form has expired or is invalid "
                                   "(missing CSRF token). Please reload the page and try again.")

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.DisconnectionError)
    def _db_down(e):
        app.logger.error("database error: %s", e)
        try:
            db.session.rollback()
        except Exception:
            pass
        db.session.remove()
        g._login_user = login_manager.anonymous_user()   # no DB lookups now
        resp = error_response(503)
        resp.headers["Retry-After"] = "5"
        return resp


def create_app(overrides=None, profile=None):
    instance = os.environ.get("MOVIEME_INSTANCE")
    if overrides and overrides.get("INSTANCE_PATH"):
        instance = overrides["INSTANCE_PATH"]
    app = Flask(__name__, instance_path=os.path.abspath(instance) if instance else None)
    # ids in URLs are bounded (limits.py), before any route is added
    app.url_map.converters["int"] = IdConverter
    app.url_value_preprocessor(ids_in_range)
    load_config(app, profile, overrides)
    app.session_interface = RefreshWhenOld()
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = "sqlite:///" + os.path.join(app.instance_path, "movieme.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("postgres://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = uri = "postgresql://" + uri[len("postgres://"):]
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if ":memory:" not in uri and uri != "sqlite://":
            # keep connections (SQLAlchemy 1.4 opens one per request for files)
            options.setdefault("poolclass", QueuePool)
    else:
        options.setdefault("connect_args", {"connect_timeout": 5})
    # PostgreSQL: the socket check of pg_alive.py instead of a SELECT 1
    socket_check = (uri.split(":", 1)[0] in ("postgresql", "postgresql+psycopg2")
                    and options.get("pool_pre_ping"))
    if socket_check:
        options["pool_pre_ping"] = False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import api, auth, fragments, views
    fragments.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    csrf.exempt(api.bp)      # protected by security.same_origin_json instead
    _register_errors(app)

    @app.before_request
    def _body_limit():
        # get_json() does not enforce MAX_CONTENT_LENGTH by itself
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and request.content_length and request.content_length > limit:
            return error_response(413)
        return None

    @app.before_request
    def _no_nul():
        # limits.py: PostgreSQL refuses NUL in text; refuse it for both
        for values in (request.args, request.form):
            if any(has_nul(k) or has_nul(v) for k, v in values.items(multi=True)):
                return error_response(400, "Text must not contain NUL characters.")
        return None

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; form-action 'self'; frame-ancestors 'none'")
        return resp

    from .engine import Engine
    from .memory import keep_large_blocks_mapped
    keep_large_blocks_mapped()        # a replaced model goes back to the system
    with app.app_context():
        if uri.startswith("sqlite"):
            event.listen(db.engine, "connect", _sqlite_pragmas)
        if socket_check:
            pg_alive.install(db.engine)
        # Several workers starting together must not race to create tables.
        with open(os.path.join(app.instance_path, "init.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            db.create_all()
            add_missing_columns(db.engine)
        engine = Engine(app)
        engine.ensure_model()
        db.session.remove()
    app.extensions["movieme"] = engine
    if app.config["MOVIEME_BACKGROUND"]:
        engine.start_background()
    return app
