"""Tuning the model's parameters now and then (issue 11, docs/tuning.md).

Every training of the site (the first start's and each retrain's) goes
through Tuning.train, which

  * tunes when due: movieme.tune_als on the data about to be trained on (a
    random validation split of MOVIEME_TUNE_FRACTION), when no tuning of
    the model's mode is stored yet (first start), after MOVIEME_TUNE_EVERY
    trainings with the stored parameters, or when the last tuning is older
    than MOVIEME_TUNE_MAX_AGE seconds;
  * stores what it chose and the validation RMSE and nDCG@10 of the choice
    (a ModelTuning row), then
  * trains with the latest stored choice over the configured base, and
    counts the training in that row (the "About the model" page shows it).

The grid (MOVIEME_TUNE_GRID) holds movieme.tune_als's lists; those that do
not apply to the mode are left out. In the hybrid and explicit modes the
rating model (reg path, bias prior) is chosen by validation RMSE and the
hybrid's ranking blend then by nDCG@10 of the best point, and the hybrid's
predicted stars get the preference term fitted on the same validation
ratings; implicit models are tuned on nDCG@10. Calls flow one way: engine -> tuning -> models.
"""
import json
import logging
import time

import movieme

from .models import ModelTuning, db, utcnow

log = logging.getLogger("flask_demo.tuning")

K = 10  # the nDCG cut-off the site reports

# the tune_als lists each mode can search, and the train_als parameter of each
LISTS = {"regs": "reg", "ranks": "rank", "bias_regs": "bias_reg",
         "bias_priors": "bias_prior", "blends": "blend",
         "blend_shrinks": "blend_shrink", "preference_regs": "preference_reg",
         "preference_alphas": "preference_alpha", "alphas": "alpha"}
MODE_LISTS = {
    "hybrid": ("regs", "ranks", "bias_regs", "bias_priors", "blends",
               "blend_shrinks"),
    "explicit": ("regs", "ranks", "bias_regs", "bias_priors"),
    "implicit": ("regs", "ranks", "alphas"),
}


def check_grid(grid):
    """MOVIEME_TUNE_GRID: {list name: [numbers]}; ValueError naming what is
    wrong (checked at start, not at the first tuning)."""
    if not isinstance(grid, dict):
        raise ValueError("MOVIEME_TUNE_GRID must be a JSON object of lists, "
                         "got %r" % (grid,))
    for name, values in grid.items():
        if name not in LISTS:
            raise ValueError("MOVIEME_TUNE_GRID: unknown list %r (one of %s)"
                             % (name, ", ".join(sorted(LISTS))))
        kind = int if name == "ranks" else (int, float)
        if (not isinstance(values, (list, tuple)) or not values or
                not all(isinstance(v, kind) and not isinstance(v, bool)
                        for v in values)):
            raise ValueError("MOVIEME_TUNE_GRID: %r must be a non-empty list "
                             "of %s, got %r" % (name, "whole numbers" if
                                                name == "ranks" else "numbers",
                                                values))


class Tuning:
    def __init__(self, app):
        self.app = app
        cfg = app.config
        self.mode = cfg.get("MOVIEME_ALS_MODE", "hybrid")
        check_grid(cfg["MOVIEME_TUNE_GRID"])
        for name in ("MOVIEME_TUNE_EVERY", "MOVIEME_TUNE_MAX_AGE"):
            if cfg[name] < 0:
                raise ValueError("%s must be >= 0 (0: never), got %r"
                                 % (name, cfg[name]))
        if not 0 < cfg["MOVIEME_TUNE_FRACTION"] < 1:
            raise ValueError("MOVIEME_TUNE_FRACTION must be in (0, 1)")

    @property
    def enabled(self):
        return bool(self.app.config["MOVIEME_TUNE"])

    def latest(self):
        """The tuning in use: the latest of the model's mode (None when
        tuning is off or none was stored)."""
        if not self.enabled:
            return None
        return (ModelTuning.query.filter_by(mode=self.mode)
                .order_by(ModelTuning.id.desc()).first())

    def due(self, latest):
        """Why a tuning is due now (first | every | age), or None."""
        cfg = self.app.config
        if not self.enabled:
            return None
        if latest is None:
            return "first"
        every = cfg["MOVIEME_TUNE_EVERY"]
        if every and latest.trainings >= every:
            return "every"
        age = cfg["MOVIEME_TUNE_MAX_AGE"]
        if age and (utcnow() - latest.tuned_at).total_seconds() >= age:
            return "age"
        return None

    def grid(self):
        """The lists of MOVIEME_TUNE_GRID that apply to the mode."""
        return {name: [(int if name == "ranks" else float)(v) for v in values]
                for name, values in self.app.config["MOVIEME_TUNE_GRID"].items()
                if name in MODE_LISTS[self.mode]}

    def tune(self, data, base, reason, stop=None):
        """Search on `data` from the train_als parameters `base`; store and
        return the ModelTuning row. `stop()` true cancels
        (movieme.CancelledError)."""
        cfg = self.app.config
        grid = self.grid()
        metric = "ndcg" if self.mode == "implicit" else "rmse"
        t0 = time.monotonic()
        result = movieme.tune_als(
            data, metric=metric, fraction=cfg["MOVIEME_TUNE_FRACTION"], k=K,
            progress=lambda point: not (stop and stop()), **grid, **base)
        # the values searched (the reg path always is), as train_als takes them
        chosen = {LISTS[name]: result.best[LISTS[name]]
                  for name in set(grid) | {"regs"}}
        if "ranks" in grid and "preference_rank" in result.best:
            # the rank searched was the rating model's (docs/tuning.md)
            chosen["preference_rank"] = result.best["preference_rank"]
        if self.mode == "hybrid":
            # fitted at every point: what members choose to rate, in the
            # predicted stars; and the blend, which the tuner ranks the best
            # point at even without a list (docs/tuning.md)
            for key in ("rating_pref_weight", "rating_pref_shift", "blend"):
                chosen[key] = result.best[key]
        row = ModelTuning(mode=self.mode, reason=reason,
                          seconds=time.monotonic() - t0, n_ratings=len(data),
                          metric=metric, k=K, val_rmse=result.rmse,
                          val_ndcg=result.ndcg, n_points=len(result.points),
                          grid=json.dumps(grid, sort_keys=True),
                          chosen=json.dumps(chosen, sort_keys=True),
                          best=json.dumps(result.best, sort_keys=True),
                          trainings=0)
        db.session.add(row)
        db.session.commit()
        log.info("tuned (%s) on %d ratings in %.1fs: %s (validation RMSE %.4f, "
                 "nDCG@%d %.4f, %d points)", reason, len(data), row.seconds,
                 row.chosen, result.rmse, K, result.ndcg, len(result.points))
        return row

    def train(self, data, base, progress=None, stop=None):
        """Tune if due, then train on `data` with the stored choice over
        the train_als parameters `base`; returns the model."""
        latest = self.latest()
        reason = self.due(latest)
        if reason:
            latest = self.tune(data, base, reason, stop)
        params = dict(base)
        if latest is not None:
            params.update(json.loads(latest.chosen))
        model = movieme.train_als(data, progress=progress, **params)
        if latest is not None:
            latest.trainings += 1
            latest.trained_at, latest.trained_ratings = utcnow(), len(data)
            latest.trained_params = json.dumps(params, sort_keys=True)
            db.session.commit()
        return model

    def about(self):
        """What the About page shows of the tuning in use, or None."""
        row = self.latest()
        if row is None:
            return None
        # the last training's parameters over the library's defaults
        params = dict(json.loads(row.best),
                      **json.loads(row.trained_params or "{}"))
        params.pop("n_threads", None)   # a machine setting, not the model's
        return {"row": row, "chosen": json.loads(row.chosen),
                "grid": json.loads(row.grid), "params": params}
