#!/usr/bin/python3
"""End-to-end tests of the `movieme` command.

Every command in text and JSON mode on data/ml-latest-small and on the
ml-100k sample fixture (tests/data/ml-100k-sample), plus usage errors and
failures with their exit codes (0 ok, 1 failure, 2 usage).

Run: test_cli.py --movieme build/movieme --repo /path/to/libmovieme
(or set MOVIEME and REC_REPO). Extra arguments go to unittest.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

MOVIEME = os.environ.get("MOVIEME", "movieme")
REPO = os.environ.get("REC_REPO", os.path.join(os.path.dirname(__file__), "..", ".."))


def small():
    return os.path.join(REPO, "data", "ml-latest-small")


def ml100k():
    return os.path.join(REPO, "tests", "data", "ml-100k-sample")


def run(*args, check=None):
    """Run movieme; returns (code, stdout, stderr)."""
    p = subprocess.run([MOVIEME, *map(str, args)], capture_output=True,
                       text=True, timeout=600)
    if check is not None and p.returncode != check:
        raise AssertionError("movieme %s -> %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), p.returncode, check,
                                p.stdout[-2000:], p.stderr[-2000:]))
    return p.returncode, p.stdout, p.stderr


def run_json(*args):
    """Run with --json: stdout must be exactly one JSON object."""
    _, out, err = run(*args, "--json", check=0)
    doc = json.loads(out)
    assert isinstance(doc, dict), out
    return doc, err


class Fixture:
    tmp = None
    small_model = None
    small_split = None
    k100_model = None


def setUpModule():
    Fixture.tmp = tempfile.mkdtemp(prefix="movieme-cli-")
    # The default parameters on the bundled data: no flag but --data/--out.
    Fixture.small_model = os.path.join(Fixture.tmp, "small.bin")
    Fixture.small_train = run_json("train", "--data", small(), "--out",
                                   Fixture.small_model)
    Fixture.k100_model = os.path.join(Fixture.tmp, "k100.bin")
    run("train", "--data", ml100k(), "--out", Fixture.k100_model, "--rank", 8,
        "--iters", 5, "--seed", 7, "--threads", 1, check=0)


def tearDownModule():
    shutil.rmtree(Fixture.tmp, ignore_errors=True)


def user_ratings(user):
    with open(os.path.join(small(), "ratings.csv"), newline="") as f:
        return {int(r["movieId"]) for r in csv.DictReader(f)
                if int(r["userId"]) == user}


def movie_titles():
    with open(os.path.join(small(), "movies.csv"), newline="",
              encoding="utf-8") as f:
        return {int(r["movieId"]): r["title"] for r in csv.DictReader(f)}


def descending(scores):
    return all(a >= b for a, b in zip(scores, scores[1:]))


class Version(unittest.TestCase):
    def test_version(self):
        _, out, _ = run("--version", check=0)
        self.assertRegex(out, r"^movieme \d+\.\d+\.\d+ \(libmovieme \d+\.\d+\.\d+\)")

    def test_help(self):
        _, out, _ = run("--help", check=0)
        for cmd in ("stats", "train", "eval", "recommend", "similar"):
            self.assertIn(cmd, out)
            _, h, _ = run(cmd, "--help", check=0)
            self.assertIn("Usage: movieme " + cmd, h)
            self.assertIn("--json", h)
        _, h, _ = run("help", "train", check=0)
        self.assertIn("--test-fraction", h)


class Stats(unittest.TestCase):
    def test_text_small(self):
        _, out, err = run("stats", "--data", small(), "--top", 5, check=0)
        self.assertIn("100836 ratings by 610 users of 9742 movies", out)
        self.assertIn("Shawshank Redemption", out)
        self.assertEqual(len([l for l in out.splitlines() if l[:5].strip().endswith(".")]), 5)
        self.assertIn("loading", err)  # progress goes to stderr

    def test_json_small(self):
        d, _ = run_json("stats", "--data", small(), "--top", 20, "--min-count", 50)
        self.assertEqual((d["users"], d["movies"], d["ratings"]), (610, 9742, 100836))
        self.assertAlmostEqual(d["mean_rating"], 3.5016, places=3)
        self.assertEqual(len(d["best"]), 20)
        self.assertTrue(descending([b["score"] for b in d["best"]]))
        self.assertTrue(all(b["count"] >= 50 for b in d["best"]))
        self.assertEqual(d["best"][0]["movie_id"], 318)

    def test_json_every_title_escaped(self):
        """All rated movies, plain averages: every title round-trips."""
        d, _ = run_json("stats", "--data", small(), "--top", 100000,
                        "--min-count", 0, "--prior", 0, "-q")
        self.assertEqual(len(d["best"]), d["rated_movies"])
        titles = movie_titles()
        quoted = 0
        for b in d["best"]:
            self.assertEqual(b["title"], titles[b["movie_id"]])
            quoted += '"' in b["title"]
        self.assertGreater(quoted, 0)  # titles with quotes were in there

    def test_genre(self):
        d, _ = run_json("stats", "--data", small(), "--genre", "comedy", "--top", 5)
        self.assertEqual(len(d["best"]), 5)
        self.assertTrue(all("Comedy" in b["genres"].split("|") for b in d["best"]))

    def test_ml100k(self):
        _, out, _ = run("stats", "--data", ml100k(), check=0)
        self.assertIn("5000 ratings", out)
        d, _ = run_json("stats", "--data", ml100k(), "--min-count", 10)
        self.assertEqual(d["ratings"], 5000)
        self.assertEqual(d["movies"], 1682)  # u.item lists them all
        self.assertTrue(all(b["year"] is None or 1900 < b["year"] < 2000
                            for b in d["best"]))


class Train(unittest.TestCase):
    def test_defaults_give_a_sensible_model(self):
        d, err = Fixture.small_train
        self.assertEqual(d["command"], "train")
        self.assertTrue(os.path.getsize(Fixture.small_model) == d["model_bytes"] > 0)
        self.assertLess(d["train_rmse"], 0.8)
        self.assertGreater(d["train_rmse"], 0.05)
        self.assertEqual((d["users"], d["movies"]), (610, 9742))
        self.assertIn("iteration", err)
        self.assertNotIn("test_rmse", d)

    def test_test_fraction(self):
        out = os.path.join(Fixture.tmp, "split.bin")
        d, _ = run_json("train", "--data", small(), "--out", out,
                        "--test-fraction", 0.1, "--seed", 1)
        self.assertTrue(0.5 < d["test_rmse"] < 0.95, d["test_rmse"])
        self.assertAlmostEqual(d["test_ratings"] / 100836, 0.1, delta=0.01)
        self.assertEqual(d["train_ratings"] + d["test_ratings"], 100836)
        self.assertEqual(d["test"]["k"], 10)
        self.assertTrue(0 < d["test"]["coverage"] <= 1)
        self.assertLess(d["popularity"]["coverage"], d["test"]["coverage"])
        self.assertGreater(d["popularity"]["median_train_count"],
                           d["test"]["median_train_count"])
        self.assertEqual(d["params"]["test_fraction"], 0.1)

    def test_text_and_flags(self):
        out = os.path.join(Fixture.tmp, "t.bin")
        _, txt, err = run("train", "--data", ml100k(), "--out", out, "--rank", 4,
                          "--iters", 3, "--lambda", 0.1, "--seed", 3,
                          "--threads", 2, "--test-fraction", 0.2, check=0)
        self.assertIn("trained rank 4, 3 iterations, lambda 0.1", txt)
        self.assertIn("test RMSE", txt)
        self.assertIn("saved", txt)
        # the rating model's 3 iterations, then the preference model's 3
        self.assertEqual(err.count("iteration "), 6)

    def test_deterministic(self):
        a = os.path.join(Fixture.tmp, "a.bin")
        b = os.path.join(Fixture.tmp, "b.bin")
        for p in (a, b):
            run("train", "--data", ml100k(), "--out", p, "--rank", 6, "--iters", 4,
                "--seed", 11, "--threads", 2, "-q", check=0)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_quiet(self):
        out = os.path.join(Fixture.tmp, "q.bin")
        _, _, err = run("train", "--data", ml100k(), "--out", out, "--iters", 2,
                        "--quiet", check=0)
        self.assertEqual(err, "")


class TrainKinds(unittest.TestCase):
    """The default hybrid model, --explicit-only and the hybrid options."""

    def test_hybrid_default_and_explicit_only(self):
        hyb = Fixture.small_train[0]
        self.assertTrue(hyb["params"]["hybrid"])
        self.assertEqual(hyb["params"]["weighting"], "bm25")
        out = os.path.join(Fixture.tmp, "explicit.bin")
        exp, _ = run_json("train", "--data", small(), "--out", out,
                          "--explicit-only", "--rank", 8, "--iters", 4)
        self.assertFalse(exp["params"]["hybrid"])
        # the explicit-only model ranks by predicted rating: its scores are
        # the unclamped stars
        d, _ = run_json("recommend", "-m", out, "--user", 1, "-n", 3,
                        "--reasons", 0)
        for r in d["recommendations"]:
            self.assertAlmostEqual(min(r["score"], 5.0), r["rating"], places=4)

    def test_options_reach_the_model(self):
        out = os.path.join(Fixture.tmp, "opts.bin")
        d, _ = run_json("train", "--data", ml100k(), "--out", out, "--rank", 6,
                        "--iters", 3, "--blend", 0.1, "--pref-rank", 4,
                        "--pref-lambda", 3, "--pref-alpha", 1.5,
                        "--bias-prior", 2, "--weighting", "none")
        p = d["params"]
        self.assertEqual((p["pref_rank"], p["pref_lambda"], p["pref_alpha"],
                          p["blend"], p["bias_prior"], p["weighting"]),
                         (4, 3, 1.5, 0.1, 2, "none"))
        code, _, err = run("train", "--data", ml100k(), "--out", out,
                           "--weighting", "tfidf")
        self.assertEqual(code, 2)
        self.assertIn("--weighting", err)

    def test_pref_lambda_auto(self):
        out = os.path.join(Fixture.tmp, "auto.bin")
        base = ("train", "--data", ml100k(), "--out", out, "--rank", 6,
                "--iters", 3)
        d, _ = run_json(*base)
        p = d["params"]
        self.assertTrue(p["pref_lambda_auto"])
        self.assertGreater(p["pref_lambda"], 0)   # the value training used
        d2, _ = run_json(*base, "--pref-lambda", "auto")
        self.assertEqual(d2["params"]["pref_lambda"], p["pref_lambda"])
        d3, _ = run_json(*base, "--pref-lambda", 2.5)
        self.assertFalse(d3["params"]["pref_lambda_auto"])
        self.assertEqual(d3["params"]["pref_lambda"], 2.5)
        code, _, err = run(*base, "--pref-lambda", "-1")
        self.assertEqual(code, 2)
        self.assertIn("--pref-lambda", err)

    def test_scaled_confidence_options(self):
        out = os.path.join(Fixture.tmp, "scaled.bin")
        d, _ = run_json("train", "--data", ml100k(), "--out", out, "--rank", 6,
                        "--iters", 3, "--pref-confidence", "linear",
                        "--blend-shrink", 20, "--bm25-b", 0.5, "--bm25-k1", 50)
        self.assertEqual((d["params"]["pref_confidence"],
                          d["params"]["blend_shrink"]), ("linear", 20))
        d, _ = run_json("train", "--data", ml100k(), "--out", out, "--rank", 6,
                        "--iters", 3)  # the defaults: scaled, shrink 10
        self.assertEqual((d["params"]["pref_confidence"],
                          d["params"]["blend_shrink"],
                          d["params"]["pref_rank"]), ("scaled", 10, 128))
        rec, _ = run_json("recommend", "-m", out, "--user", 1, "-n", 3)
        self.assertEqual(len(rec["recommendations"]), 3)
        for bad in (("--pref-confidence", "log"), ("--bm25-b", 2)):
            code, _, err = run("train", "--data", ml100k(), "--out", out, *bad)
            self.assertEqual(code, 2)
            self.assertIn(bad[0], err)


class Eval(unittest.TestCase):
    def test_json(self):
        d, _ = run_json("eval", "--model", Fixture.k100_model, "--test", ml100k(),
                        "--k", 5)
        self.assertEqual(d["k"], 5)
        self.assertEqual(d["n_predictions"], 5000)
        self.assertTrue(0 < d["rmse"] < 1.2 and 0 < d["mae"] <= d["rmse"])
        for key in ("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k",
                    "coverage"):
            self.assertTrue(0 <= d[key] <= 1, key)
        self.assertGreater(d["coverage"], 0)
        self.assertGreaterEqual(d["median_train_count"], 1)

    def test_coverage_beside_popularity(self):
        d, _ = run_json("eval", "--model", Fixture.k100_model, "--test",
                        ml100k(), "--train", ml100k())
        self.assertIn("coverage", d["popularity"])
        self.assertIn("median_train_count", d["popularity"])
        _, out, _ = run("eval", "--model", Fixture.k100_model, "--test",
                        ml100k(), "--train", ml100k(), check=0)
        self.assertEqual(out.count("coverage "), 2, out)
        self.assertEqual(out.count("median training count"), 2, out)

    def test_text(self):
        _, out, _ = run("eval", "--model", Fixture.small_model, "--test",
                        os.path.join(small(), "ratings.csv"), check=0)
        self.assertRegex(out, r"RMSE \d\.\d{4}  MAE \d\.\d{4}  \(100836 ratings\)")
        self.assertIn("precision@10", out)
        self.assertIn("nDCG@10", out)


class Recommend(unittest.TestCase):
    def test_user_json(self):
        d, _ = run_json("recommend", "--model", Fixture.small_model, "--user", 1)
        recs = d["recommendations"]
        self.assertEqual(len(recs), 10)
        self.assertEqual([r["rank"] for r in recs], list(range(1, 11)))
        self.assertTrue(descending([r["score"] for r in recs]))
        rated = user_ratings(1)
        titles = movie_titles()
        for r in recs:
            self.assertNotIn(r["movie_id"], rated)
            self.assertEqual(r["title"], titles[r["movie_id"]])

    def test_user_text(self):
        _, out, _ = run("recommend", "--model", Fixture.small_model, "--user", 1,
                        "-n", 3, check=0)
        lines = out.splitlines()
        self.assertEqual(lines[0], "Top 3 for user 1:")
        # rank, score, predicted stars, title [id] genres; then the reasons
        self.assertRegex(lines[1],
                         r"^\s+1\.\s+-?\d+\.\d{3}  \d\.\d stars  .+ \[\d+\]")
        self.assertEqual(len(lines), 7)
        self.assertRegex(lines[2], r"^\s+because you rated .+ \(\d+%\)")

    def test_rate_forms(self):
        a, _ = run_json("recommend", "--model", Fixture.small_model,
                        "--rate", "1=5", "--rate", "2=4", "--rate", "318=5", "-n", 5)
        b, _ = run_json("recommend", "--model", Fixture.small_model,
                        "--rate", "1=5", "2=4", "318=5", "--count=5")
        self.assertEqual(a["recommendations"], b["recommendations"])
        self.assertIsNone(a["user"])
        self.assertEqual(len(a["ratings"]), 3)
        ids = [r["movie_id"] for r in a["recommendations"]]
        self.assertEqual(len(ids), 5)
        self.assertFalse({1, 2, 318} & set(ids))  # rated ones left out

    def test_stars_reasons_and_options(self):
        d, _ = run_json("recommend", "--model", Fixture.small_model,
                        "--rate", "260=5", "1196=5", "541=5", "1=1", "-n", 10,
                        "--genre", "sci-fi", "--min-count", 40, "--reasons", 3)
        recs = d["recommendations"]
        self.assertEqual(len(recs), 10)
        rated = {260, 1196, 541, 1}
        for r in recs:
            self.assertIn("Sci-Fi", r["genres"])
            self.assertGreaterEqual(r["training_ratings"], 40)
            self.assertTrue(0.5 <= r["rating"] <= 5.0)
            self.assertNotIn(r["movie_id"], rated)
            self.assertLessEqual(len(r["because"]), 3)
            for why in r["because"]:
                self.assertIn(why["movie_id"], rated)
                self.assertGreater(why["weight"], 0)
        self.assertTrue(any(r["because"] for r in recs))
        # --reasons 0: none
        d, _ = run_json("recommend", "--model", Fixture.small_model, "--user",
                        5, "-n", 3, "--reasons", 0)
        self.assertTrue(all(r["because"] == [] for r in d["recommendations"]))
        code, _, err = run("recommend", "--model", Fixture.small_model,
                           "--user", 5, "--min-count", -2)
        self.assertEqual(code, 2)

    def test_cold_start(self):
        # nothing the model knows: the best-rated movies, not id order
        d, err = run_json("recommend", "--model", Fixture.small_model,
                          "--rate", "99999999=4", "-n", 5)
        ids = [r["movie_id"] for r in d["recommendations"]]
        self.assertEqual(len(ids), 5)
        self.assertNotEqual(ids, sorted(ids))
        self.assertTrue(all(r["training_ratings"] >= 10
                            for r in d["recommendations"]))

    def test_rate_unknown_movie_warns(self):
        _, out, err = run("recommend", "--model", Fixture.small_model,
                          "--rate", "1=5", "--rate", "99999999=3", check=0)
        self.assertIn("movie 99999999 is not in the model", err)
        self.assertIn("Top 10 for a new user with 2 ratings", out)

    def test_ml100k(self):
        d, _ = run_json("recommend", "--model", Fixture.k100_model, "--user", 1,
                        "-n", 4)
        self.assertEqual(len(d["recommendations"]), 4)
        self.assertTrue(all(r["title"] for r in d["recommendations"]))
        d, _ = run_json("recommend", "--model", Fixture.k100_model,
                        "--rate", "50=5", "181=5")
        titles = [r["title"] for r in d["recommendations"]]
        self.assertEqual(len(titles), 10)
        self.assertNotIn("Star Wars (1977)", titles)  # rated: left out


class RecommendAll(unittest.TestCase):
    """recommend --all: every user through the batch call, same lists as
    recommend --user."""

    def test_csv_all_users_equal_single_user(self):
        out = os.path.join(Fixture.tmp, "all.csv")
        _, _, err = run("recommend", "-m", Fixture.small_model, "--all", "-n",
                        5, "--out", out, check=0)
        self.assertIn("ranked 610/610 users", err)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0],
                         ["user_id", "rank", "movie_id", "score", "rating"])
        by_user = {}
        for u, r, mv, sc, _ in rows[1:]:
            by_user.setdefault(int(u), []).append((int(r), int(mv), float(sc)))
        self.assertEqual(len(by_user), 610)
        for user in (1, 77, 610):
            doc, _ = run_json("recommend", "-m", Fixture.small_model,
                              "--user", user, "-n", 5)
            want = [(x["rank"], x["movie_id"]) for x in doc["recommendations"]]
            got = [(r, mv) for r, mv, _ in by_user[user]]
            self.assertEqual(got, want)
            for (_, _, sc), x in zip(by_user[user], doc["recommendations"]):
                self.assertAlmostEqual(sc, x["score"], places=4)

    def test_json_lines_for_listed_users(self):
        users = os.path.join(Fixture.tmp, "users.txt")
        with open(users, "w") as f:
            f.write("# some users\n3\n\n  42 \n3\n")
        out = os.path.join(Fixture.tmp, "some.jsonl")
        run("recommend", "-m", Fixture.small_model, "--all", "--users", users,
            "-n", 3, "--out", out, "--json", "--quiet", check=0)
        with open(out) as f:
            docs = [json.loads(line) for line in f]
        self.assertEqual([d["user"] for d in docs], [3, 42, 3])
        self.assertEqual([len(d["recommendations"]) for d in docs], [3, 3, 3])
        self.assertEqual(docs[0], docs[2])

    def test_bad_users_file_and_usage(self):
        users = os.path.join(Fixture.tmp, "bad_users.txt")
        with open(users, "w") as f:
            f.write("1\nabc\n")
        out = os.path.join(Fixture.tmp, "x.csv")
        _, _, err = run("recommend", "-m", Fixture.small_model, "--all",
                        "--users", users, "--out", out, check=1)
        self.assertIn("bad_users.txt:2: 'abc' is not a user id", err)
        with open(users, "w") as f:
            f.write("1\n99999999\n")
        _, _, err = run("recommend", "-m", Fixture.small_model, "--all",
                        "--users", users, "--out", out, check=1)
        self.assertIn("unknown user id 99999999", err)
        run("recommend", "-m", Fixture.small_model, "--all", check=2)
        run("recommend", "-m", Fixture.small_model, "--all", "--user", 1,
            "--out", out, check=2)
        run("recommend", "-m", Fixture.small_model, "--user", 1, "--out", out,
            check=2)


class Similar(unittest.TestCase):
    def test_json(self):
        d, _ = run_json("similar", "--model", Fixture.small_model, "--movie", 1,
                        "-n", 5)
        self.assertEqual(d["movie"]["title"], "Toy Story (1995)")
        self.assertEqual(d["movie"]["year"], 1995)
        sims = d["similar"]
        self.assertEqual(len(sims), 5)
        self.assertNotIn(1, [s["movie_id"] for s in sims])
        self.assertTrue(all(-1.0001 <= s["score"] <= 1.0001 for s in sims))
        self.assertTrue(descending([s["score"] for s in sims]))

    def test_text(self):
        _, out, _ = run("similar", "--model", Fixture.k100_model, "--movie", 50,
                        check=0)
        self.assertTrue(out.startswith("Movies like Star Wars (1977)  [50]"))
        self.assertEqual(len(out.splitlines()), 11)


class Failures(unittest.TestCase):
    """Exit 1: the job failed. With --json, an error object on stdout."""

    def expect_fail(self, args, needle):
        code, out, err = run(*args)
        self.assertEqual(code, 1, (args, err))
        self.assertIn(needle, err)
        code, out, err = run(*args, "--json")
        self.assertEqual(code, 1)
        d = json.loads(out)
        self.assertIn(needle, d["error"]["message"])
        self.assertLess(d["error"]["code"], 0)

    def test_failures(self):
        m = Fixture.small_model
        missing = os.path.join(Fixture.tmp, "missing.bin")
        bad = os.path.join(Fixture.tmp, "bad.bin")
        with open(bad, "wb") as f:
            f.write(b"not a model at all")
        self.expect_fail(["recommend", "--model", missing, "--user", 1], "missing.bin")
        self.expect_fail(["recommend", "--model", bad, "--user", 1], "bad magic")
        self.expect_fail(["recommend", "--model", m, "--user", 99999], "user 99999")
        self.expect_fail(["similar", "--model", m, "--movie", 424242], "movie 424242")
        self.expect_fail(["eval", "--model", m, "--test", missing], "missing.bin")
        self.expect_fail(["stats", "--data", Fixture.tmp], Fixture.tmp)
        self.expect_fail(["train", "--data", small(), "--out",
                          os.path.join(Fixture.tmp, "no", "dir", "m.bin"),
                          "--iters", 1], "m.bin")

    def test_truncated_model(self):
        with open(Fixture.k100_model, "rb") as f:
            data = f.read()
        cut = os.path.join(Fixture.tmp, "cut.bin")
        with open(cut, "wb") as f:
            f.write(data[: len(data) // 2])
        self.expect_fail(["similar", "--model", cut, "--movie", 1], "truncated")


class Usage(unittest.TestCase):
    """Exit 2 and a message naming what is wrong."""

    CASES = [
        ([], "Usage"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["stats"], "missing --data"),
        (["stats", "--data"], "--data needs a value"),
        (["stats", "--data", "--json"], "--data needs a value"),
        (["stats", "--data", "x", "--top", "ten"], "--top: 'ten' is not an integer"),
        (["stats", "--data", "x", "--top", "-1"], "--top: -1 is out of range"),
        (["stats", "--data", "x", "--prior", "1e400"], "--prior"),
        (["stats", "--data", "x", "--json=yes"], "--json takes no value"),
        (["stats", "--data", "x", "extra"], "unexpected argument 'extra'"),
        (["train", "--data", "x"], "missing --out"),
        (["train", "--out", "m"], "missing --data"),
        (["train", "--data", "x", "--out", "m", "--rank", "0"], "--rank: 0 is out of range"),
        (["train", "--data", "x", "--out", "m", "--rank", "8x"], "--rank: '8x' is not an integer"),
        (["train", "--data", "x", "--out", "m", "--rank", " 8"], "--rank: ' 8' is not an integer"),
        (["train", "--data", "x", "--out", "m", "--rank", ""], "--rank"),
        (["train", "--data", "x", "--out", "m", "--rank", "99999999999999999999"], "out of range"),
        (["train", "--data", "x", "--out", "m", "--iters", "1.5"], "--iters: '1.5' is not an integer"),
        (["train", "--data", "x", "--out", "m", "--lambda", "nan"], "--lambda: 'nan' is not a number"),
        (["train", "--data", "x", "--out", "m", "--lambda", "-0.1"], "--lambda: -0.1 is out of range"),
        (["train", "--data", "x", "--out", "m", "--seed", "-5"], "--seed: '-5' is not a non-negative"),
        (["train", "--data", "x", "--out", "m", "--seed", "18446744073709551616"], "--seed"),
        (["train", "--data", "x", "--out", "m", "--threads", "-2"], "--threads"),
        (["train", "--data", "x", "--out", "m", "--test-fraction", "1"], "--test-fraction: 1 is out of range"),
        (["train", "--data", "x", "--out", "m", "--test-fraction", "0.1.2"], "--test-fraction"),
        (["train", "--data", "x", "--out", "m", "--rank", "4", "--rank", "5"], "--rank given more than once"),
        (["train", "--data", "x", "--out", "m", "--bogus"], "unknown option '--bogus'"),
        (["eval", "--model", "m"], "missing --test"),
        (["eval", "--model", "m", "--test", "t", "--k", "0"], "--k: 0 is out of range"),
        (["recommend", "--model", "m"], "missing --user ID or --rate"),
        (["recommend", "--user", "1"], "missing --model"),
        (["recommend", "--model", "m", "--user", "1", "--rate", "1=5"], "not both"),
        (["recommend", "--model", "m", "--user", "-1"], "--user: -1 is out of range"),
        (["recommend", "--model", "m", "--user", "2147483648"], "--user: 2147483648 is out of range"),
        (["recommend", "--model", "m", "--rate", "15"], "--rate: '15' is not MOVIE=RATING"),
        (["recommend", "--model", "m", "--rate", "a=5"], "--rate: 'a' is not an integer"),
        (["recommend", "--model", "m", "--rate", "1=x"], "--rate: 'x' is not a number"),
        (["recommend", "--model", "m", "--rate", "1=inf"], "--rate: 'inf' is not a number"),
        (["recommend", "--model", "m", "--user", "1", "-n", "0"], "-n: 0 is out of range"),
        (["similar", "--model", "m"], "missing --movie"),
        (["similar", "--model", "m", "--movie", "1x"], "--movie: '1x' is not an integer"),
    ]

    def test_usage_errors(self):
        for args, needle in self.CASES:
            with self.subTest(args=args):
                code, out, err = run(*args)
                self.assertEqual(code, 2, err)
                self.assertIn(needle, err)
                self.assertEqual(out, "")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--movieme", default=MOVIEME)
    ap.add_argument("--repo", default=REPO)
    opts, rest = ap.parse_known_args()
    MOVIEME = os.path.abspath(opts.movieme) if os.sep in opts.movieme else opts.movieme
    REPO = os.path.abspath(opts.repo)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
