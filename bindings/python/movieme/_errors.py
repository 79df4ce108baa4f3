"""The movieme exception hierarchy.

Every failure of the C library reaches Python as one of these. Each class
also derives from the built-in exception a Python programmer would catch
for that kind of failure (``ValueError`` for bad arguments and bad data,
``OSError`` for files, ``KeyError`` for unknown ids, ...), so both
``except movieme.Error`` and ``except OSError`` work.

The SWIG layer calls :func:`_from_status` with the C status, message and the
path the call was about; that is the single place C errors become Python
exceptions.
"""

import errno as _errno
import os as _os
import re as _re

# The C status codes (include/movieme.h); their values are frozen.
REC_OK = 0
REC_EINVAL = -1
REC_ENOMEM = -2
REC_EIO = -3
REC_EFORMAT = -4
REC_ENOTFOUND = -5
REC_ELAPACK = -6
REC_ECANCELED = -7

__all__ = [
    "Error",
    "InvalidArgumentError",
    "FormatError",
    "FileError",
    "NotFoundError",
    "OutOfMemoryError",
    "SolverError",
    "CancelledError",
]


class Error(Exception):
    """Base class of every movieme error.

    Attributes:
        code: the C status (a negative ``REC_E*`` value).
        message: the C library's message, e.g.
            ``"ratings.csv:17: rating 'abc' is not a number"``.
    """

    default_code = REC_EINVAL

    def __init__(self, message="", code=None):
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code

    def __str__(self):
        return self.message


class InvalidArgumentError(Error, ValueError):
    """An invalid argument: a bad parameter, an empty dataset, ..."""

    default_code = REC_EINVAL


class FormatError(Error, ValueError):
    """Bad data: a parse error in a data file, or a bad model file.

    Attributes:
        path: the file named by the message (or the file being read), or None.
        line: the 1-based line named by the message, or None.
    """

    default_code = REC_EFORMAT

    def __init__(self, message="", code=None, path=None, line=None):
        super().__init__(message, code)
        self.path = path
        self.line = line


class FileError(Error, OSError):
    """A file that cannot be opened, read or written (or does not exist).

    ``errno``, ``strerror`` and ``filename`` are set as for ``OSError``;
    a missing file has ``errno == errno.ENOENT``.
    """

    default_code = REC_EIO

    def __init__(self, message="", code=None, errno=None, filename=None):
        OSError.__init__(self, errno if errno is not None else _errno.EIO,
                         message, filename)
        self.message = message
        self.code = self.default_code if code is None else code

    def __str__(self):
        return self.message


class NotFoundError(Error, KeyError):
    """An unknown user or movie id."""

    default_code = REC_ENOTFOUND


class OutOfMemoryError(Error, MemoryError):
    """The library ran out of memory."""

    default_code = REC_ENOMEM


class SolverError(Error, ArithmeticError):
    """A dense solve failed (singular system)."""

    default_code = REC_ELAPACK


class CancelledError(Error):
    """Training was cancelled by the progress callback."""

    default_code = REC_ECANCELED


_LOCATION = _re.compile(r"^(?P<path>[^\n]*?):(?P<line>\d+):")
_PATH_ONLY = _re.compile(r"^(?P<path>[^\s:][^\n:]*):\s")
_strerrors = None


def _guess_errno(message, default):
    """The errno whose strerror text the C message quotes, else default."""
    global _strerrors
    if _strerrors is None:
        _strerrors = sorted(((_os.strerror(e), e) for e in _errno.errorcode),
                            key=lambda t: -len(t[0]))
    for text, num in _strerrors:
        if text and text in message:
            return num
    return default


def _from_status(code, message, path=None):
    """The exception for C status `code` with `message`.

    `path` is the file the failing call was about (load/save), if any.
    """
    if not message:
        message = "movieme error %d" % code
    if code == REC_EINVAL:
        return InvalidArgumentError(message, code)
    if code == REC_ENOMEM:
        return OutOfMemoryError(message, code)
    if code == REC_EFORMAT:
        m = _LOCATION.match(message)
        if m:
            return FormatError(message, code, m.group("path"),
                               int(m.group("line")))
        m = _PATH_ONLY.match(message)
        named = m.group("path") if m else None
        return FormatError(message, code, named or path, None)
    if code == REC_EIO or (code == REC_ENOTFOUND and path is not None):
        default = _errno.ENOENT if code == REC_ENOTFOUND else _errno.EIO
        return FileError(message, code, _guess_errno(message, default), path)
    if code == REC_ENOTFOUND:
        return NotFoundError(message, code)
    if code == REC_ELAPACK:
        return SolverError(message, code)
    if code == REC_ECANCELED:
        return CancelledError(message, code)
    return Error(message, code)


# Show the classes where users find them: movieme.FileError, ...
for _cls in (Error, InvalidArgumentError, FormatError, FileError,
             NotFoundError, OutOfMemoryError, SolverError, CancelledError):
    _cls.__module__ = "movieme"
del _cls
