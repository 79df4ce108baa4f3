"""The session cookie is re-sent when it changes or is older than
MOVIEME_SESSION_REFRESH (sessions.py), and an expired one is still refused."""
import time

from itsdangerous import TimestampSigner

from flask_demo import sessions
from helpers import login, logout, rate, register


def _session_cookies(resp):
    return [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]


def _member(app):
    client = app.test_client()
    register(client, "alice")
    logout(client)
    assert _session_cookies(login(client)), "login sends the session"
    return client


def test_unchanged_session_not_resent(app):
    member = _member(app)
    member.get("/")                 # the CSRF token may be new: sent once
    for path in ("/", "/recommendations/quick", "/ratings", "/movie/1"):
        resp = member.get(path)
        assert resp.status_code == 200, path
        assert not _session_cookies(resp), path
        assert "Cookie" in resp.headers.get("Vary", ""), path


def test_changed_session_sent_at_once(app):
    member = _member(app)
    member.get("/")
    resp = rate(member, 1, 4)       # flashes a message: the session changes
    assert resp.status_code == 302
    assert _session_cookies(resp)


def test_old_session_resent_with_a_new_time(app, monkeypatch):
    member = _member(app)
    member.get("/")
    assert not _session_cookies(member.get("/"))
    # the site's clock an hour on (the signature's time is the real one)
    later = time.time() + app.config["MOVIEME_SESSION_REFRESH"] + 1
    monkeypatch.setattr(sessions, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    resp = member.get("/")
    cookies = _session_cookies(resp)
    assert cookies, "a session older than MOVIEME_SESSION_REFRESH is re-sent"
    value = cookies[0].split(";", 1)[0].split("=", 1)[1]
    signer = TimestampSigner(app.secret_key, salt="cookie-session",
                             key_derivation="hmac")
    _, signed_at = signer.unsign(value, return_timestamp=True)
    assert abs(time.time() - signed_at.timestamp()) < 60
    monkeypatch.undo()
    assert member.get("/").status_code == 200
    assert not _session_cookies(member.get("/"))


def test_expired_session_refused(make_app):
    app = make_app(PERMANENT_SESSION_LIFETIME=1, MOVIEME_SESSION_REFRESH=3600)
    member = _member(app)
    assert member.get("/").status_code == 200
    time.sleep(2.1)
    resp = member.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
