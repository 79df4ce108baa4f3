"""Numbers, ids and lengths at their extremes in every form and API field
(issue 13, item 4): each answer is a 4xx (a 400 or a form error, 404 for an
id that cannot exist), never a 500, and nothing is stored. A rating of 1e308
posted to the rate form used to raise OverflowError in the validator
(round(inf)), a 400-digit JSON rating OverflowError in math.isfinite, a
huge job id OverflowError in the SQLite driver, deep JSON RecursionError."""
from urllib.parse import quote

import pytest
from helpers import csrf_token, register

from flask_demo.models import Rating

HUGE_INT = "9" * 400                  # finite as an int, not as a float
NUMBERS = ["1e308", "-1e308", "1e309", "-1e309", "inf", "-inf", "nan", "NaN",
           "1" + "0" * 400, "4" + "0" * 5000, HUGE_INT, "-" + HUGE_INT,
           "2147483648", "-2147483649", "9223372036854775808", "1e-400",
           "0x10", "4_0", "", "-0", "5.5", "0", "0.25", "4.1"]
# What Python's float() and int() read as 4 and 1: accepted as such.
LENIENT_FOUR = ["4.0000000000000000000001", " 4 ", "\u0664", "4e0", "40e-1"]
IDS = ["0", "-1", "2147483647", "2147483648", "4294967296",
       "9223372036854775807", "9223372036854775808", HUGE_INT, "1e3", "1.0",
       "0x1", "-" + HUGE_INT]


def no_ratings(app):
    with app.app_context():
        return Rating.query.count() == 0


@pytest.mark.parametrize("rating", NUMBERS)
def test_rate_form_rating_extremes(member, app, rating):
    token = csrf_token(member, "/")
    resp = member.post("/rate", data={"csrf_token": token, "movie_id": "1",
                                      "rating": rating})
    assert resp.status_code == 400, (rating, resp.status_code)
    assert no_ratings(app)


@pytest.mark.parametrize("rating", LENIENT_FOUR)
def test_rate_form_lenient_numbers(member, app, rating):
    token = csrf_token(member, "/")
    for movie_id in (" 1", "\u0661", "01"):
        resp = member.post("/rate", data={"csrf_token": token, "movie_id": movie_id,
                                          "rating": rating})
        assert resp.status_code == 302, (rating, movie_id, resp.status_code)
    with app.app_context():
        assert [(r.movie_id, r.rating) for r in Rating.query.all()] == [(1, 4.0)]


@pytest.mark.parametrize("movie_id", IDS)
def test_rate_and_delete_form_ids(member, app, movie_id):
    token = csrf_token(member, "/")
    for url, data in (("/rate", {"movie_id": movie_id, "rating": "4"}),
                      ("/rate/delete", {"movie_id": movie_id})):
        resp = member.post(url, data=dict(data, csrf_token=token))
        assert resp.status_code in (400, 404), (url, movie_id, resp.status_code)
    assert no_ratings(app)


@pytest.fixture
def api(app):
    register(app.test_client(), "alice")
    client = app.test_client()
    resp = client.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert resp.status_code == 200
    return client


@pytest.mark.parametrize("raw", ["1e308", "-1e308", "1e309", "-1e309", "1" + "0" * 400,
                                 "4" + "0" * 5000, "-" + HUGE_INT, "NaN", "Infinity",
                                 "-Infinity", "4.1", "1e-400", "0.0", "5.5",
                                 "true", "null", "\"4\"", "[4]", "{\"a\": 4}"])
def test_api_rating_extremes(api, app, raw):
    resp = api.put("/api/ratings/1", data='{"rating": %s}' % raw,
                   content_type="application/json")
    assert resp.status_code == 400, (raw[:30], resp.status_code)
    assert resp.is_json and "error" in resp.get_json()
    assert no_ratings(app)


@pytest.mark.parametrize("movie_id", ["0", "2147483647", "2147483648", "9223372036854775808",
                                      HUGE_INT])
def test_api_id_routes(api, app, movie_id):
    for method, url in (("PUT", "/api/ratings/"), ("POST", "/api/ratings/"),
                        ("DELETE", "/api/ratings/"), ("GET", "/api/movies/"),
                        ("GET", "/api/jobs/"), ("GET", "/movie/")):
        resp = api.open(url + movie_id, method=method, json={"rating": 4})
        assert resp.status_code == 404, (method, url, movie_id[:25], resp.status_code)
    assert no_ratings(app)


@pytest.mark.parametrize("name,value", [
    ("limit", HUGE_INT), ("limit", "-" + HUGE_INT), ("offset", HUGE_INT),
    ("offset", "-1"), ("decade", HUGE_INT), ("decade", "-" + HUGE_INT),
    ("limit", "1e3"), ("offset", "4" + "0" * 5000), ("decade", "nan"),
    ("genre", "x" * 10000), ("genre", "\x00"), ("page", HUGE_INT), ("page", "-1")])
def test_query_parameters(api, name, value):
    for url in ("/api/movies/popular", "/api/movies/best", "/popular", "/best",
                "/api/movies/search", "/search"):
        resp = api.get(url, query_string={name: value})
        assert resp.status_code in (200, 400), (url, name, value[:25], resp.status_code)


def test_deep_json_is_400(api, app):
    # within MAX_CONTENT_LENGTH (64 KB), far past the parser's recursion limit
    for body in ("[" * 60000, '{"a":' * 10000 + "4" + "}" * 10000):
        resp = api.put("/api/ratings/1", data=body, content_type="application/json")
        assert resp.status_code == 400, resp.status_code
        resp = api.post("/api/login", data=body, content_type="application/json")
        assert resp.status_code == 400, resp.status_code
    assert no_ratings(app)


@pytest.mark.parametrize("field,value", [
    ("username", "a" * 100000), ("username", "\x00" * 10), ("username", "%ED%A0%80"),
    ("username", "%FF%FE"), ("password", "p" * 60000), ("email", "a" * 60000 + "@x.org"),
    ("email", "@" * 1000), ("email", "%C0%80@x.org")])
def test_register_form_lengths(client, app, field, value):
    token = csrf_token(client, "/register")
    data = {"csrf_token": token, "username": "bob", "email": "bob@example.org",
            "password": "correct horse", "confirm": "correct horse"}
    data[field] = value
    if field == "password":
        data["confirm"] = value
    # sent raw, so that %-escapes of invalid UTF-8 arrive as such
    body = "&".join("%s=%s" % (k, v if "%" in v else quote(v)) for k, v in data.items())
    resp = client.post("/register", data=body,
                       content_type="application/x-www-form-urlencoded")
    # 302: registered (an invalid byte becomes U+FFFD, which is allowed)
    assert resp.status_code in (200, 302, 400, 413), (field, resp.status_code)


def test_nul_in_text_is_400(member, app):
    """PostgreSQL refuses NUL in any string (a 500 there, not on SQLite)."""
    c = app.test_client()
    for url, data in (("/login", {"username": "a\x00b", "password": "x"}),
                      ("/register", {"username": "bob", "email": "b\x00@x.org",
                                     "password": "correct horse",
                                     "confirm": "correct horse"})):
        resp = c.post(url, data=dict(data, csrf_token=csrf_token(c, url)))
        assert resp.status_code == 400, (url, resp.status_code)
    for body in ({"username": "\x00", "password": "x"},
                 {"username": "alice", "password": "correct horse", "x\x00": 1}):
        assert c.post("/api/login", json=body).status_code == 400
    assert member.get("/search", query_string={"q": "a\x00"}).status_code == 400
    assert member.get("/api/movies/search", query_string={"q": "\x00"}).status_code == 400
    assert member.put("/api/ratings/1", json={"rating": 4, "note": ["\x00"]}).status_code == 400
    assert no_ratings(app)


@pytest.mark.parametrize("value", ["a" * 60000, "\x00", "%ED%A0%80", "%FF", HUGE_INT])
def test_login_form_and_api_lengths(client, value):
    token = csrf_token(client, "/login")
    raw = value if "%" in value else quote(value)
    resp = client.post("/login", data="csrf_token=%s&username=%s&password=%s&next=%s"
                       % (token, raw, raw, raw),
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code in (200, 400, 401, 413), resp.status_code
    resp = client.post("/api/login", json={"username": value, "password": value})
    assert resp.status_code in (400, 401, 413), resp.status_code
