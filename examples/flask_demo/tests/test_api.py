"""The JSON API: same session authentication, JSON-only unsafe methods."""
import pytest
from helpers import XSS_MOVIE_ID, register

from flask_demo.models import Rating


@pytest.fixture
def api(app):
    register(app.test_client(), "alice")
    client = app.test_client()
    resp = client.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert resp.status_code == 200, resp.get_json()
    return client


def test_api_login_logout(app):
    register(app.test_client(), "alice")
    c = app.test_client()
    assert c.get("/api/me").status_code == 401
    assert c.post("/api/login", json={"username": "alice", "password": "nope"}).status_code == 401
    resp = c.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert resp.status_code == 200 and resp.get_json()["username"] == "alice"
    assert c.get("/api/me").get_json() == {"id": 1, "username": "alice", "n_ratings": 0}
    assert c.get("/").status_code == 200           # the same session serves the pages
    assert c.post("/api/logout", json={}).status_code == 200
    assert c.get("/api/me").status_code == 401


@pytest.mark.parametrize("body", [None, [], "x", {"username": "alice"},
                                  {"username": 1, "password": 2},
                                  {"username": "a" * 41, "password": "x"}])
def test_api_login_bad_bodies(app, body):
    c = app.test_client()
    resp = c.post("/api/login", json=body) if body is not None else \
        c.post("/api/login", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert "error" in resp.get_json()


@pytest.mark.parametrize("username", ["' OR '1'='1", "alice' --", "alice\" OR 1=1 --"])
def test_api_login_sql_injection(app, username):
    register(app.test_client(), "alice")
    resp = app.test_client().post("/api/login", json={"username": username,
                                                      "password": "' OR '1'='1"})
    assert resp.status_code == 401


def test_api_rate_limit(app):
    register(app.test_client(), "alice")
    c = app.test_client()
    for _ in range(5):
        assert c.post("/api/login", json={"username": "alice", "password": "x"}).status_code == 401
    resp = c.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert resp.status_code == 429


def test_api_ratings_crud(api, app):
    assert api.put("/api/ratings/1", json={"rating": 4}).get_json() == {"movie_id": 1, "rating": 4.0}
    assert api.post("/api/ratings/2", json={"rating": 0.5}).status_code == 200
    assert api.put("/api/ratings/1", json={"rating": 3.5}).status_code == 200
    rows = api.get("/api/ratings").get_json()["ratings"]
    assert sorted((r["movie_id"], r["rating"]) for r in rows) == [(1, 3.5), (2, 0.5)]
    assert api.delete("/api/ratings/2", json={}).get_json() == {"deleted": 2}
    assert api.delete("/api/ratings/2", json={}).status_code == 404
    with app.app_context():
        assert [(r.movie_id, r.rating) for r in Rating.query.all()] == [(1, 3.5)]


@pytest.mark.parametrize("body", [{"rating": 0}, {"rating": 5.5}, {"rating": -1},
                                  {"rating": 3.3}, {"rating": "4"}, {"rating": True},
                                  {"rating": None}, {}, [4.0], {"rating": 1e400}])
def test_api_rating_out_of_range(api, app, body):
    resp = api.put("/api/ratings/1", json=body)
    assert resp.status_code == 400
    with app.app_context():
        assert Rating.query.count() == 0


def test_api_rating_nan_refused(api, app):
    resp = api.put("/api/ratings/1", data='{"rating": NaN}', content_type="application/json")
    assert resp.status_code == 400
    with app.app_context():
        assert Rating.query.count() == 0


def test_api_rating_unknown_movie(api):
    assert api.put("/api/ratings/424242", json={"rating": 4}).status_code == 404
    assert api.get("/api/movies/424242").status_code == 404


def test_api_unsafe_needs_json_content_type(api, app):
    """The API has no CSRF token: a form post (what a cross-site page can
    send without a preflight) is refused."""
    resp = api.put("/api/ratings/1", data={"rating": "4"})
    assert resp.status_code == 415
    resp = api.post("/api/ratings/1", data='{"rating": 4}', content_type="text/plain")
    assert resp.status_code == 415
    with app.app_context():
        assert Rating.query.count() == 0


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"},
                                     {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"}])
def test_api_cross_origin_refused(api, app, headers):
    resp = api.put("/api/ratings/1", json={"rating": 4}, headers=headers)
    assert resp.status_code == 403
    with app.app_context():
        assert Rating.query.count() == 0


def test_api_same_origin_accepted(api):
    resp = api.put("/api/ratings/1", json={"rating": 4},
                   headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert resp.status_code == 200


def test_api_oversized_body(api):
    resp = api.put("/api/ratings/1", data='{"rating": 4, "pad": "%s"}' % ("x" * 70000),
                   content_type="application/json")
    assert resp.status_code == 413


def test_api_members_cannot_touch_each_other(app, api):
    api.put("/api/ratings/1", json={"rating": 5})
    register(app.test_client(), "bob")
    bob = app.test_client()
    bob.post("/api/login", json={"username": "bob", "password": "correct horse"})
    assert bob.get("/api/ratings").get_json()["ratings"] == []
    assert bob.delete("/api/ratings/1", json={}).status_code == 404
    assert bob.put("/api/ratings/1", json={"rating": 1}).status_code == 200
    rows = api.get("/api/ratings").get_json()["ratings"]
    assert [(r["movie_id"], r["rating"]) for r in rows] == [(1, 5.0)]
    # no endpoint takes a member id: /api/users/<id> does not exist
    assert bob.get("/api/users/1/ratings").status_code == 404


def test_api_search_popular_best_movie(api, engine):
    res = api.get("/api/movies/search?q=star wars").get_json()["results"]
    assert [m["movie_id"] for m in res] == [1000]
    assert res[0]["genres"] == ["Action", "Adventure", "Sci-Fi"] and res[0]["year"] == 1977
    pop = api.get("/api/movies/popular?genre=Drama&limit=5").get_json()
    assert len(pop["results"]) == 5 and all("Drama" in m["genres"] for m in pop["results"])
    counts = [m["n_ratings"] for m in pop["results"]]
    assert counts == sorted(counts, reverse=True)
    best = api.get("/api/movies/best?genre=Comedy").get_json()["results"]
    assert best and all("Comedy" in m["genres"] for m in best)
    scores = [m["score"] for m in best]
    assert scores == sorted(scores, reverse=True)
    assert api.get("/api/movies/best?genre=Nope").status_code == 400
    assert api.get("/api/movies/popular?limit=x").status_code == 400
    movie = api.get("/api/movies/1000").get_json()
    assert movie["title"].startswith("Star Wars") and len(movie["similar"]) == 12
    assert movie["my_rating"] is None and movie["site"]["count"] == 0


def test_api_json_escapes_nothing_but_is_json(api):
    movie = api.get("/api/movies/%d" % XSS_MOVIE_ID)
    assert movie.mimetype == "application/json"
    assert movie.get_json()["title"].startswith("<script>")


def test_api_quick_and_full_recommendations(api, engine, app):
    cold = api.get("/api/recommendations/quick").get_json()
    assert cold["personal"] is False
    # the library's cold-start list, not a list made by the site
    assert [m["movie_id"] for m in cold["results"]] == [
        r.movie_id for r in engine.model.recommend_for_ratings({}, 12)]
    assert all(m["because"] == [] for m in cold["results"])
    full = api.get("/api/recommendations").get_json()
    assert full["status"] == "no-ratings"
    assert [m["movie_id"] for m in full["cold_start"]] == \
        [m["movie_id"] for m in cold["results"]]
    for mid in [2, 4, 6, 8]:
        api.put("/api/ratings/%d" % mid, json={"rating": 5})
    quick = api.get("/api/recommendations/quick").get_json()
    assert quick["personal"] is True
    quick = quick["results"]
    assert len(quick) == 12 and not {m["movie_id"] for m in quick} & {2, 4, 6, 8}
    assert all(0.5 <= m["predicted_rating"] <= 5.0 for m in quick)
    titles = {engine.catalogue.movies[i].title for i in (2, 4, 6, 8)}
    assert any(m["because"] for m in quick)
    assert all(set(m["because"]) <= titles for m in quick)
    comedy = api.get("/api/recommendations/quick?genre=Comedy").get_json()
    assert comedy["results"] and all("Comedy" in m["genres"]
                                     for m in comedy["results"])
    assert api.get("/api/recommendations/quick?genre=Nope").status_code == 400
    full = api.get("/api/recommendations").get_json()
    assert full["status"] == "preparing" and full["results"] == []
    job = api.post("/api/retrain", json={})
    assert job.status_code == 202
    job_id = job.get_json()["id"]
    assert api.post("/api/retrain", json={}).get_json()["id"] == job_id   # deduplicated
    assert api.get("/api/recommendations").get_json()["job"]["id"] == job_id
    with app.app_context():
        assert engine.run_next_job().status == "done"
    status = api.get("/api/jobs/%d" % job_id).get_json()
    assert status["status"] == "done" and status["n_member_ratings"] == 4
    full = api.get("/api/recommendations").get_json()
    assert full["status"] == "ready" and len(full["results"]) == 48
    assert full["cold_start"] == []
    assert not {m["movie_id"] for m in full["results"]} & {2, 4, 6, 8}
    assert all(0.5 <= m["predicted_rating"] <= 5.0 for m in full["results"])
    assert all(set(m["because"]) <= titles for m in full["results"])
    assert api.get("/api/jobs/999").status_code == 404


def test_api_retrain_off_in_production_profile(make_app):
    app = make_app(MOVIEME_RETRAIN_API=False)
    register(app.test_client(), "alice")
    c = app.test_client()
    c.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert c.post("/api/retrain", json={}).status_code == 403


def test_api_health(client):
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok" and body["model_movies"] > 100
