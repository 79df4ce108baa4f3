"""Registration, login, logout, sessions, CSRF and the login rate limit."""
import os

import pytest
from helpers import csrf_token, login, logout, register

from flask_demo.models import LoginAttempt, User, db

MEMBER_PAGES = ["/", "/search?q=movie", "/popular", "/best", "/movie/1", "/ratings",
                "/recommendations/quick", "/recommendations"]


@pytest.mark.parametrize("url", MEMBER_PAGES)
def test_guest_is_sent_to_login(client, url):
    resp = client.get(url)
    assert resp.status_code == 302
    assert resp.location.startswith("/login?next=")


def test_guest_api_gets_401(client):
    resp = client.get("/api/ratings")
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "login required"


def test_register_logs_in_and_hashes_password(client, app):
    resp = register(client, "alice", "correct horse")
    assert resp.status_code == 302 and resp.location == "/popular"
    assert client.get("/").status_code == 200
    with app.app_context():
        user = User.query.filter_by(username="alice").one()
        assert user.email == "alice@example.org"
        assert "correct horse" not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert user.check_password("correct horse")
        assert not user.check_password("wrong")


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_duplicate_username_refused(app, username):
    assert register(app.test_client(), "alice").status_code == 302
    resp = register(app.test_client(), username, email="other@example.org")
    assert resp.status_code == 400
    assert "This username is taken." in resp.get_data(as_text=True)
    with app.app_context():
        assert User.query.count() == 1


def test_duplicate_email_refused(app):
    assert register(app.test_client(), "alice", email="a@example.org").status_code == 302
    resp = register(app.test_client(), "bob", email="A@example.org")
    assert resp.status_code == 400
    assert "An account with this email already exists." in resp.get_data(as_text=True)


@pytest.mark.parametrize("field,value,message", [
    ("username", "ab", "3 to 30 characters"),
    ("username", "x" * 31, "3 to 30 characters"),
    ("username", "bad name", "Use only letters"),
    ("username", "<script>x</script>", "Use only letters"),
    ("email", "not-an-email", "valid email"),
    ("email", "", "Enter your email"),
    ("password", "short", "8 to 128 characters"),
    ("confirm", "different password", "do not match"),
])
def test_register_validation(client, app, field, value, message):
    data = {"csrf_token": csrf_token(client, "/register"), "username": "carol",
            "email": "carol@example.org", "password": "long enough",
            "confirm": "long enough"}
    data[field] = value
    resp = client.post("/register", data=data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html
    assert "<script>x</script>" not in html          # echoed value is escaped
    with app.app_context():
        assert User.query.count() == 0


def test_login_wrong_password(client, app):
    register(app.test_client(), "alice")
    resp = login(client, "alice", "wrong password")
    assert resp.status_code == 401
    assert "Wrong username or password." in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_unknown_user_same_message(client):
    resp = login(client, "nobody", "whatever123")
    assert resp.status_code == 401
    assert "Wrong username or password." in resp.get_data(as_text=True)


def test_login_case_insensitive_and_next(client, app):
    register(app.test_client(), "alice")
    resp = login(client, "ALICE", "correct horse", next_url="/best?genre=Drama")
    assert resp.status_code == 302 and resp.location == "/best?genre=Drama"


def test_login_next_from_query_string(client, app):
    register(app.test_client(), "alice")
    resp = client.get("/ratings")
    assert resp.location == "/login?next=%2Fratings"
    page = client.get(resp.location).get_data(as_text=True)
    assert 'value="/ratings"' in page
    assert login(client, next_url="/ratings").location == "/ratings"


@pytest.mark.parametrize("evil", [
    "https://evil.example/", "//evil.example/", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "javascript:alert(1)", "http:evil.example", " //evil.example",
    "/%0a/evil.example".replace("%0a", "\n"), "evil.example", "HTTPS://evil.example",
])
def test_open_redirect_refused(client, app, evil):
    register(app.test_client(), "alice")
    resp = login(client, next_url=evil)
    assert resp.status_code == 302
    assert resp.location == "/"
    # a logged-in member following a crafted login link stays on the site too
    assert client.get("/login", query_string={"next": evil}).location == "/"


def test_logout_needs_post_and_csrf(member):
    assert member.get("/logout").status_code == 405
    assert member.post("/logout").status_code == 400          # no CSRF token
    assert member.get("/").status_code == 200                 # still logged in
    resp = logout(member)
    assert resp.status_code == 302 and resp.location == "/login"
    assert member.get("/").status_code == 302


def test_old_session_cookie_dies_at_logout(app, member):
    cookie = member.get_cookie("session") if hasattr(member, "get_cookie") else None
    if cookie is None:
        cookie = next(c for c in member.cookie_jar if c.name == "session")
    stolen = cookie.value
    logout(member)
    thief = app.test_client()
    thief.set_cookie("localhost", "session", stolen)
    assert thief.get("/").status_code == 302


def test_session_is_new_after_login(client, app):
    """Session fixation: whatever session a visitor had before logging in
    (e.g. planted by an attacker) is not the one used afterwards."""
    register(app.test_client(), "alice")
    client.get("/login")
    before = next(c.value for c in client.cookie_jar if c.name == "session")
    login(client)
    after = next(c.value for c in client.cookie_jar if c.name == "session")
    assert before != after
    attacker = app.test_client()
    attacker.set_cookie("localhost", "session", before)
    assert attacker.get("/").status_code == 302


def test_cookie_flags(client, app):
    register(app.test_client(), "alice")
    resp = login(client)
    cookies = resp.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


@pytest.mark.parametrize("url", ["/login", "/register"])
def test_form_without_csrf_token_refused(client, url):
    resp = client.post(url, data={"username": "alice", "password": "correct horse",
                                  "email": "a@example.org", "confirm": "correct horse"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)


def test_form_with_wrong_csrf_token_refused(client, app):
    register(app.test_client(), "alice")
    client.get("/login")
    resp = client.post("/login", data={"csrf_token": "forged", "username": "alice",
                                       "password": "correct horse"})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302


def test_csrf_token_of_another_session_refused(app):
    register(app.test_client(), "alice")
    other = app.test_client()
    token = csrf_token(other, "/login")
    victim = app.test_client()
    victim.get("/login")
    resp = victim.post("/login", data={"csrf_token": token, "username": "alice",
                                       "password": "correct horse"})
    assert resp.status_code == 400


def test_login_rate_limit_per_username(client, app):
    register(app.test_client(), "alice")
    for _ in range(5):
        assert login(client, "alice", "guess-guess").status_code == 401
    resp = login(client, "alice", "correct horse")     # even the right password
    assert resp.status_code == 429
    assert "Too many failed attempts" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302
    with app.app_context():                            # window over: allowed again
        for attempt in LoginAttempt.query.all():
            attempt.at -= __import__("datetime").timedelta(hours=1)
        db.session.commit()
    assert login(client, "alice", "correct horse").status_code == 302


def test_login_rate_limit_per_ip(make_app):
    app = make_app(LOGIN_MAX_PER_IP=4, LOGIN_MAX_PER_USER=100)
    register(app.test_client(), "alice")
    client = app.test_client()
    for i in range(4):
        assert login(client, "user%d" % i, "guess-guess").status_code == 401
    assert login(client, "alice", "correct horse").status_code == 429
    other_ip = app.test_client()
    token = csrf_token(other_ip, "/login")
    resp = other_ip.post("/login", data={"csrf_token": token, "username": "alice",
                                         "password": "correct horse"},
                         environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 302


def test_success_resets_user_failures(client, app):
    register(app.test_client(), "alice")
    for _ in range(4):
        login(client, "alice", "guess-guess")
    assert login(client, "alice", "correct horse").status_code == 302
    logout(client)
    for _ in range(4):
        assert login(client, "alice", "guess-guess").status_code == 401
    assert login(client, "alice", "correct horse").status_code == 302


def test_secret_key_generated_once_in_instance(make_app, tmp_path):
    app1 = make_app()
    path = os.path.join(app1.instance_path, "secret_key")
    assert os.path.exists(path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    app2 = make_app()
    assert app1.config["SECRET_KEY"] == app2.config["SECRET_KEY"]
    assert len(app1.config["SECRET_KEY"]) >= 32


def test_secret_key_from_environment(make_app, monkeypatch):
    app = make_app(SECRET_KEY="from-the-environment")
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_unknown_user_costs_a_password_hash(client, app, monkeypatch):
    """No timing oracle for which usernames exist: an unknown username still
    checks a password hash."""
    import werkzeug.security
    from flask_demo import models
    calls = []
    real = werkzeug.security.check_password_hash
    monkeypatch.setattr(models, "check_password_hash",
                        lambda h, p: calls.append(p) or real(h, p))
    assert login(client, "nobody-here", "some password").status_code == 401
    assert calls == ["some password"]
