"""The site's input limits in one place, used by the forms, the JSON API and
the URL rules: numbers, ids and lengths at any extreme get a 400 (or a form
error, or a 404 for an id that cannot exist), never a 500.

- Ratings are half stars from 0.5 to 5. Checked without arithmetic that can
  overflow (1e308 * 2 is inf, round(inf) raises; math.isfinite(10**400)
  raises), for ints and floats of any size.
- Text never holds NUL: PostgreSQL refuses it in any string (psycopg2
  raises ValueError before the query), so a NUL in a login name was a 500
  there and not on SQLite. Query strings, forms and JSON bodies with a NUL
  anywhere are a 400.
- Ids (movies, jobs, members) are what the database and the library hold:
  0 to 2**31 - 1. A larger id in a URL is a 404 before the view runs, so no
  query ever sees it (SQLite raises OverflowError past 2**63).
"""
import math

from werkzeug.routing import IntegerConverter

RATING_MIN, RATING_MAX = 0.5, 5.0
ID_MAX = 2 ** 31 - 1


def half_star(value):
    """True for a rating from 0.5 to 5 in half stars (an int or a float;
    bool, str, None and the rest are not ratings)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 1 <= value <= 5            # exact: no float conversion
    if isinstance(value, float):
        return (math.isfinite(value) and RATING_MIN <= value <= RATING_MAX
                and (value * 2).is_integer())
    return False


def has_nul(value):
    """True if a string anywhere in value (a str, or lists and dicts of
    them, as JSON gives) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def valid_id(value):
    return isinstance(value, int) and not isinstance(value, bool) \
        and 0 <= value <= ID_MAX


class IdConverter(IntegerConverter):
    """The `int` URL converter for ids: at most 10 digits (a 5000-digit path
    matches no route). The range is checked by ids_in_range, not here: a
    converter that refuses a value makes werkzeug answer 405 when another
    method's rule has the same path."""
    regex = r"\d{1,10}"


def ids_in_range(endpoint, values):
    """url_value_preprocessor: a 404 for an id past ID_MAX."""
    from flask import abort
    for v in (values or {}).values():
        if isinstance(v, int) and not valid_id(v):
            abort(404)
