"""Tuning in the retrain worker (tuning.py): the first training tunes, the
trainings in between use the stored choice, every N trainings or past a
maximum age it tunes again; the choice and its validation scores are
stored (model_tunings) and shown on the About page. Tiny grids: every
tuning here takes well under a second on the test dataset."""
import datetime as dt
import json
import os

import movieme
import pytest
from helpers import login
from test_retrain import add_member

from flask_demo.models import ModelTuning, db

GRID = {"regs": [0.2, 0.05], "bias_priors": [0.5, 2.0], "blends": [0.2, 0.8]}
TUNE = dict(MOVIEME_TUNE=True, MOVIEME_TUNE_GRID=GRID, MOVIEME_TUNE_EVERY=2,
            MOVIEME_TUNE_MAX_AGE=0)


def member_client(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def retrain(app, engine):
    with app.app_context():
        engine.enqueue("test")
        job = engine.run_next_job()
        assert job.status == "done", job.error
        return job.id


def tunings(app):
    with app.app_context():
        rows = ModelTuning.query.order_by(ModelTuning.id).all()
        db.session.expunge_all()
        return rows


def trained_again(engine, rows, params):
    """The model train_als gives on the job's data with these parameters."""
    data = engine.base.copy()
    data.add([(engine.model_user_id(u), m, float(r)) for u, m, r in rows])
    return movieme.train_als(data, **params)


def same_model(a, b, user_id):
    assert [(r.movie_id, r.score) for r in a.top_n(user_id, n=20)] == \
        [(r.movie_id, r.score) for r in b.top_n(user_id, n=20)]
    assert a.predict(user_id, 1) == b.predict(user_id, 1)


def test_first_retrain_tunes_then_trains_with_the_choice(make_app):
    app = make_app(**TUNE)
    engine = app.extensions["movieme"]
    alice = add_member(app, "alice", {2: 5, 4: 5, 6: 4.5, 8: 4})
    retrain(app, engine)
    [row] = tunings(app)
    assert (row.mode, row.reason, row.metric, row.k) == ("hybrid", "first", "rmse", 10)
    assert row.trainings == 1 and row.trained_at and row.seconds > 0
    assert 0.3 < row.val_rmse < 2.0 and 0.0 <= row.val_ndcg <= 1.0
    # 2 bias priors x 2 regs, then the best point at 2 blends
    assert row.n_points == 6
    assert json.loads(row.grid) == GRID
    chosen = json.loads(row.chosen)
    assert set(chosen) == {"reg", "bias_prior", "blend", "rating_pref_weight",
                           "rating_pref_shift"}
    assert chosen["reg"] in GRID["regs"] and chosen["blend"] in GRID["blends"]
    # the preference term, fitted on the validation ratings, trains too
    assert chosen["rating_pref_weight"] > 0.0
    assert engine.model.rating_pref == (chosen["rating_pref_weight"],
                                        chosen["rating_pref_shift"])
    assert chosen["bias_prior"] in GRID["bias_priors"]
    params = json.loads(row.trained_params)
    assert {k: params[k] for k in chosen} == chosen
    assert params["rank"] == app.config["MOVIEME_RANK"]
    with app.app_context():
        member_rows = engine._member_rows()
    assert row.trained_ratings == len(engine.base) + len(member_rows)
    # the served model is the one these parameters train
    same_model(engine.model, trained_again(engine, member_rows, params),
               engine.model_user_id(alice))


def test_stored_choice_between_and_every_n_trainings(make_app):
    app = make_app(**TUNE)                       # tune every 2 trainings
    engine = app.extensions["movieme"]
    alice = add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    client = member_client(app, "alice")
    retrain(app, engine)                         # tunes (first), training 1
    assert client.put("/api/ratings/10", json={"rating": 1}).status_code == 200
    retrain(app, engine)                         # training 2: the stored choice
    [first] = tunings(app)
    assert first.trainings == 2
    with app.app_context():
        member_rows = engine._member_rows()
    params = json.loads(first.trained_params)
    same_model(engine.model, trained_again(engine, member_rows, params),
               engine.model_user_id(alice))
    retrain(app, engine)                         # 2 trainings since: tunes
    rows = tunings(app)
    assert [(r.reason, r.trainings) for r in rows] == [("first", 2), ("every", 1)]


def test_tunes_again_past_the_maximum_age(make_app):
    app = make_app(**dict(TUNE, MOVIEME_TUNE_EVERY=0, MOVIEME_TUNE_MAX_AGE=3600))
    engine = app.extensions["movieme"]
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    retrain(app, engine)
    retrain(app, engine)
    assert [r.reason for r in tunings(app)] == ["first"]
    with app.app_context():
        row = ModelTuning.query.one()
        row.tuned_at -= dt.timedelta(hours=2)
        db.session.commit()
    retrain(app, engine)
    assert [r.reason for r in tunings(app)] == ["first", "age"]


def test_first_start_tunes(make_app):
    app = make_app()                             # tuning off: no tuning
    engine = app.extensions["movieme"]
    assert tunings(app) == []
    os.remove(engine.model_path)                 # a first start: no model yet
    app = make_app(**TUNE)
    [row] = tunings(app)
    assert row.reason == "first" and row.trainings == 1
    assert row.trained_ratings == len(app.extensions["movieme"].base)


@pytest.mark.parametrize("mode,expect", [
    ("explicit", {"reg", "bias_prior"}),         # no blend without ranking
    ("implicit", {"reg", "alpha"}),              # tuned on nDCG
])
def test_grid_follows_the_mode(make_app, mode, expect):
    grid = dict(GRID, alphas=[1.0, 4.0])
    if mode == "implicit":
        grid["regs"] = [1.0, 0.1]
    app = make_app(**dict(TUNE, MOVIEME_ALS_MODE=mode, MOVIEME_TUNE_GRID=grid))
    engine = app.extensions["movieme"]
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    retrain(app, engine)
    [row] = tunings(app)
    assert row.mode == mode and set(json.loads(row.chosen)) == expect
    assert row.metric == ("ndcg" if mode == "implicit" else "rmse")


def test_rank_grid_keeps_the_preference_rank(make_app):
    # under RMSE the rank searched is the rating model's; the preference
    # model keeps its own (the library's default, 128: docs/ranking.md),
    # in the tuning and in the training
    app = make_app(**dict(TUNE, MOVIEME_TUNE_GRID={"regs": [0.1],
                                                   "ranks": [4, 6]}))
    engine = app.extensions["movieme"]
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    retrain(app, engine)
    [row] = tunings(app)
    chosen = json.loads(row.chosen)
    assert chosen["rank"] in (4, 6)
    # no blend list: the tuner's automatic blends still choose one
    assert chosen["blend"] in (0.2, 0.1, 0.05, 0.0)
    assert app.config["MOVIEME_RANK"] == 8
    assert chosen["preference_rank"] == 128
    assert json.loads(row.trained_params)["preference_rank"] == 128


def test_shutdown_cancels_a_tuning(make_app):
    app = make_app(**TUNE)
    engine = app.extensions["movieme"]
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    engine._stop.set()                           # the worker is stopping
    with app.app_context():
        engine.enqueue("test")
        job = engine.run_next_job()
        assert job.status == "pending" and job.attempts == 0
    assert tunings(app) == []


def test_about_page(make_app):
    app = make_app(**TUNE)
    engine = app.extensions["movieme"]
    add_member(app, "alice", {2: 5, 4: 5, 6: 4.5})
    client = member_client(app, "alice")
    html = client.get("/about").get_data(as_text=True)
    assert "About the model" in html and "Not tuned yet" in html
    assert 'href="/about"' in client.get("/").get_data(as_text=True)
    retrain(app, engine)
    [row] = tunings(app)
    resp = client.get("/about")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<dd id="val-rmse">%.4f</dd>' % row.val_rmse in html
    assert '<dd id="val-ndcg">%.4f</dd>' % row.val_ndcg in html
    assert row.tuned_at.strftime("%Y-%m-%d %H:%M") in html
    assert "{:,}".format(row.trained_ratings) in html
    for name, value in json.loads(row.chosen).items():
        assert '<tr class="tuned"><td>%s</td><td>%s</td>' % (name, value) in html
    assert "after 1 more training" in html       # MOVIEME_TUNE_EVERY 2
    assert "3 of them by members" in html


def test_about_page_without_tuning(member):
    html = member.get("/about").get_data(as_text=True)
    assert "Not tuned: tuning is off" in html and 'id="trained-at"' in html


def test_about_needs_login(client):
    resp = client.get("/about")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("overrides,needle", [
    ({"MOVIEME_TUNE_GRID": {"lambdas": [1.0]}}, "unknown list 'lambdas'"),
    ({"MOVIEME_TUNE_GRID": {"regs": []}}, "'regs' must be a non-empty list"),
    ({"MOVIEME_TUNE_GRID": [0.1]}, "JSON object"),
    ({"MOVIEME_TUNE_GRID": {"ranks": [8.5]}}, "whole numbers"),
    ({"MOVIEME_TUNE_EVERY": -1}, "MOVIEME_TUNE_EVERY must be >= 0"),
    ({"MOVIEME_TUNE_FRACTION": 1.0}, "MOVIEME_TUNE_FRACTION"),
])
def test_bad_tuning_settings(make_app, overrides, needle):
    with pytest.raises(ValueError) as e:
        make_app(**overrides)
    assert needle in str(e.value)


def test_grid_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("MOVIEME_TUNE_GRID", '{"regs": [0.3, 0.1]}')
    monkeypatch.setenv("MOVIEME_TUNE_EVERY", "5")
    app = make_app()
    assert app.config["MOVIEME_TUNE_GRID"] == {"regs": [0.3, 0.1]}
    assert app.config["MOVIEME_TUNE_EVERY"] == 5
