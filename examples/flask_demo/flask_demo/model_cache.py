"""Results that depend only on the model being served and the call's
arguments, kept until the model is replaced.

The pages ask the model the same questions again and again: the movies
similar to a movie, why a movie is recommended for a set of ratings
(rec_explain_for_ratings). Their answers depend on the movie side of the
model only: folding a member in (rec_add_user, the quick picks) solves
that member's factors with the movie factors fixed, so it changes none of
them. A retrain or a reload brings a new model object, and with it an empty
cache; the old one is dropped with the old model.
"""
import functools


class PerModel:
    """fn(model, *args) kept per model object (an LRU of maxsize entries)."""

    def __init__(self, fn, maxsize):
        self._fn = fn
        self._maxsize = maxsize
        self._current = None      # (model, cached fn of args)

    def __call__(self, model, *args):
        current = self._current
        if current is None or current[0] is not model:
            # two threads may both start one for a new model: harmless
            current = (model, functools.lru_cache(maxsize=self._maxsize)(
                functools.partial(self._fn, model)))
            self._current = current
        return current[1](*args)
