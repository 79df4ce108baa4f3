"""The request path under load (issue 13, item 9): a bounded number of SQL
statements per page, and the kept parts (movie cards, the model's answers)
never show a member anything stale: a new rating, a new model, another
member's ratings and the request's CSRF token are always the current ones."""
import re

import pytest
from helpers import csrf_token, login, rate, register
from sqlalchemy import event

from flask_demo.models import db

CARD_RE = re.compile(r'<article class="card" data-movie-id="(\d+)">(.*?)</article>', re.S)
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def html(resp):
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def cards(page):
    return {int(m): body for m, body in CARD_RE.findall(page)}


def selected(card):
    """The rating selected in a card's rate form (None: 'Rate…')."""
    m = re.search(r'<option value="([0-9.]*)" selected>', card)
    return float(m.group(1)) if m and m.group(1) else None


@pytest.fixture
def statements(app):
    """The SQL statements the app runs (no app context stays pushed: a
    request would reuse it and its session)."""
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)
    with app.app_context():
        sa_engine = db.engine
    event.listen(sa_engine, "before_cursor_execute", count)
    yield seen
    event.remove(sa_engine, "before_cursor_execute", count)


def test_statements_per_page(member, engine, app, statements):
    """The load test's pages: the member (session), their ratings, and only
    what the page itself needs; the full page was six statements before
    (two job queries and a count of ratings since the snapshot)."""
    for mid in [2, 4, 6, 8]:
        rate(member, mid, 5.0)
    with app.app_context():
        assert engine.tick().status == "done"
    expected = {"/recommendations/quick": 2,      # member, ratings
                "/recommendations": 4,            # + recommendations, jobs
                "/movie/1": 3}                    # + members' ratings of it
    for url, n in expected.items():
        html(member.get(url))                     # warm
        statements.clear()
        page = html(member.get(url))
        assert "data-movie-id" in page
        assert len(statements) == n, (url, statements)


def test_card_shows_a_new_rating_at_once(member):
    page = html(member.get("/movie/1"))
    other = next(iter(cards(page)))
    assert selected(cards(page)[other]) is None and "♥ Like" in cards(page)[other]
    assert rate(member, other, 3.5, next_url="/movie/1").status_code == 302
    card = cards(html(member.get("/movie/1")))[other]
    assert selected(card) == 3.5 and "Remove my rating" in card and "Update" in card
    assert rate(member, other, 2.0, next_url="/movie/1").status_code == 302
    assert selected(cards(html(member.get("/movie/1")))[other]) == 2.0
    token = csrf_token(member, "/")
    assert member.post("/rate/delete", data={"csrf_token": token, "movie_id": other,
                                             "next": "/movie/1"}).status_code == 302
    card = cards(html(member.get("/movie/1")))[other]
    assert selected(card) is None and "♥ Like" in card


def test_cards_are_each_members_own(app, member):
    page = html(member.get("/movie/1"))
    other = next(iter(cards(page)))
    rate(member, other, 4.5, next_url="/movie/1")
    assert selected(cards(html(member.get("/movie/1")))[other]) == 4.5
    bob = app.test_client()
    assert register(bob, "bob").status_code == 302
    card = cards(html(bob.get("/movie/1")))[other]
    assert selected(card) is None and "♥ Like" in card


def test_kept_card_carries_this_requests_token(app, member):
    """A card served from the cache has the token of the request that shows
    it: a form posted from a second view (and by another session) works."""
    first = html(member.get("/movie/1"))
    other = next(iter(cards(first)))
    bob = app.test_client()
    assert register(bob, "bob").status_code == 302
    page = html(bob.get("/movie/1"))
    card = cards(page)[other]
    tokens = set(TOKEN_RE.findall(card))
    assert len(tokens) == 1 and tokens == set(TOKEN_RE.findall(page)[:1])
    assert tokens != set(TOKEN_RE.findall(cards(first)[other]))
    resp = bob.post("/rate", data={"csrf_token": tokens.pop(), "movie_id": other,
                                   "rating": "4.0", "next": "/movie/1"})
    assert resp.status_code == 302
    assert selected(cards(html(bob.get("/movie/1")))[other]) == 4.0
    # alice's kept card is unchanged by bob's rating
    assert selected(cards(html(member.get("/movie/1")))[other]) is None


def test_reasons_follow_the_ratings(member, engine):
    """The reasons are kept per model and exact ratings: changing a rating
    gives the library's reasons for the new ratings at once."""
    liked = {2: 5.0, 4: 5.0, 6: 4.5, 8: 4.0}
    for mid, r in liked.items():
        rate(member, mid, r)
    html(member.get("/recommendations/quick"))
    rate(member, 2, 0.5)          # no longer liked: never a reason again
    picks = engine.quick_recommendations({**liked, 2: 0.5})
    fresh = [engine._explain(engine.model, frozenset({**liked, 2: 0.5}.items()), p.movie_id)
             for p in picks]
    assert [p.because for p in picks] == fresh
    page = html(member.get("/recommendations/quick"))
    assert engine.catalogue.movies[2].title not in page.split('id="quick-recs"')[1]


def test_model_answers_follow_a_new_model(member, engine, app):
    """similar() and the reasons are kept per model object: after a retrain
    they are the new model's."""
    before = engine.similar(1, 12)
    assert engine.similar(1, 12) is before            # kept
    for mid in [2, 4, 6, 8, 10, 12]:
        rate(member, mid, 5.0 if mid % 4 else 1.0)
    with app.app_context():
        assert engine.tick().status == "done"
    after = engine.similar(1, 12)
    assert after is not before
    assert list(after) == engine.model.similar_movies(1, n=12, min_count=None)
    page = html(member.get("/movie/1"))
    assert [int(m) for m in re.findall(r'data-movie-id="(\d+)"', page)] == \
        [r.movie_id for r in after]


def test_logout_still_ends_old_sessions(app, member):
    """The member is loaded from the database on every request, so a logout
    elsewhere (another worker) ends this session's next request."""
    other = app.test_client()
    assert login(other).status_code == 302
    html(other.get("/recommendations/quick"))
    token = csrf_token(member, "/")
    assert member.post("/logout", data={"csrf_token": token}).status_code == 302
    assert other.get("/recommendations/quick").status_code == 302
