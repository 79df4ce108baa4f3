"""MOVIEME_ALS_MODE: the library's hybrid model by default; explicit-only
or implicit-feedback ALS when asked."""
import pytest

from flask_demo import create_app
from flask_demo.config import load_config


def test_implicit_mode_trains_an_implicit_model(make_app):
    app = make_app(MOVIEME_ALS_MODE="implicit", MOVIEME_ALPHA=2.0)
    engine = app.extensions["movieme"]
    with app.app_context():
        job = engine.enqueue("test")
        done = engine.run_next_job()
        assert done.id == job.id and done.status == "done", done.error
        assert engine.model.implicit
        recs = engine.quick_recommendations({1: 5.0, 2: 4.0}, 5)
        assert recs


def test_default_mode_is_the_hybrid(make_app):
    app = make_app()
    assert app.config["MOVIEME_ALS_MODE"] == "hybrid"
    model = app.extensions["movieme"].model
    assert model.hybrid and not model.implicit


def test_explicit_mode_trains_the_rating_model_only(make_app):
    app = make_app(MOVIEME_ALS_MODE="explicit")
    engine = app.extensions["movieme"]
    with app.app_context():
        assert engine.run_next_job() is None
        engine.enqueue("test")
        assert engine.run_next_job().status == "done"
    assert not engine.model.hybrid and not engine.model.implicit
    recs = engine.quick_recommendations({2: 5.0, 4: 5.0, 6: 4.5}, 12)
    assert len(recs) == 12
    assert all(0.5 <= r.rating <= 5.0 for r in recs)


def test_mode_from_environment(monkeypatch):
    import flask
    monkeypatch.setenv("MOVIEME_ALS_MODE", "implicit")
    app = flask.Flask("x")
    load_config(app, "testing")
    assert app.config["MOVIEME_ALS_MODE"] == "implicit"
    monkeypatch.setenv("MOVIEME_ALS_MODE", "bogus")
    with pytest.raises(ValueError):
        load_config(flask.Flask("y"), "testing")
    assert create_app  # the factory is importable beside the config
