"""Every error path: the right class of the movieme.Error hierarchy, the
right built-in base, the C status and message, never a crash or None."""
import errno
import os

import pytest

import movieme
from movieme import _errors


# ---- the hierarchy ------------------------------------------------------------

@pytest.mark.parametrize("cls, base, code", [
    (movieme.InvalidArgumentError, ValueError, -1),
    (movieme.OutOfMemoryError, MemoryError, -2),
    (movieme.FileError, OSError, -3),
    (movieme.FormatError, ValueError, -4),
    (movieme.NotFoundError, KeyError, -5),
    (movieme.SolverError, ArithmeticError, -6),
    (movieme.CancelledError, Exception, -7),
])
def test_hierarchy(cls, base, code):
    assert issubclass(cls, movieme.Error)
    assert issubclass(cls, base)
    assert issubclass(movieme.Error, Exception)
    exc = _errors._from_status(code, "something failed")
    assert type(exc) is cls
    assert exc.code == code
    assert exc.message == "something failed"
    assert str(exc) == "something failed"
    assert cls.__module__ == "movieme"


def test_from_status_unknown_code():
    exc = _errors._from_status(-99, "")
    assert type(exc) is movieme.Error
    assert exc.code == -99 and exc.message


def test_format_error_location():
    exc = _errors._from_status(-4, "data/ratings.csv:17: rating 'abc' is "
                                    "not a number")
    assert (exc.path, exc.line) == ("data/ratings.csv", 17)
    exc = _errors._from_status(-4, "m.bin: bad checksum", "m.bin")
    assert (exc.path, exc.line) == ("m.bin", None)
    exc = _errors._from_status(-4, "bad data")
    assert (exc.path, exc.line) == (None, None)


def test_errors_can_be_raised_by_users():
    with pytest.raises(movieme.Error) as info:
        raise movieme.FileError("x: gone", errno=errno.ENOENT, filename="x")
    assert info.value.errno == errno.ENOENT and info.value.filename == "x"
    assert movieme.NotFoundError("no such user").code == -5


# ---- files ------------------------------------------------------------------------

def test_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(movieme.FileError) as info:
        movieme.load_movielens(missing)
    e = info.value
    assert isinstance(e, OSError) and not isinstance(e, KeyError)
    assert e.errno == errno.ENOENT
    assert e.filename == str(missing)
    assert e.code == -5
    assert str(missing) in str(e)


def test_directory_without_ratings(tmp_path):
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,A,B\n")
    with pytest.raises(movieme.FileError) as info:
        movieme.load_movielens(tmp_path)
    assert info.value.errno == errno.ENOENT


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    f = tmp_path / "ratings.csv"
    f.write_text("userId,movieId,rating,timestamp\n1,2,3.5,1\n")
    f.chmod(0)
    with pytest.raises(movieme.FileError) as info:
        movieme.load_movielens(f)
    assert info.value.filename == str(f)
    assert info.value.errno == errno.EACCES


def test_bad_row_names_file_and_line(tmp_path):
    f = tmp_path / "ratings.csv"
    f.write_text("userId,movieId,rating,timestamp\n1,2,3.5,1\n1,3,abc,1\n")
    with pytest.raises(movieme.FormatError) as info:
        movieme.load_movielens(tmp_path)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.code == -4
    assert e.path == str(f)
    assert e.line == 3
    assert "abc" in e.message


def test_bad_model_file(tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"definitely not a model" * 10)
    with pytest.raises(movieme.FormatError) as info:
        movieme.load_model(f)
    assert info.value.path == str(f)
    f.write_bytes(b"")
    with pytest.raises(movieme.FormatError):
        movieme.load_model(f)


def test_truncated_model_file(tmp_path, tiny_model):
    f = tmp_path / "model.bin"
    tiny_model.save(f)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(movieme.FormatError):
        movieme.load_model(f)
    f.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(movieme.FormatError):
        movieme.Model.load(f)


def test_missing_model_file(tmp_path):
    with pytest.raises(movieme.FileError) as info:
        movieme.load_model(tmp_path / "none.bin")
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(tmp_path / "none.bin")


def test_model_path_is_directory(tmp_path):
    with pytest.raises(movieme.FileError) as info:
        movieme.load_model(tmp_path)
    assert info.value.filename == str(tmp_path)


def test_save_to_missing_directory(tmp_path, tiny_model):
    target = tmp_path / "no" / "such" / "dir" / "m.bin"
    with pytest.raises(movieme.FileError) as info:
        tiny_model.save(target)
    assert info.value.filename == str(target)
    assert info.value.errno == errno.ENOENT


def test_save_over_directory(tmp_path, tiny_model):
    with pytest.raises(movieme.FileError):
        tiny_model.save(tmp_path)


def test_path_types():
    with pytest.raises(TypeError):
        movieme.load_movielens(None)
    with pytest.raises(TypeError):
        movieme.load_model(42)


# ---- arguments ------------------------------------------------------------------

def test_add_invalid_rows():
    r = movieme.Ratings()
    with pytest.raises(movieme.InvalidArgumentError, match="finite"):
        r.add([(1, 2, float("nan"))])
    with pytest.raises(movieme.InvalidArgumentError):
        r.add([(1, 2, float("inf"))])
    with pytest.raises(movieme.InvalidArgumentError, match="negative"):
        r.add([(-1, 2, 3.0)])
    with pytest.raises(movieme.InvalidArgumentError, match="out of range"):
        r.add([(1, 2 ** 40, 3.0)])
    with pytest.raises(movieme.InvalidArgumentError, match="out of range"):
        r.add([(2 ** 100, 1, 3.0)])
    with pytest.raises(TypeError):
        r.add([(1, 2)])
    with pytest.raises(TypeError):
        r.add([(1, 2, 3, 4)])
    with pytest.raises(TypeError):
        r.add(5)
    with pytest.raises(TypeError):
        r.add([(1, "2", 3.0)])
    with pytest.raises(TypeError):
        r.add([(1, 2.5, 3.0)])
    with pytest.raises(TypeError):
        r.add([(1, 2, "x")])
    with pytest.raises(TypeError):
        r.add([None])
    # a failed add leaves the dataset unchanged
    r.add([(1, 1, 4.0)])
    with pytest.raises(movieme.InvalidArgumentError):
        r.add([(2, 2, 3.0), (3, 3, float("nan"))])
    assert (r.n_users, len(r)) == (1, 1)


def test_set_movie_invalid():
    r = movieme.Ratings()
    with pytest.raises(movieme.InvalidArgumentError):
        r.set_movie(-1, "x")
    with pytest.raises(TypeError):
        r.set_movie(1, "x", 5)
    with pytest.raises(TypeError):
        r.set_movie(1, "x", ["A", 3])
    with pytest.raises(movieme.InvalidArgumentError):
        r.set_movie(1, None)


def test_unknown_ids(tiny, tiny_model):
    with pytest.raises(movieme.NotFoundError) as info:
        tiny.user_ratings(999)
    assert isinstance(info.value, KeyError)
    assert "999" in str(info.value)  # not KeyError's repr of the message
    with pytest.raises(movieme.NotFoundError):
        tiny.movie(999)
    with pytest.raises(movieme.NotFoundError):
        tiny_model.movie(999)
    with pytest.raises(KeyError):
        tiny_model.top_n(999)
    with pytest.raises(movieme.NotFoundError):
        tiny_model.similar_movies(999)
    with pytest.raises(movieme.NotFoundError):
        tiny_model.user_factors(999)
    with pytest.raises(movieme.NotFoundError):
        tiny_model.movie_factors(999)


def test_negative_counts(tiny, tiny_model):
    for call in (lambda: tiny_model.top_n(1, -1),
                 lambda: tiny_model.similar_movies(1, -5),
                 lambda: tiny_model.recommend_for_ratings({1: 4.0}, -1),
                 lambda: tiny.best_movies(-1),
                 lambda: tiny.best_movies(min_count=-1),
                 lambda: tiny.best_movies(min_count=2 ** 33)):
        with pytest.raises(movieme.InvalidArgumentError):
            call()


def test_split_invalid(tiny):
    for f in (-0.1, 1.0, 2.0, float("nan")):
        with pytest.raises(movieme.InvalidArgumentError):
            tiny.split(f)
    with pytest.raises(OverflowError):
        tiny.split(0.1, seed=-1)


def test_fold_in_invalid(tiny_model):
    with pytest.raises(movieme.InvalidArgumentError):
        tiny_model.add_user({1: float("nan")})
    with pytest.raises(movieme.InvalidArgumentError):
        tiny_model.recommend_for_ratings({1: float("inf")})
    with pytest.raises(TypeError):
        tiny_model.recommend_for_ratings([(1, 2, 3)])
    with pytest.raises(TypeError):
        tiny_model.add_user(5)
    with pytest.raises(TypeError):
        tiny_model.add_user({"a": 4.0})


def test_evaluate_invalid(tiny, tiny_model):
    with pytest.raises(movieme.InvalidArgumentError):
        tiny_model.evaluate(tiny, k=0)
    with pytest.raises(TypeError):
        tiny_model.evaluate(None)


@pytest.mark.parametrize("kwargs", [
    {"rank": 0}, {"rank": -3}, {"rank": 100000}, {"iterations": 0},
    {"iterations": -1}, {"reg": -1.0}, {"reg": float("nan")},
    {"n_threads": -1}, {"seed": -1}, {"rank": 2 ** 40},
])
def test_train_invalid_params(tiny, kwargs):
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(tiny, **kwargs)


def test_train_invalid_types(tiny):
    with pytest.raises(TypeError):
        movieme.train_als(tiny, rank="ten")
    with pytest.raises(TypeError):
        movieme.train_als(tiny, progress=42)
    with pytest.raises(TypeError):
        movieme.train_als(tiny, rnk=4)
    with pytest.raises(TypeError):
        movieme.train_als("not ratings")
    with pytest.raises(TypeError):
        movieme.train_als(tiny, 4)  # options are keyword-only


def test_train_empty_dataset():
    with pytest.raises(movieme.InvalidArgumentError):
        movieme.train_als(movieme.Ratings())


def test_closed_objects_as_arguments(tiny, tiny_model):
    test = tiny.copy()
    test.close()
    with pytest.raises(movieme.InvalidArgumentError, match="closed"):
        tiny_model.evaluate(test)
    tiny.close()
    with pytest.raises(movieme.InvalidArgumentError, match="Ratings is closed"):
        movieme.train_als(tiny)
