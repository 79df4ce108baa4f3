"""Shared fixtures of the movieme pytest suite.

CTest runs it with PYTHONPATH pointing at the built package and
MOVIEME_DATA at the bundled data/ml-latest-small.
"""
import os
import pathlib
import random

import pytest

import movieme

REPO = pathlib.Path(__file__).resolve().parents[3]
DATA = os.environ.get("MOVIEME_DATA") or str(REPO / "data" / "ml-latest-small")


def make_tiny(n_users=30, n_movies=20, per_user=8, seed=5):
    """A small in-memory dataset: every user rates `per_user` movies; every
    movie has a title with a year and genres."""
    rnd = random.Random(seed)
    rows = []
    for u in range(1, n_users + 1):
        for m in rnd.sample(range(1, n_movies + 1), per_user):
            rows.append((u, m, rnd.choice([1.0, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0])))
    r = movieme.Ratings()
    r.add(rows)
    for m in range(1, n_movies + 1):
        genres = ["Drama", "Comedy"] if m % 2 else "Action"
        r.set_movie(m, "Movie %d (%d)" % (m, 1980 + m), genres)
    return r, rows


@pytest.fixture(scope="session")
def data_dir():
    return DATA


@pytest.fixture(scope="session")
def ml(data_dir):
    """The bundled ml-latest-small (read-only: tests must not modify it)."""
    return movieme.load_movielens(data_dir)


@pytest.fixture(scope="session")
def ml_model(ml):
    """A model of ml-latest-small (read-only: use .copy() to add users)."""
    return movieme.train_als(ml, rank=8, iterations=5, seed=7, n_threads=2)


@pytest.fixture
def tiny():
    return make_tiny()[0]


@pytest.fixture
def tiny_rows():
    return make_tiny()[1]


@pytest.fixture
def tiny_model(tiny):
    return movieme.train_als(tiny, rank=4, iterations=5, seed=3, n_threads=1)
