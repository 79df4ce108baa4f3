#!/usr/bin/python3
"""End-to-end tests of `movieme tune` and `movieme train --tune`.

Run: test_cli_tune.py --movieme build/movieme --repo /path/to/libmovieme
"""
import argparse
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli  # noqa: E402  (run, run_json and the data paths)
from test_cli import run, run_json, small  # noqa: E402


def k100():
    return test_cli.ml100k()


class TuneTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="movieme-tune-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_table_and_progress(self):
        code, out, err = run("tune", "--data", small(), "--rank", 8,
                             "--threads", 2, "--grid", "reg=0.2,0.1,0.05",
                             check=0)
        self.assertIn("points on a random validation split, metric rmse", out)
        self.assertIn("<- best", out)
        self.assertRegex(out, r"best: rank 8, reg 0\.(2|1|05), bias_reg 0\.1, "
                              r"bias_prior 0\.5, .*blend 0\.2, .*: "
                              r"validation RMSE 0\.\d+, nDCG@10 0\.\d+")
        # 3 regs, then the best point at the automatic blends 0.2, 0.1,
        # 0.05 and 0 (rows "ranked again")
        self.assertRegex(err, r"point 1 \(of up to 7\): rank 8, reg 0\.2, "
                              r"bias_prior 0\.5 -> RMSE")
        self.assertRegex(err, r"blend 0\.05 \(ranked again\) -> RMSE")
        code, out, err = run("tune", "--data", small(), "--rank", 8,
                             "--threads", 2, "--grid", "reg=0.2,0.1,0.05",
                             "--no-auto-blend", check=0)
        self.assertNotIn("ranked again", out + err)

    def test_json_matches_grid(self):
        doc, _ = run_json("tune", "--data", small(), "--rank", 6, "--threads",
                          2, "--grid", "reg=0.05,0.2", "--grid", "rank=4,6",
                          "--patience", 0, "-q")
        t = doc["tune"]
        self.assertEqual(doc["command"], "tune")
        pts = [p for p in t["points"] if not p["reranked"]]
        blends = [p for p in t["points"] if p["reranked"]]
        self.assertEqual([p["blend"] for p in blends], [0.2, 0.1, 0.05, 0])
        # reg walked strong to weak, per rank, cold at each path's start
        self.assertEqual([(p["rank"], p["reg"]) for p in pts],
                         [(4, 0.2), (4, 0.05), (6, 0.2), (6, 0.05)])
        self.assertEqual([p["warm"] for p in pts], [False, True, False, True])
        best = t["best"]
        i = best["index"]   # a blend row: the best point, ranked again
        row = t["points"][i]
        self.assertEqual((best["rank"], best["reg"], best["blend"]),
                         (row["rank"], row["reg"], row["blend"]))
        self.assertTrue(row["reranked"])
        self.assertEqual(best["rmse"], min(p["rmse"] for p in pts))
        self.assertGreater(best["ndcg"], 0.0 - 1e-12)
        for p in pts:
            self.assertIsNone(p["ndcg"])
            self.assertGreater(p["seconds"], 0)

    def test_folds_and_ndcg(self):
        doc, _ = run_json("tune", "--data", k100(), "--rank", 4, "--threads",
                          1, "--folds", 3, "--metric", "ndcg", "--grid",
                          "reg=0.3,0.1", "-q")
        t = doc["tune"]
        self.assertEqual((t["validation"], t["folds"], t["metric"]),
                         ("folds", 3, "ndcg"))
        for p in t["points"]:
            self.assertEqual(p["metric"], p["ndcg"])

    def test_train_tune_trains_the_best(self):
        model = os.path.join(self.tmp, "m.bin")
        doc, err = run_json("train", "--data", small(), "--out", model,
                            "--rank", 8, "--threads", 2, "--tune",
                            "--grid", "reg=0.2,0.1", "--test-fraction", 0.1)
        best = doc["tune"]["best"]
        self.assertEqual(doc["params"]["lambda"], best["reg"])
        self.assertEqual(doc["params"]["rank"], best["rank"])
        self.assertEqual(doc["params"]["iterations"], 10)
        self.assertIn("tuning on", err)
        # tuned on the training part only (90%), not on the test ratings
        self.assertIn("test_rmse", doc)
        self.assertTrue(os.path.exists(model))
        code, out, _ = run("train", "--data", small(), "--out", model,
                           "--rank", 8, "--threads", 2, "--tune", "--grid",
                           "reg=0.2,0.1", "-q", check=0)
        self.assertIn("<- best", out)
        self.assertIn("trained rank 8", out)

    def test_hybrid_grid_rmse_then_blend(self):
        # the rating model's reg and bias prior by RMSE, then the blend of
        # the best point by nDCG (rows "reranked"), and train --tune trains
        # with all of them
        model = os.path.join(self.tmp, "h.bin")
        doc, err = run_json("train", "--data", small(), "--out", model,
                            "--rank", 6, "--threads", 2, "--tune",
                            "--grid", "reg=0.2,0.1", "--grid",
                            "bias_prior=0,5", "--grid", "blend=0,0.4,2",
                            "--patience", 0, "--test-fraction", 0.1)
        t = doc["tune"]
        pts = t["points"]
        search, ranked = pts[:-3], pts[-3:]
        self.assertEqual([(p["bias_prior"], p["reg"]) for p in search],
                         [(0, 0.2), (0, 0.1), (5, 0.2), (5, 0.1)])
        self.assertTrue(all(p["ndcg"] is None and not p["reranked"]
                            for p in search))
        best_rmse = min(search, key=lambda p: p["rmse"])
        self.assertEqual([p["blend"] for p in ranked], [0, 0.4, 2])
        for p in ranked:
            self.assertTrue(p["reranked"])
            self.assertEqual((p["reg"], p["bias_prior"], p["rmse"]),
                             (best_rmse["reg"], best_rmse["bias_prior"],
                              best_rmse["rmse"]))
        best = t["best"]
        self.assertEqual(best["ndcg"], max(p["ndcg"] for p in ranked))
        self.assertEqual(pts[best["index"]]["blend"], best["blend"])
        params = doc["params"]
        self.assertEqual((params["lambda"], params["bias_prior"],
                          params["blend"], params["blend_shrink"]),
                         (best["reg"], best["bias_prior"], best["blend"],
                          best["blend_shrink"]))
        self.assertIn("(ranked again)", err)

    def test_hybrid_grid_ndcg(self):
        doc, _ = run_json("tune", "--data", small(), "--rank", 4,
                          "--threads", 2, "--metric", "ndcg", "--grid",
                          "reg=0.1", "--grid", "preference_alpha=0.3,2",
                          "--grid", "blend_shrink=0,50", "-q")
        pts = doc["tune"]["points"]
        self.assertEqual([(p["preference_alpha"], p["blend_shrink"],
                           p["reranked"]) for p in pts],
                         [(0.3, 0, False), (0.3, 50, True), (2, 0, False),
                          (2, 50, True)])
        for p in pts:
            self.assertEqual(p["metric"], p["ndcg"])
        best = doc["tune"]["best"]
        self.assertEqual(best["ndcg"], max(p["ndcg"] for p in pts))
        code, out, _ = run("tune", "--data", small(), "--rank", 4,
                           "--threads", 2, "--grid", "reg=0.1", "--grid",
                           "blend=0,1", check=0)
        self.assertIn("ranked again", out)
        self.assertRegex(out, r"best: rank 4, reg 0\.1, bias_reg 0\.1, "
                              r"bias_prior 0\.5, preference_reg auto, "
                              r"preference_alpha 0\.3, blend (0|1), ")

    def test_rating_pref_term(self):
        # every point fits the preference term of predicted ratings on its
        # validation ratings; --no-rating-pref keeps it at 0, and scores
        # worse on ml-latest-small (its choices carry taste)
        args = ("--data", small(), "--rank", 8, "--threads", 2, "--grid",
                "reg=0.2,0.1", "--patience", 0, "-q")
        fit, _ = run_json("tune", *args)
        plain, _ = run_json("tune", *args, "--no-rating-pref")
        for p, q in zip(fit["tune"]["points"], plain["tune"]["points"]):
            self.assertGreater(p["rating_pref_weight"], 0.1)
            self.assertLess(p["rating_pref_shift"], 0.0)
            self.assertEqual((q["rating_pref_weight"], q["rating_pref_shift"]),
                             (0, 0))
            self.assertLess(p["rmse"], q["rmse"] - 0.002)
        # train --tune trains with the fitted term, and it shows on the
        # held-out ratings
        model = os.path.join(self.tmp, "p.bin")
        args = ("--data", small(), "--out", model, "--rank", 8, "--threads",
                2, "--tune", "--grid", "reg=0.2,0.1", "--test-fraction", 0.1)
        doc, _ = run_json("train", *args)
        base, _ = run_json("train", *args, "--no-rating-pref")
        best, params = doc["tune"]["best"], doc["params"]
        self.assertEqual((params["rating_pref_weight"],
                          params["rating_pref_shift"]),
                         (best["rating_pref_weight"], best["rating_pref_shift"]))
        self.assertEqual(base["params"]["rating_pref_weight"], 0)
        self.assertLess(doc["test_rmse"], base["test_rmse"] - 0.002)
        code, out, _ = run("train", "--data", small(), "--out", model,
                           "--rank", 8, "--threads", 2,
                           "--rating-pref-weight", 0.5,
                           "--rating-pref-shift", -0.1, check=0)
        self.assertIn("predicted ratings add 0.5 x the preference score -0.1",
                      out)
        # the term needs the preference model
        code, out, err = run("train", "--data", k100(), "--out", model,
                             "--explicit-only", "--rating-pref-weight", 0.5)
        self.assertEqual(code, 1)
        self.assertIn("hybrid", err)

    def test_usage_errors(self):
        cases = [
            (["--grid", "reg=0.1,x"], "--grid"),
            (["--grid", "lambda=0.1"], "is not NAME=V1,V2"),
            (["--grid", "rank=2.5"], "whole number"),
            (["--grid", "reg="], "no values"),
            (["--grid", "blend=-1"], "--grid"),
            (["--grid", "bias_priors=1"], "bias_prior, preference_reg"),
            (["--metric", "mae"], "not rmse or ndcg"),
            (["--folds", 2, "--validation", 0.2], "give one of"),
            (["--folds", 1], "--folds"),
            (["--validation", 1], "--validation"),
        ]
        for extra, needle in cases:
            code, out, err = run("tune", "--data", k100(), *extra)
            self.assertEqual(code, 2, (extra, err))
            self.assertIn(needle, err, extra)
            self.assertEqual(out, "")

    def test_library_errors(self):
        # alpha without --implicit: the library's REC_EINVAL, exit 1
        code, out, err = run("tune", "--data", k100(), "--grid", "alpha=1,2")
        self.assertEqual(code, 1)
        self.assertIn("implicit", err)
        # the preference model's settings change the ranking only
        code, out, err = run("tune", "--data", k100(), "--grid",
                             "preference_reg=1,10")
        self.assertEqual(code, 1)
        self.assertIn("NDCG", err)
        code, out, err = run("tune", "--data", k100(), "--implicit",
                             "--grid", "blend=0,1")
        self.assertEqual(code, 1)
        self.assertIn("hybrid", err)
        code, out, err = run("tune", "--data", os.path.join(self.tmp, "none"))
        self.assertEqual(code, 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--movieme")
    ap.add_argument("--repo")
    args, rest = ap.parse_known_args()
    if args.movieme:
        test_cli.MOVIEME = args.movieme
    if args.repo:
        test_cli.REPO = args.repo
    unittest.main(argv=[sys.argv[0], *rest])
