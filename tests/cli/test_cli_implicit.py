#!/usr/bin/python3
"""End-to-end tests of `movieme train --implicit` and the ranking reports
(AUC, leave-k-out, popularity baseline) on data/ml-latest-small.

Run: test_cli_implicit.py --movieme build/movieme --repo /path/to/libmovieme
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

MOVIEME = os.environ.get("MOVIEME", "movieme")
REPO = os.environ.get("REC_REPO", os.path.join(os.path.dirname(__file__), "..", ".."))


def movieme(*args, code=0):
    p = subprocess.run([MOVIEME, *map(str, args)], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == code, (args, p.returncode, p.stdout[-1500:],
                                  p.stderr[-1500:])
    return p.stdout, p.stderr


class ImplicitCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="movieme-implicit-")
        cls.data = os.path.join(REPO, "data", "ml-latest-small")
        cls.model = os.path.join(cls.tmp, "imp.model")
        out, _ = movieme("train", "--data", cls.data, "--out", cls.model,
                         "--implicit", "--alpha", "1", "--cg-steps", "3",
                         "--leave-out", "5", "--iters", "12", "--threads",
                         "2", "--seed", "1", "--json", "-q")
        cls.doc = json.loads(out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_train_json_reports_baseline(self):
        d = self.doc
        self.assertTrue(d["params"]["implicit"])
        self.assertEqual(d["params"]["solver"], "cg")
        self.assertEqual(d["params"]["leave_out"], 5)
        self.assertEqual(d["test_ratings"] % 5, 0)
        imp, pop = d["test"], d["popularity"]
        self.assertEqual(imp["n_users_ranked"], pop["n_users_ranked"])
        self.assertGreater(imp["ndcg_at_k"], 1.5 * pop["ndcg_at_k"])
        self.assertGreater(imp["auc"], pop["auc"])
        self.assertGreater(pop["auc"], 0.5)

    def test_recommend_and_fold_in(self):
        out, _ = movieme("recommend", "--model", self.model, "--user", "1",
                         "-n", "5", "--json", "-q")
        recs = json.loads(out)
        self.assertEqual(len(recs["recommendations"]), 5)
        out, _ = movieme("recommend", "--model", self.model, "--rate",
                         "1=5", "260=5", "1196=4", "-n", "5", "--json", "-q")
        self.assertEqual(len(json.loads(out)["recommendations"]), 5)

    def test_eval_with_baseline(self):
        out, _ = movieme("eval", "--model", self.model, "--test", self.data,
                         "--train", self.data, "-q")
        self.assertIn("AUC", out)
        self.assertIn("popularity baseline", out)
        out, _ = movieme("eval", "--model", self.model, "--test", self.data,
                         "--train", self.data, "--json", "-q")
        d = json.loads(out)
        self.assertTrue(d["implicit"])
        self.assertIn("auc", d["popularity"])

    def test_cholesky_text(self):
        out, _ = movieme("train", "--data", self.data, "--out",
                         os.path.join(self.tmp, "ch.model"), "--implicit",
                         "--solver", "cholesky", "--min-rating", "4",
                         "--weight-by-value", "--iters", "2", "--rank", "8",
                         "--threads", "2", "-q")
        self.assertIn("trained rank 8", out)

    def test_usage_errors(self):
        for bad in (["--solver", "qr"], ["--alpha", "0"], ["--cg-steps", "0"],
                    ["--leave-out", "3", "--test-fraction", "0.1"]):
            _, err = movieme("train", "--data", self.data, "--out",
                             os.path.join(self.tmp, "x.model"), "--implicit",
                             *bad, code=2)
            self.assertIn("movieme train", err)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--movieme", default=MOVIEME)
    ap.add_argument("--repo", default=REPO)
    opts, rest = ap.parse_known_args()
    MOVIEME = os.path.abspath(opts.movieme) if os.sep in opts.movieme else opts.movieme
    REPO = os.path.abspath(opts.repo)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
