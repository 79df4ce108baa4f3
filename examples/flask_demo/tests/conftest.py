"""Fixtures for the demo site's tests.

The database is SQLite in a temporary directory by default; set
MOVIEME_TEST_DATABASE_URL (scripts/test-demo.sh does) to run the same suite on
PostgreSQL. The recommender trains on a small generated MovieLens-style
dataset (tests run in seconds); MOVIEME_TEST_DATA can point at another.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import BASE_OVERRIDES, database_url, make_dataset, register  # noqa: E402


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    if os.environ.get("MOVIEME_TEST_DATA"):
        return os.environ["MOVIEME_TEST_DATA"]
    return make_dataset(str(tmp_path_factory.mktemp("ml-mini")))


@pytest.fixture(scope="session")
def base_model(dataset, tmp_path_factory):
    """The model trained on the dataset alone, trained once per session and
    copied into each test's instance folder (as a site's first start would
    have left it)."""
    from flask_demo import create_app
    tmp = tmp_path_factory.mktemp("base-model")
    app = create_app(dict(BASE_OVERRIDES, MOVIEME_DATA=dataset,
                          INSTANCE_PATH=str(tmp / "instance"),
                          SQLALCHEMY_DATABASE_URI="sqlite:///%s/x.db" % tmp),
                     profile="testing")
    with app.app_context():
        from flask_demo.models import db
        db.engine.dispose()
    return app.extensions["movieme"].model_path


@pytest.fixture
def make_app(tmp_path, dataset, base_model):
    """Factory: make_app(**overrides) -> app (all on one instance folder)."""
    import shutil
    from flask_demo import create_app
    apps = []
    url = database_url(tmp_path)
    os.makedirs(str(tmp_path / "instance"))
    shutil.copy(base_model, str(tmp_path / "instance" / "model.bin"))

    def factory(**overrides):
        cfg = dict(BASE_OVERRIDES, MOVIEME_DATA=dataset,
                   INSTANCE_PATH=str(tmp_path / "instance"),
                   SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=None)
        cfg.update(overrides)
        app = create_app(cfg, profile="testing")
        apps.append(app)
        return app
    yield factory
    for app in apps:
        app.extensions["movieme"].stop()
        with app.app_context():
            from flask_demo.models import db
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def engine(app):
    return app.extensions["movieme"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def member(client):
    """A logged-in member 'alice' (the client carries the session)."""
    resp = register(client)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client

