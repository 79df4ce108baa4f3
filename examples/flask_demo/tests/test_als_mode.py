"""MOVIEME_ALS_MODE: the site trains implicit-feedback ALS when asked."""
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


def test_default_mode_is_explicit(make_app):
    app = make_app()
    assert app.config["MOVIEME_ALS_MODE"] == "explicit"
    assert not app.extensions["movieme"].model.implicit


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
