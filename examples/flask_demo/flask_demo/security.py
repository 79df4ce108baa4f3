"""Login rate limit, safe redirects, and the API's CSRF rule."""
import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, request

from .models import LoginAttempt, db, utcnow


def client_ip():
    # Behind a reverse proxy, wrap the app in werkzeug's ProxyFix (README).
    return (request.remote_addr or "unknown")[:64]


def login_blocked(username):
    """True when this username or this IP has too many recent failures."""
    cfg = current_app.config
    since = utcnow() - dt.timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    recent = LoginAttempt.query.filter(LoginAttempt.at >= since)
    if recent.filter(LoginAttempt.username == username.lower()[:40]).count() \
            >= cfg["LOGIN_MAX_PER_USER"]:
        return True
    return recent.filter(LoginAttempt.ip == client_ip()).count() >= cfg["LOGIN_MAX_PER_IP"]


def record_failure(username):
    db.session.add(LoginAttempt(username=username.lower()[:40], ip=client_ip()))
    db.session.commit()


def clear_failures(username):
    LoginAttempt.query.filter_by(username=username.lower()[:40]).delete()
    db.session.commit()


def safe_next(target, default="/"):
    """Only local paths ("/movies?x=1"); anything that could leave the site
    (scheme, host, "//host", backslashes, control characters) gives default."""
    if not target or not isinstance(target, str) or len(target) > 512:
        return default
    if any(ord(c) < 32 or c == "\\" for c in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def same_origin_json():
    """The API is exempt from the form CSRF token; instead every unsafe
    request must be JSON (a cross-site form cannot send application/json
    without a CORS preflight, which this app never grants) and, when the
    browser says where it comes from, come from this origin. Returns an
    error message, or None when the request is acceptable."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.mimetype != "application/json":
        return "unsafe API requests must have Content-Type: application/json"
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        return "cross-origin request refused"
    site = request.headers.get("Sec-Fetch-Site")
    if site and site not in ("same-origin", "none"):
        return "cross-site request refused"
    return None
