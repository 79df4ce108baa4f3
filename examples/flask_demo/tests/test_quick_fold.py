"""Quick picks fold the member into the served model (Model.remove_user +
Model.add_user + Model.top_n): re-rating replaces, a removed rating no
longer counts, each process folds into its own model, and a new model gets
the member folded in again on demand."""
import threading
import time

from helpers import register

from flask_demo.models import User


def member_id(app, name="alice"):
    with app.app_context():
        return User.query.filter_by(username=name).one().id


def new_member(app, name, ratings):
    client = app.test_client()
    assert register(client, name).status_code == 302
    for mid, r in ratings.items():
        assert client.put("/api/ratings/%d" % mid, json={"rating": r}).status_code == 200
    return client, member_id(app, name)


def quick_ids(client):
    resp = client.get("/api/recommendations/quick")
    assert resp.status_code == 200
    return [m["movie_id"] for m in resp.get_json()["results"]]


def all_ids(recs):
    return [r.movie_id for r in recs]


def test_quick_picks_fold_the_member_in(app, engine):
    mine = {2: 5.0, 4: 5.0, 6: 4.0, 3: 0.5}
    model = engine.model
    before = model.n_users
    client, mid = new_member(app, "alice", mine)
    uid = engine.model_user_id(mid)
    assert uid not in model
    t0 = time.monotonic()
    ids = quick_ids(client)
    assert time.monotonic() - t0 < 1.0
    assert uid in model and model.n_users == before + 1
    # the member's model user is the fold-in of exactly their ratings
    assert all_ids(model.top_n(uid, n=200)) == \
        all_ids(model.recommend_for_ratings(mine, n=200))
    assert ids == all_ids(model.top_n(uid, n=12))
    # asking again folds again: no second user
    assert quick_ids(client) == ids and model.n_users == before + 1


def test_rerating_replaces_and_a_removed_rating_no_longer_counts(app, engine):
    client, mid = new_member(app, "alice", {2: 5.0, 4: 5.0, 6: 4.0, 3: 0.5})
    uid = engine.model_user_id(mid)
    model = engine.model
    quick_ids(client)
    # re-rate movie 3: the fold uses the new value only
    client.put("/api/ratings/3", json={"rating": 5.0})
    ids = quick_ids(client)
    now = {2: 5.0, 4: 5.0, 6: 4.0, 3: 5.0}
    assert all_ids(model.top_n(uid, n=200)) == \
        all_ids(model.recommend_for_ratings(now, n=200))
    assert ids == all_ids(model.recommend_for_ratings(now, n=12))
    factors_with_3 = model.user_factors(uid)
    # remove it: movie 3 neither counts nor is left out any more
    assert client.delete("/api/ratings/3", json={}).status_code == 200
    ids = quick_ids(client)
    now = {2: 5.0, 4: 5.0, 6: 4.0}
    assert 3 in all_ids(model.top_n(uid, n=200))
    assert all_ids(model.top_n(uid, n=200)) == \
        all_ids(model.recommend_for_ratings(now, n=200))
    assert model.user_factors(uid) != factors_with_3
    assert ids == all_ids(model.recommend_for_ratings(now, n=12))


def test_new_model_folds_the_member_in_again(app, engine):
    client, mid = new_member(app, "alice", {2: 5.0, 4: 5.0, 6: 4.0, 8: 5.0})
    uid = engine.model_user_id(mid)
    old = engine.model
    quick_ids(client)
    assert uid in old
    with app.app_context():
        engine.enqueue("test")
        assert engine.run_next_job().status == "done"
    new = engine.model
    assert new is not old and uid in new          # trained with the member
    # the stored full recommendations are the trained ones
    full = client.get("/api/recommendations").get_json()
    trained = all_ids(new.top_n(uid, n=48))
    assert [m["movie_id"] for m in full["results"]] == trained
    # a rating removed after the retrain: the trained user is replaced by
    # the fold of the current ratings, in the new model only
    client.delete("/api/ratings/8", json={})
    ids = quick_ids(client)
    now = {2: 5.0, 4: 5.0, 6: 4.0}
    assert all_ids(new.top_n(uid, n=200)) == \
        all_ids(new.recommend_for_ratings(now, n=200))
    assert ids == all_ids(new.recommend_for_ratings(now, n=12))
    assert 8 in all_ids(new.top_n(uid, n=200))
    assert 8 not in all_ids(old.top_n(uid, n=200))   # the old fold is left alone


def test_each_process_folds_into_its_own_model(make_app):
    """Two apps on one instance folder stand for two gunicorn workers."""
    a, b = make_app(), make_app()
    ca, mid = new_member(a, "alice", {2: 5.0, 4: 5.0, 6: 4.0})
    ea, eb = a.extensions["movieme"], b.extensions["movieme"]
    uid = ea.model_user_id(mid)
    ids = quick_ids(ca)
    assert uid in ea.model and uid not in eb.model
    cb = b.test_client()
    cb.post("/api/login", json={"username": "alice", "password": "correct horse"})
    assert quick_ids(cb) == ids
    assert uid in eb.model


def test_without_a_member_the_model_is_not_changed(engine):
    model = engine.model
    n = model.n_users
    recs = engine.quick_recommendations({2: 5.0, 4: 4.0, 6: 5.0})
    assert len(recs) == 12 and model.n_users == n
    assert all_ids(recs) == all_ids(model.recommend_for_ratings({2: 5.0, 4: 4.0, 6: 5.0}, n=12))


def test_concurrent_quick_picks_of_one_member(engine):
    """Threads folding one member with different ratings: every answer is
    the fold of the ratings that thread asked with."""
    sets = [{2: 5.0, 4: 5.0, 6: 4.0}, {1: 5.0, 3: 5.0, 5: 4.5}, {2: 1.0, 7: 5.0, 9: 5.0}]
    want = [all_ids(engine.model.recommend_for_ratings(s, n=12)) for s in sets]
    errors = []

    def run(i):
        try:
            for j in range(30):
                k = (i + j) % len(sets)
                got = all_ids(engine.quick_recommendations(sets[k], member_id=42))
                if got != want[k]:
                    errors.append((k, got))
        except Exception as exc:   # pragma: no cover - a failure
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert engine.model_user_id(42) in engine.model
