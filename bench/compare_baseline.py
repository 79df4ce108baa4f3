#!/usr/bin/python3
"""Issue 14's speed targets, measured side by side with a baseline build.

    compare_baseline.py --base BUILD [--new BUILD] [--data DIR] [--scale F]
                        [--reps N] [--only SECTION,...] [--libmf DIR]
                        [--implicit-python DIR] [--out FILE]

BUILD is a CMake build directory (Release, with -DREC_BUILD_BENCH=ON): its
movieme CLI and bench/ programs are run. --base is the build to compare
with (commit dd631e3 for issue 14), --new the one measured (default: the
repository's build/). Every measurement runs --reps times (default 3),
alternating the builds (and the peers) in a rotating order, on 2 threads;
the tables give medians of wall and CPU (user + system) seconds and the
load average seen at each start (the machine may be shared).

Data (kept in --data between runs; delete it when done): a MovieLens-20M-
shaped set from the new build's bench/gen_movielens (--scale 1.0), and a
90/10 random split of its ratings (seed 14) into train/ and test/. Two
runs may share --data: shared files are moved in once complete, and each
run keeps the models it trains per measurement in its own run-* directory
there (removed at its end).

Sections (--only picks some):
  recommend  top 10 of every user at rank 50. The same explicit model file
             (trained by the base build) in both: base = its bench_als serve
             loop (rec_top_n per user, OpenMP over users), new =
             bench_batch recommend-all (rec_top_n_each). Also the new
             default (hybrid) model, `movieme recommend --all` end to end,
             and the peak memory of the ranking beside the loaded model.
  eval       `movieme eval` (RMSE and the ranking metrics) of one rank-10
             explicit model file on the 2M test ratings, both builds; and
             the new default model.
  explicit   load + train of an explicit model at rank 10, 10 iterations
             (`movieme train`, the new build with --explicit-only), the test
             RMSE of each; with --libmf DIR also LIBMF's `mf-train -s 2 -k 10`
             (its defaults otherwise) on the same training ratings and its
             test RMSE (mf-predict).
  implicit   implicit ALS at rank 50, 15 iterations, ratings >= 4 as
             interactions (`movieme train --implicit --min-rating 4`); with
             --implicit-python DIR also the implicit library's
             AlternatingLeastSquares (factors 50, regularization 0.12,
             iterations 15, CG, 2 threads) on the same interactions with
             the same confidence (1 + alpha = 2), timing fit() alone.

LIBMF and implicit are not part of this repository: build them yourself
from their public sources, outside it, and pass where they are (--libmf:
the directory holding mf-train and mf-predict; --implicit-python: a
directory on which `import implicit` works, e.g. a source tree whose
extensions you compiled).
"""
import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREADS = 2


def log(msg):
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr,
          flush=True)


class Runner:
    def __init__(self):
        self.runs = []

    def run(self, label, argv, env=None, parse_json=True):
        """Run argv; wall, CPU (user + sys of the child), max RSS, load."""
        e = dict(os.environ)
        e.update({"OMP_NUM_THREADS": str(THREADS),
                  "OPENBLAS_NUM_THREADS": "1"})
        e.update(env or {})
        load = os.getloadavg()[0]
        log(f"{label}: {' '.join(argv)}")
        with tempfile.TemporaryFile("w+") as out, \
                tempfile.TemporaryFile("w+") as err:
            t0 = time.monotonic()
            p = subprocess.Popen(argv, stdout=out, stderr=err, env=e)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        if p.returncode != 0:
            raise RuntimeError(f"{label} failed ({p.returncode}): "
                               f"{stderr[-1500:]}")
        r = {"label": label, "command": " ".join(argv), "wall_s": wall,
             "cpu_s": ru.ru_utime + ru.ru_stime,
             "maxrss_mb": ru.ru_maxrss / 1024.0, "load": round(load, 2),
             "stdout": stdout[-4000:], "stderr": stderr[-2000:]}
        if parse_json:
            lines = [ln for ln in stdout.strip().splitlines()
                     if ln.startswith("{")]
            r["json"] = json.loads(lines[-1]) if lines else {}
        self.runs.append(r)
        return r


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, d=2):
    if v is None:
        return "n/a"
    return f"{v:.{d}f}" if abs(v) < 1000 else f"{v:.0f}"


def loads(runs):
    ls = [r["load"] for r in runs]
    return f"{min(ls):.1f}-{max(ls):.1f}" if ls else ""


class Compare:
    def __init__(self, args):
        self.a = args
        self.r = Runner()
        self.rows = []      # the results table
        self.notes = []
        self.data = args.data
        self.full = os.path.join(self.data, "full")
        self.train = os.path.join(self.data, "train")
        self.test = os.path.join(self.data, "test")
        # This run's own outputs (models trained per run, CSVs): another
        # run may share --data at the same time.
        os.makedirs(self.data, exist_ok=True)
        self.scratch = tempfile.mkdtemp(prefix="run-", dir=self.data)

    def exe(self, build, name):
        for p in (os.path.join(build, name), os.path.join(build, "bench",
                                                           name)):
            if os.path.exists(p):
                return p
        raise RuntimeError(f"{name} not found in {build}")

    def model(self, name):
        return os.path.join(self.data, name)

    def tmp(self, name):
        return os.path.join(self.scratch, name)

    def row(self, target, base, new, ratio, goal, how, runs):
        self.rows.append([target, base, new, ratio, goal, how, loads(runs)])

    # ---- data ----
    def prepare(self):
        os.makedirs(self.data, exist_ok=True)
        if not os.path.exists(os.path.join(self.full, "ratings.csv")):
            self.r.run("generate", [self.exe(self.a.new, "gen_movielens"),
                                    "--scale", str(self.a.scale), "--seed",
                                    "1", self.full], parse_json=False)
        if not os.path.exists(os.path.join(self.test, "ratings.csv")):
            log("split 90/10 (seed 14)")
            rng = random.Random(14)
            for d in (self.train, self.test):
                os.makedirs(d, exist_ok=True)
                shutil.copy(os.path.join(self.full, "movies.csv"), d)
            with open(os.path.join(self.full, "ratings.csv")) as f, \
                    open(self.tmp("train.csv"), "w") as tr, \
                    open(self.tmp("test.csv"), "w") as te:
                head = f.readline()
                tr.write(head)
                te.write(head)
                for line in f:
                    (te if rng.random() < 0.1 else tr).write(line)
            # test last: its presence says the split is complete
            os.replace(self.tmp("train.csv"),
                       os.path.join(self.train, "ratings.csv"))
            os.replace(self.tmp("test.csv"),
                       os.path.join(self.test, "ratings.csv"))
        if self.a.libmf and not os.path.exists(
                os.path.join(self.data, "test.libmf")):
            log("LIBMF text files (user item rating)")
            for part in ("train", "test"):
                with open(os.path.join(self.data, part, "ratings.csv")) as f, \
                        open(self.tmp(f"{part}.libmf"), "w") as o:
                    f.readline()
                    for line in f:
                        u, m, r = line.split(",", 3)[:3]
                        o.write(f"{u} {m} {r}\n")
                os.replace(self.tmp(f"{part}.libmf"),
                           os.path.join(self.data, f"{part}.libmf"))

    def train_model(self, build, name, data, extra):
        path = self.model(name)
        if not os.path.exists(path):  # trained here, then moved in whole
            self.r.run(f"model {name}", [self.exe(build, "movieme"), "train",
                                         "--data", data, "--out",
                                         self.tmp(name), "--threads",
                                         str(THREADS), "-q", "--json"]
                       + extra)
            os.replace(self.tmp(name), path)
        return path

    def rotate(self, sides, rep):
        k = rep % len(sides)
        return sides[k:] + sides[:k]

    # ---- sections ----
    def sec_recommend(self):
        a = self.a
        m = self.train_model(a.base, "base-r50.model", self.full,
                             ["--rank", "50", "--iters", "10"])
        hyb = self.train_model(a.new, "new-r50-default.model", self.full,
                               ["--rank", "50", "--iters", "10"])
        sides = {
            "base": lambda: self.r.run("recommend base", [
                self.exe(a.base, "bench_als"), "serve", m, "--threads",
                str(THREADS), "--samples", "100", "--reps", "1"]),
            "new": lambda: self.r.run("recommend new", [
                self.exe(a.new, "bench_batch"), "recommend-all", m,
                "--threads", str(THREADS)]),
            "new-default": lambda: self.r.run("recommend new default", [
                self.exe(a.new, "bench_batch"), "recommend-all", hyb,
                "--threads", str(THREADS)]),
            "cli": lambda: self.r.run("recommend cli", [
                self.exe(a.new, "movieme"), "recommend", "--model", m,
                "--all", "-n", "10", "--out",
                self.tmp("recs.csv"), "-q"],
                parse_json=False),
            "cli-default": lambda: self.r.run("recommend cli default", [
                self.exe(a.new, "movieme"), "recommend", "--model", hyb,
                "--all", "-n", "10", "--out",
                self.tmp("recs.csv"), "-q"],
                parse_json=False),
        }
        res = {k: [] for k in sides}
        for rep in range(a.reps):
            for k in self.rotate(list(sides), rep):
                res[k].append(sides[k]())
        os.remove(self.tmp("recs.csv"))
        bw = med([r["json"]["recommend_all_s"] for r in res["base"]])
        bc = med([r["json"]["recommend_all_cpu_s"] for r in res["base"]])
        for key, what in (("new", "explicit rank-50 model (the same file)"),
                          ("new-default", "default hybrid model, rank 50")):
            nw = med([r["json"]["recommend_all_s"] for r in res[key]])
            nc = med([r["json"]["recommend_all_cpu_s"] for r in res[key]])
            users = res[key][0]["json"]["users"]
            self.row(f"recommend-all, {users:,} users, top 10, {what}",
                     f"{fmt(bw)} s ({fmt(bc)} CPU s)",
                     f"{fmt(nw)} s ({fmt(nc)} CPU s)",
                     f"{bw / nw:.2f}x ({bc / nc:.2f}x CPU)",
                     "≥ 3.5x" if key == "new" else "",
                     "library call only, model loaded: base bench_als serve "
                     "(rec_top_n loop), new bench_batch recommend-all "
                     "(rec_top_n_each)" + ("; base figure is its explicit "
                                           "model" if key != "new" else ""),
                     res["base"] + res[key])
        for key, what in (("cli", "explicit"), ("cli-default", "default")):
            w = med([r["wall_s"] for r in res[key]])
            c = med([r["cpu_s"] for r in res[key]])
            self.row(f"`movieme recommend --all -n 10 --out FILE`, {what} "
                     "rank-50 model", "(no such command)",
                     f"{fmt(w)} s ({fmt(c)} CPU s)", "", "",
                     "end to end: load, rank, write the CSV", res[key])
        for key, what in (("new", "explicit"), ("new-default", "default")):
            rss = med([r["json"]["rss_model_mib"] for r in res[key]])
            hwm = med([r["json"]["hwm_ranking_mib"] for r in res[key]])
            self.row(f"peak memory of recommend-all, {what} rank-50 model",
                     "", f"{fmt(hwm, 1)} MiB peak vs {fmt(rss, 1)} MiB "
                     "loaded", f"{hwm / rss:.3f}x", "≤ 1.10x",
                     "bench_batch: VmRSS after loading, VmHWM reset then "
                     "read after rec_top_n_each", res[key])
        cli_rss = med([r["maxrss_mb"] for r in res["cli"]])
        self.notes.append(
            f"`movieme recommend --all` (explicit rank-50 model): max RSS of "
            f"the whole process {cli_rss:.0f} MB (getrusage), which includes "
            "the transient peak of loading the model file.")

    def sec_eval(self):
        a = self.a
        m = self.train_model(a.base, "base-r10.model", self.train,
                             ["--rank", "10", "--iters", "10"])
        hyb = self.train_model(a.new, "new-r10-default.model", self.train,
                               ["--rank", "10", "--iters", "10"])
        test = os.path.join(self.test, "ratings.csv")

        def ev(build, model, label):
            return lambda: self.r.run(label, [
                self.exe(build, "movieme"), "eval", "--model", model,
                "--test", test, "--json", "-q"])
        sides = {"base": ev(a.base, m, "eval base"),
                 "new": ev(a.new, m, "eval new"),
                 "new-default": ev(a.new, hyb, "eval new default")}
        res = {k: [] for k in sides}
        for rep in range(a.reps):
            for k in self.rotate(list(sides), rep):
                res[k].append(sides[k]())
        b = res["base"][0]["json"]
        n = res["new"][0]["json"]
        same = [x for x in ("rmse", "mae", "precision_at_k", "recall_at_k",
                            "ndcg_at_k", "map_at_k", "auc")
                if abs(b[x] - n[x]) > 1e-12]
        self.notes.append(
            f"eval of the same rank-10 file, base / new: RMSE {b['rmse']:.6f}"
            f" / {n['rmse']:.6f}, nDCG@10 {b['ndcg_at_k']:.6g} / "
            f"{n['ndcg_at_k']:.6g}, AUC {b['auc']:.6f} / {n['auc']:.6f}; "
            + (f"differ: {', '.join(same)}" if same else "all the same")
            + f"; {n['n_users_ranked']:,} users ranked.")
        bw, bc = med([r["wall_s"] for r in res["base"]]), \
            med([r["cpu_s"] for r in res["base"]])
        for key, what in (("new", "the same explicit model file"),
                          ("new-default", "default hybrid model")):
            nw = med([r["wall_s"] for r in res[key]])
            nc = med([r["cpu_s"] for r in res[key]])
            self.row(f"`movieme eval`, rank 10, {n['n_predictions']:,} test "
                     f"ratings, {what}", f"{fmt(bw)} s ({fmt(bc)} CPU s)",
                     f"{fmt(nw)} s ({fmt(nc)} CPU s)",
                     f"{bw / nw:.2f}x ({bc / nc:.2f}x CPU)",
                     "≥ 8x" if key == "new" else "",
                     "whole command (load model and test set, RMSE, MAE, "
                     "precision/recall/nDCG/MAP@10, AUC)"
                     + ("; base figure is its explicit model"
                        if key != "new" else ""),
                     res["base"] + res[key])

    def sec_explicit(self):
        a = self.a
        test = os.path.join(self.test, "ratings.csv")

        def tr(build, label, extra):
            out = self.tmp(f"x-{label}.model")
            return lambda: self.r.run(f"train {label}", [
                self.exe(build, "movieme"), "train", "--data", self.train,
                "--out", out, "--rank", "10", "--iters", "10", "--threads",
                str(THREADS), "--json", "-q"] + extra)
        sides = {"base": tr(a.base, "base", []),
                 "new": tr(a.new, "new", ["--explicit-only"])}
        if a.libmf:
            lm = self.tmp("libmf.model")
            sides["libmf"] = lambda: self.r.run("train libmf", [
                os.path.join(a.libmf, "mf-train"), "-s", str(THREADS), "-k",
                "10", os.path.join(self.data, "train.libmf"), lm],
                parse_json=False)
        res = {k: [] for k in sides}
        for rep in range(a.reps):
            for k in self.rotate(list(sides), rep):
                res[k].append(sides[k]())
        rmse = {}
        for k in ("base", "new"):  # the new build's eval: the same code
            rmse[k] = self.r.run(f"rmse {k}", [
                self.exe(a.new, "movieme"), "eval", "--model",
                self.tmp(f"x-{k}.model"), "--test", test, "--json",
                "-q"])["json"]["rmse"]
        if a.libmf:
            p = self.r.run("rmse libmf", [
                os.path.join(a.libmf, "mf-predict"),
                os.path.join(self.data, "test.libmf"),
                self.tmp("libmf.model"),
                self.tmp("libmf.out")], parse_json=False)
            for tok in p["stdout"].replace("=", " ").split():
                try:
                    rmse["libmf"] = float(tok)
                except ValueError:
                    pass
            os.remove(self.tmp("libmf.out"))
            os.remove(self.tmp("libmf.model"))
        for k in ("base", "new"):
            os.remove(self.tmp(f"x-{k}.model"))
        w = {k: med([r["wall_s"] for r in v]) for k, v in res.items()}
        c = {k: med([r["cpu_s"] for r in v]) for k, v in res.items()}
        t = {k: med([r.get("json", {}).get("train_seconds") for r in v])
             for k, v in res.items()}
        self.row("load + train, explicit, rank 10, 10 iterations (train "
                 "split)", f"{fmt(w['base'])} s ({fmt(c['base'])} CPU s), "
                 f"RMSE {rmse['base']:.4f}",
                 f"{fmt(w['new'])} s ({fmt(c['new'])} CPU s), RMSE "
                 f"{rmse['new']:.4f}",
                 f"{w['base'] / w['new']:.2f}x ({c['base'] / c['new']:.2f}x "
                 "CPU)", "≥ 1.5x at the same RMSE",
                 "`movieme train` whole command (load, train, save the "
                 f"model); train alone {fmt(t['base'])} s vs "
                 f"{fmt(t['new'])} s", res["base"] + res["new"])
        if a.libmf:
            self.row("the same vs LIBMF `mf-train -s 2 -k 10` (20 "
                     "iterations, its defaults)",
                     f"LIBMF {fmt(w['libmf'])} s ({fmt(c['libmf'])} CPU s), "
                     f"RMSE {rmse.get('libmf', float('nan')):.4f}",
                     f"{fmt(w['new'])} s", f"{w['new'] / w['libmf']:.2f}x "
                     f"of LIBMF's wall (base: {w['base'] / w['libmf']:.2f}x)",
                     "≤ 0.25x", "LIBMF: whole mf-train command (read, "
                     "train, save)", res["libmf"] + res["new"])

    def sec_implicit(self):
        a = self.a

        def tr(build, label):
            out = self.tmp(f"i-{label}.model")
            return lambda: self.r.run(f"implicit {label}", [
                self.exe(build, "movieme"), "train", "--data", self.full,
                "--out", out, "--implicit", "--rank", "50", "--iters", "15",
                "--min-rating", "4", "--threads", str(THREADS), "--json",
                "-q"])
        sides = {"base": tr(a.base, "base"), "new": tr(a.new, "new")}
        if a.implicit_python:
            script = self.tmp("run_implicit.py")
            with open(script, "w") as f:
                f.write(IMPLICIT_RUNNER)
            sides["implicit"] = lambda: self.r.run("implicit library", [
                sys.executable, script, os.path.join(self.full,
                                                     "ratings.csv")],
                env={"PYTHONPATH": a.implicit_python})
        res = {k: [] for k in sides}
        for rep in range(a.reps):
            for k in self.rotate(list(sides), rep):
                res[k].append(sides[k]())
        for k in ("base", "new"):
            os.remove(self.tmp(f"i-{k}.model"))
        t = {k: med([r["json"].get("train_seconds", r["json"].get("fit_s"))
                     for r in v]) for k, v in res.items()}
        c = {k: med([r["cpu_s"] for r in v]) for k, v in res.items()}
        w = {k: med([r["wall_s"] for r in v]) for k, v in res.items()}
        self.row("implicit ALS, rank 50, 15 iterations, ratings >= 4",
                 f"{fmt(t['base'])} s train (whole command {fmt(w['base'])} s,"
                 f" {fmt(c['base'])} CPU s)",
                 f"{fmt(t['new'])} s train (whole command {fmt(w['new'])} s, "
                 f"{fmt(c['new'])} CPU s)",
                 f"{t['base'] / t['new']:.2f}x (whole command "
                 f"{w['base'] / w['new']:.2f}x, CPU {c['base'] / c['new']:.2f}"
                 "x)", "≥ 1.8x", "`movieme train --implicit --min-rating 4`; "
                 "train_seconds of its JSON (training alone)",
                 res["base"] + res["new"])
        if a.implicit_python:
            j = res["implicit"][0]["json"]
            self.row("the same vs implicit 0.7.3 (CPU, 2 threads)",
                     f"implicit fit {fmt(t['implicit'])} s "
                     f"({fmt(c['implicit'])} CPU s for its whole process)",
                     f"{fmt(t['new'])} s", f"{t['new'] / t['implicit']:.2f}x "
                     f"of implicit's (base: {t['base'] / t['implicit']:.2f}x)",
                     "≤ 0.6x", f"implicit: fit() alone on the {j['users']:,} "
                     f"x {j['items']:,} matrix of {j['nnz']:,} interactions",
                     res["implicit"] + res["new"])

    # ---- report ----
    def report(self):
        head = ["target", "dd631e3 (median)", "now (median)", "ratio",
                "goal", "how measured", "load average"]
        lines = [f"Machine: {os.cpu_count()} cores, "
                 f"{THREADS} threads per run, {self.a.reps} runs per figure "
                 "(alternating), medians.", "",
                 "| " + " | ".join(head) + " |",
                 "|" + "---|" * len(head)]
        for r in self.rows:
            lines.append("| " + " | ".join(str(c) for c in r) + " |")
        lines.append("")
        lines += [f"- {n}" for n in self.notes]
        text = "\n".join(lines) + "\n"
        print(text)
        if self.a.out:
            with open(self.a.out, "w") as f:
                f.write(text)
            with open(os.path.splitext(self.a.out)[0] + ".json", "w") as f:
                json.dump({"rows": self.rows, "notes": self.notes,
                           "runs": self.r.runs}, f, indent=1)


# Run by the implicit section with the caller's PYTHONPATH: times fit()
# of the implicit library on ratings >= 4 (confidence 1 + alpha * 1 = 2).
IMPLICIT_RUNNER = r'''
import json, resource, sys, time
import numpy as np, pandas as pd, scipy.sparse as sp
import implicit
from implicit.cpu.als import AlternatingLeastSquares
d = pd.read_csv(sys.argv[1], usecols=[0, 1, 2])
d = d[d.iloc[:, 2] >= 4.0]
u, users = pd.factorize(d.iloc[:, 0])
i, items = pd.factorize(d.iloc[:, 1])
X = sp.csr_matrix((np.full(len(d), 2.0, dtype=np.float32), (u, i)),
                  shape=(len(users), len(items)))
m = AlternatingLeastSquares(factors=50, regularization=0.12, alpha=1.0,
                            iterations=15, use_cg=True, num_threads=2,
                            calculate_training_loss=False, random_state=42)
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.monotonic()
m.fit(X, show_progress=False)
fit_s = time.monotonic() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"fit_s": fit_s, "fit_cpu_s": cpu, "users": X.shape[0],
                  "items": X.shape[1], "nnz": int(X.nnz),
                  "version": implicit.__version__}))
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="baseline build directory")
    ap.add_argument("--new", default=os.path.join(REPO, "build"),
                    help="build directory measured (default build/)")
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(),
                                                   "movieme-compare"),
                    help="data and models (kept between runs)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="gen_movielens --scale (1.0: MovieLens-20M shape)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", help="recommend,eval,explicit,implicit")
    ap.add_argument("--libmf", help="directory with LIBMF's mf-train and "
                    "mf-predict (optional)")
    ap.add_argument("--implicit-python", help="a directory where `import "
                    "implicit` works (optional)")
    ap.add_argument("--out", help="write the table (Markdown) here, and the "
                    "raw runs beside it (.json)")
    a = ap.parse_args()
    c = Compare(a)
    try:
        c.prepare()
        order = ["recommend", "eval", "explicit", "implicit"]
        only = a.only.split(",") if a.only else order
        for name in order:
            if name in only:
                log(f"section {name}")
                getattr(c, f"sec_{name}")()
                c.report()  # after each section: nothing lost if stopped
    finally:
        shutil.rmtree(c.scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
