"""Security checks across the site (issue 6, demo part): SQL injection in
every form field and query parameter, malformed and oversized bodies, the
production profile's cookies."""
import pytest
from helpers import csrf_token, login, register

from flask_demo.models import Rating, User

INJECTIONS = ["' OR '1'='1", "1; DROP TABLE users; --", "\" OR \"\"=\"",
              "1' UNION SELECT username, password_hash FROM users --",
              "%' AND 1=(SELECT COUNT(*) FROM users) --", "\\'; --"]


def tables_intact(app, users=1):
    with app.app_context():
        assert User.query.count() == users
        Rating.query.count()


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_register_form(client, app, payload):
    register(app.test_client(), "alice")
    for field in ("username", "email", "password"):
        data = {"csrf_token": csrf_token(client, "/register"), "username": "bob",
                "email": "bob@example.org", "password": "long enough pw",
                "confirm": "long enough pw"}
        data[field] = payload
        if field == "password":
            data["confirm"] = payload
        resp = client.post("/register", data=data)
        assert resp.status_code in (302, 400)
        if resp.status_code == 302:        # accepted as plain text (a password)
            with app.app_context():
                user = User.query.filter_by(username="bob").one()
                assert user.check_password(payload)
            client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
            with app.app_context():
                from flask_demo.models import db
                db.session.delete(user)
                db.session.commit()
    tables_intact(app)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_login_form(client, app, payload):
    register(app.test_client(), "alice")
    for username, password in ((payload, "x"), ("alice", payload), (payload, payload)):
        assert login(client, username, password).status_code in (400, 401)
    assert client.get("/").status_code == 302
    tables_intact(app)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_query_parameters(member, app, payload):
    assert member.get("/search", query_string={"q": payload}).status_code == 200
    for url, name in (("/popular", "genre"), ("/popular", "decade"), ("/popular", "page"),
                      ("/best", "genre"), ("/api/movies/popular", "genre"),
                      ("/api/movies/popular", "limit"), ("/api/movies/best", "genre")):
        assert member.get(url, query_string={name: payload}).status_code == 400, (url, name)
    assert member.get("/api/movies/search", query_string={"q": payload}).status_code == 200
    assert member.get("/movie/" + payload).status_code == 404
    assert member.get("/login", query_string={"next": payload}).status_code == 302
    tables_intact(app)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_rating_forms(member, app, payload):
    token = csrf_token(member, "/")
    for data in ({"movie_id": payload, "rating": "4"}, {"movie_id": "1", "rating": payload},
                 {"movie_id": "1", "rating": "4", "next": payload}):
        resp = member.post("/rate", data=dict(data, csrf_token=token))
        assert resp.status_code in (302, 400)
        if resp.status_code == 302:
            assert resp.location == "/ratings"     # the payload was the next=
    assert member.post("/rate/delete", data={"csrf_token": token,
                                             "movie_id": payload}).status_code == 400
    with app.app_context():
        assert [(r.movie_id, r.rating) for r in Rating.query.all()] in ([], [(1, 4.0)])
    tables_intact(app)


def test_oversized_form_body(member, app):
    token = csrf_token(member, "/")
    resp = member.post("/rate", data={"csrf_token": token, "movie_id": "1", "rating": "4",
                                      "pad": "x" * 100_000})
    assert resp.status_code == 413
    assert "Too large" in resp.get_data(as_text=True)
    with app.app_context():
        assert Rating.query.count() == 0


@pytest.mark.parametrize("body,ctype", [
    (b"{", "application/json"), (b"\xff\xfe\x00", "application/json"),
    (b'{"rating": [1, 2]}', "application/json"), (b'"4"', "application/json"),
    (b'{"rating": 4' + b" " * 10, "application/json"),
    (b"rating=4", "application/x-www-form-urlencoded"),
])
def test_malformed_api_bodies(member, app, body, ctype):
    resp = member.put("/api/ratings/1", data=body, content_type=ctype)
    assert resp.status_code in (400, 415)
    assert resp.is_json and "error" in resp.get_json()
    with app.app_context():
        assert Rating.query.count() == 0


def test_malformed_form_fields(member, app):
    token = csrf_token(member, "/")
    for data in ({"movie_id": "", "rating": "4"}, {"movie_id": "1.5", "rating": "4"},
                 {"movie_id": "99999999999999999999", "rating": "4"},
                 {"movie_id": "-1", "rating": "4"}, {"rating": "4"}, {"movie_id": "1"}):
        resp = member.post("/rate", data=dict(data, csrf_token=token))
        assert resp.status_code in (400, 404), data
    with app.app_context():
        assert Rating.query.count() == 0


def test_long_search_string_is_cut(member):
    resp = member.get("/search", query_string={"q": "a" * 5000})
    assert resp.status_code == 200
    assert "a" * 101 not in resp.get_data(as_text=True)


def test_production_profile_cookies(make_app):
    app = make_app()
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    from flask_demo.config import ProductionConfig
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.MOVIEME_RETRAIN_API is False


def test_api_never_sets_cors_headers(member):
    resp = member.get("/api/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = member.open("/api/ratings/1", method="OPTIONS",
                       headers={"Origin": "https://evil.example",
                                "Access-Control-Request-Method": "PUT"})
    assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.mark.parametrize("movie_id", ["99999999999999999999", "2147483648", "-5"])
def test_huge_movie_ids(member, app, movie_id):
    token = csrf_token(member, "/")
    assert member.post("/rate/delete", data={"csrf_token": token,
                                             "movie_id": movie_id}).status_code in (400, 404)
    assert member.post("/rate", data={"csrf_token": token, "movie_id": movie_id,
                                      "rating": "4"}).status_code in (400, 404)
    if not movie_id.startswith("-"):
        assert member.delete("/api/ratings/" + movie_id, json={}).status_code == 404
        assert member.put("/api/ratings/" + movie_id, json={"rating": 4}).status_code == 404
        assert member.get("/api/movies/" + movie_id).status_code == 404
        assert member.get("/movie/" + movie_id).status_code == 404
