"""Pickle and bytes: models and datasets round-trip exactly; a model's bytes
are its file's bytes."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import movieme

from conftest import make_tiny


def _same_dataset(a, b):
    assert (a.n_users, a.n_movies, a.n_ratings) == \
        (b.n_users, b.n_movies, b.n_ratings)
    for x, y in zip(a.to_arrays(), b.to_arrays()):
        np.testing.assert_array_equal(x, y)
    assert list(a.movies()) == list(b.movies())
    assert a.count_avg() == b.count_avg()


def test_model_bytes_are_the_file(ml_model, tmp_path):
    path = tmp_path / "m.bin"
    ml_model.save(path)
    data = ml_model.to_bytes()
    assert isinstance(data, bytes)
    assert data == path.read_bytes()
    assert data[:8] == b"MOVIEME\0"


@pytest.mark.parametrize("protocol", [2, pickle.DEFAULT_PROTOCOL,
                                      pickle.HIGHEST_PROTOCOL])
def test_model_pickle_round_trip(ml_model, protocol):
    blob = pickle.dumps(ml_model, protocol=protocol)
    m = pickle.loads(blob)
    assert isinstance(m, movieme.Model)
    assert m.to_bytes() == ml_model.to_bytes()
    assert m.top_n(1, 10) == ml_model.top_n(1, 10)
    assert m.predict(1, 1) == ml_model.predict(1, 1)


def test_model_changed_and_implicit_round_trip(ml, ml_model):
    m = ml_model.copy()
    uid = m.add_user({1: 5.0, 260: 4.0})
    m.remove_user(3)
    m2 = pickle.loads(pickle.dumps(m))
    assert uid in m2 and 3 not in m2
    assert m2.to_bytes() == m.to_bytes()
    imp = movieme.train_als(ml, rank=4, iterations=2, implicit=True,
                            n_threads=1)
    imp2 = pickle.loads(pickle.dumps(imp))
    assert imp2.implicit and imp2.to_bytes() == imp.to_bytes()


def test_model_from_bytes_inputs(ml_model):
    data = ml_model.to_bytes()
    for form in (bytearray(data), memoryview(data)):
        assert movieme.Model.from_bytes(form).to_bytes() == data


def test_model_bad_bytes(ml_model):
    data = ml_model.to_bytes()
    with pytest.raises(movieme.FormatError, match="truncated") as ei:
        movieme.Model.from_bytes(data[:-10])
    assert "(memory)" in str(ei.value)
    with pytest.raises(movieme.FormatError, match="magic"):
        movieme.Model.from_bytes(b"hello, world, not a model at all.....")
    newer = bytearray(data)
    newer[8:12] = (99).to_bytes(4, "little")  # format version 99
    with pytest.raises(movieme.FormatError, match="version 99"):
        movieme.Model.from_bytes(bytes(newer))
    # a pickle whose bytes come from a newer format fails the same way
    blob = pickle.dumps(ml_model)
    with pytest.raises(movieme.FormatError, match="version 99"):
        pickle.loads(blob.replace(data, bytes(newer)))
    with pytest.raises(TypeError):
        movieme.Model.from_bytes("a str is not bytes")


def test_closed_model_does_not_pickle(ml):
    m = movieme.train_als(ml, rank=2, iterations=1, n_threads=1)
    m.close()
    with pytest.raises(movieme.InvalidArgumentError, match="closed"):
        pickle.dumps(m)


def test_ratings_pickle_round_trip(ml):
    r = pickle.loads(pickle.dumps(ml))
    assert isinstance(r, movieme.Ratings)
    _same_dataset(r, ml)


def test_ratings_pickle_metadata_and_unrated_movies():
    r, _ = make_tiny()
    r.set_movie(500, "Nobody Rated It (1999)", ["Drama", "War"])
    r.set_movie(501, "")  # exists, no title, no ratings
    r2 = pickle.loads(pickle.dumps(r))
    _same_dataset(r, r2)
    assert r2.movie(500).genres == ("Drama", "War")
    assert r2.movie(500).year == 1999
    assert r2.movie(501).n_ratings == 0
    e = pickle.loads(pickle.dumps(movieme.Ratings()))
    assert len(e) == 0 and e.n_movies == 0


def test_ratings_pickle_newer_format():
    r, _ = make_tiny()
    fn, args = r.__reduce__()
    with pytest.raises(movieme.FormatError, match="format 2.*upgrade"):
        fn(2, *args[1:])


def test_pickle_in_another_process(ml_model, tmp_path):
    path = tmp_path / "m.pickle"
    path.write_bytes(pickle.dumps(ml_model))
    code = ("import pickle, sys; m = pickle.load(open(sys.argv[1], 'rb'));"
            "print(m.top_n(1, 3)[0].movie_id)")
    out = subprocess.run([sys.executable, "-c", code, str(path)],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ))
    assert int(out.stdout) == ml_model.top_n(1, 3)[0].movie_id
