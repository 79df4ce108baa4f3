#!/usr/bin/python3
"""Run libmovieme's benchmark suite and write its tables and plots.

    run_suite.py [--quick] [--bin-dir DIR] [--data-dir DIR] [--out DIR]
                 [--reps N] [--only SECTION,...]

Drives bench/gen_movielens (synthetic MovieLens-20M-shaped data) and
bench/bench_als (measurements through the public API, one JSON object per
run), takes medians over repetitions and writes, under --out:
  results.md    the tables: each figure beside its command, the machine,
                and each issue-5 target beside the measured median
  results.json  the same numbers plus every raw run
  *.png         plots (matplotlib, Agg backend), when matplotlib is present

Full mode (default) uses the 1M, 5M and 20M synthetic sets and takes a few
minutes on 2 cores; --quick uses 50k..200k ratings and 1 repetition (CI).
The sections run in order; --only picks some. A new benchmark (e.g. the
implicit-feedback ALS of issue 7) is one more function in SECTIONS.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FULL = {
    "sizes": [("1M", 0.05), ("5M", 0.25), ("20M", 1.0)],
    "main": "20M",          # the MovieLens-20M-shaped set
    "ref": "1M",            # where the double-precision reference runs
    "reps": 3,
    "ranks": [10, 50, 100],
    "iters": 10,
    "iters_rank100": 5,     # sec/iter is what is plotted
    "ref_iters": 10,
    "serve_samples": 2000,
    "implicit": [("cg", [32, 64, 128]), ("cholesky", [32, 64])],
    "implicit_iters": 2,
    "judge": True,          # the targets are for the 20M shape
}
QUICK = {
    "sizes": [("50k", 0.0025), ("100k", 0.005), ("200k", 0.01)],
    "main": "200k",
    "ref": "100k",
    "reps": 1,
    "ranks": [10, 50, 100],
    "iters": 3,
    "iters_rank100": 2,
    "ref_iters": 10,        # converged enough to compare with the reference
    "serve_samples": 200,
    "implicit": [("cg", [32, 64, 128]), ("cholesky", [32, 64])],
    "implicit_iters": 1,
    "judge": False,
}

# Issue 5's targets on this machine (2 cores), MovieLens-20M shape.
TARGETS = [
    # key, description, limit, unit, "max" (measured <= limit) or "min"
    ("load_s", "Load ratings.csv (20M rows)", 3.0, "s", "max"),
    ("load_mem_mb", "Peak memory of the loaded dataset", 600, "MB", "max"),
    ("train_r10_s", "ALS rank 10, 10 iterations, 2 threads (after load)",
     5.0, "s", "max"),
    ("train_r10_mem_mb", "Peak memory of the whole process (rank 10 run)",
     1200, "MB", "max"),
    ("train_r50_s", "ALS rank 50, 10 iterations, 2 threads", 30.0, "s",
     "max"),
    ("speedup_2t", "Speed-up from 1 to 2 threads (rank 10)", 1.8, "x",
     "min"),
    ("add_user_us", "rec_add_user, 20 ratings, rank 50 (median)", 50, "us",
     "max"),
    ("top_n_us", "rec_top_n, N=10, rank 50 (median)", 1000, "us", "max"),
    ("recommend_all_s", "Recommendations (N=10) for all users", 20.0, "s",
     "max"),
    ("rmse_gap", "Test RMSE gap to the unoptimised reference (ranks 10, 50)",
     0.002, "",
     "max"),
    ("size_linearity", "Growth with data size no worse than linear: s/iter "
     "per rating at the largest set / at the smallest", 1.5, "x", "max"),
]

MIB_TO_MB = 1.048576


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr,
          flush=True)


def rel(path):
    """A path as shown in commands: relative to the repository if inside."""
    p = os.path.abspath(path)
    return os.path.relpath(p, REPO) if p.startswith(REPO + os.sep) else p


def machine_info():
    info = {"date_utc": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "cores": os.cpu_count(), "kernel": platform.release()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["mem_gib"] = round(kb / 1048576, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        info["commit"] = subprocess.run(
            ["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    info["loadavg_start"] = round(os.getloadavg()[0], 2)
    return info


def machine_line(m):
    return (f"{m.get('cpu', '?')}, {m.get('cores')} cores, "
            f"{m.get('mem_gib', '?')} GiB, Linux {m.get('kernel')}, "
            f"commit {m.get('commit', '?')}, {m['date_utc']}")


class Suite:
    def __init__(self, args, cfg):
        self.args = args
        self.cfg = cfg
        self.bin = args.bin_dir
        self.runs = []          # every raw run: command + parsed JSON
        self.summary = {}       # the medians the tables and targets use
        self.tables = []        # (title, header, rows, note) for results.md
        self.plots = []         # (file, caption)
        self.data = {}          # label -> dataset directory
        self.machine = machine_info()

    # ---- running programs ----
    def run(self, argv, threads=None, text=False):
        env = dict(os.environ)
        if threads:
            # "n threads" means n for OpenMP and for any BLAS call outside
            # the parallel regions too.
            env["OMP_NUM_THREADS"] = str(threads)
            env["OPENBLAS_NUM_THREADS"] = str(threads)
        cmd = " ".join(shlex.quote(rel(a) if os.sep in a else a)
                       for a in [os.path.basename(argv[0])] + argv[1:])
        log(cmd)
        load = os.getloadavg()[0]
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True, env=env)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{cmd} failed ({p.returncode}):\n"
                               f"{p.stderr[-2000:]}")
        if text:  # a program that prints Markdown (bench_implicit)
            out = {"cmd": os.path.basename(argv[0]), "stdout": p.stdout}
        else:
            out = json.loads(p.stdout.strip().splitlines()[-1]) \
                if p.stdout.strip() else {}
        out["wall_s"] = wall
        out["loadavg"] = round(load, 2)
        out["command"] = cmd
        self.runs.append(out)
        return out

    def repeat(self, argv, reps, threads=None):
        return [self.run(argv, threads) for _ in range(max(1, reps))]

    def bench(self, *a):
        return [os.path.join(self.bin, "bench_als")] + [str(x) for x in a]

    # ---- helpers for tables ----
    def table(self, title, header, rows, note=""):
        self.tables.append((title, header, rows, note))


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v != 0 and abs(v) < 10 ** -(digits - 1):
            return f"{v:.{digits}g}"
        return f"{v:.{digits}f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


# ---- sections ----

def sec_generate(s):
    """Generate the synthetic sets (kept between runs)."""
    rows = []
    for label, scale in s.cfg["sizes"]:
        d = os.path.join(s.args.data_dir, f"synth-{label}-seed1")
        s.data[label] = d
        stamp = os.path.join(d, ".generated")
        argv = [os.path.join(s.bin, "gen_movielens"), "--scale", str(scale),
                "--seed", "1", d]
        # regenerate when the arguments or the generator itself change
        with open(argv[0], "rb") as f:
            gen_hash = hashlib.sha256(f.read()).hexdigest()[:16]
        want = " ".join(argv[1:]) + " " + gen_hash
        have = open(stamp).read() if os.path.exists(stamp) else ""
        if have != want:
            os.makedirs(s.args.data_dir, exist_ok=True)
            cmd = " ".join(["gen_movielens"] + argv[1:-1] + [rel(d)])
            log(cmd)
            t0 = time.monotonic()
            p = subprocess.run(argv, capture_output=True, text=True)
            wall = time.monotonic() - t0
            if p.returncode != 0:
                raise RuntimeError(p.stderr)
            with open(stamp, "w") as f:
                f.write(want)
            size = os.path.getsize(os.path.join(d, "ratings.csv"))
            s.runs.append({"cmd": "generate", "command": cmd, "wall_s": wall,
                           "bytes": size, "label": label})
            shape = p.stderr.strip().split(": ", 1)[-1].split(" -> ")[0]
            rows.append([label, fmt(wall), f"{size / 1e6:.0f} MB", shape,
                         f"`{cmd}`"])
            s.summary[f"generate_{label}_s"] = wall
    if rows:
        s.table("Synthetic data generation",
                ["set", "seconds", "ratings.csv", "shape", "command"], rows)


def sec_load(s):
    """Load time and peak memory of a process that only loads."""
    rows = []
    for label, _ in s.cfg["sizes"]:
        runs = s.repeat(s.bench("load", s.data[label]), s.cfg["reps"])
        t, hwm = med(runs, "load_s"), med(runs, "hwm_mib")
        after = med(runs, "rss_after_mib")
        rows.append([label, f"{runs[0]['n_ratings']:,}", fmt(t),
                     fmt(med(runs, "load_cpu_s")), f"{hwm * MIB_TO_MB:.0f}", f"{after * MIB_TO_MB:.0f}",
                     len(runs), f"`{runs[0]['command']}`"])
        s.summary[f"load_{label}"] = {"load_s": t, "hwm_mb": hwm * MIB_TO_MB,
                                      "rss_after_mb": after * MIB_TO_MB}
    plot_load(s)
    main = s.summary[f"load_{s.cfg['main']}"]
    s.summary["load_s"] = main["load_s"]
    s.summary["load_mem_mb"] = main["hwm_mb"]
    s.table("Load (rec_load_movielens)",
            ["set", "ratings", "seconds (median)", "CPU s", "peak RSS MB",
             "RSS after load MB", "runs", "command"], rows,
            "Peak RSS is VmHWM of a process that only loads (includes the "
            "parser's transient buffers); RSS after load is what the "
            "dataset keeps.")


def train_argv(s, label, rank, iters, threads, split, extra=()):
    return s.bench("train", s.data[label], "--rank", rank, "--iters", iters,
                   "--threads", threads, "--split", split, *extra)


def sec_train_targets(s):
    """Training on the whole main set (no split): time, memory, threads."""
    c = s.cfg
    rows = []
    res = {}
    for rank, threads in [(10, 2), (10, 1), (50, 2)]:
        runs = s.repeat(train_argv(s, c["main"], rank, c["iters"], threads,
                                   0), c["reps"], threads)
        t, hwm = med(runs, "train_s"), med(runs, "hwm_mib")
        res[(rank, threads)] = t
        rows.append([rank, threads, c["iters"], fmt(t),
                     fmt(t / c["iters"]), fmt(med(runs, "train_cpu_s")),
                     f"{hwm * MIB_TO_MB:.0f}",
                     " / ".join(fmt(r["train_s"]) for r in runs),
                     f"`{runs[0]['command']}`"])
        s.summary[f"train_full_r{rank}_t{threads}"] = {
            "train_s": t, "hwm_mb": hwm * MIB_TO_MB,
            "train_cpu_s": med(runs, "train_cpu_s"),
            "runs": [r["train_s"] for r in runs]}
    s.summary["train_r10_s"] = res[(10, 2)]
    s.summary["train_r10_mem_mb"] = \
        s.summary["train_full_r10_t2"]["hwm_mb"]
    s.summary["train_r50_s"] = res[(50, 2)]
    s.summary["speedup_2t"] = res[(10, 1)] / res[(10, 2)]
    s.table(f"ALS training on the whole {c['main']} set (rec_train_als)",
            ["rank", "threads", "iterations", "train seconds (median)",
             "s/iter", "CPU s (median)", "process peak RSS MB",
             "each run (s)", "command"], rows,
            "Wall time of rec_train_als alone (after load); no progress "
            "callback. CPU s is user+system time of all threads: on an idle "
            "machine about threads x wall; less means the run waited for a "
            "core taken by another process. Peak RSS covers the whole "
            "process (load included).")
    plot_threads(s, res)


def iter_median(runs):
    """Median seconds per iteration over every iteration of every run
    (timed by the progress callback), else total / iterations."""
    its = [t for r in runs for t in r.get("iter_s", [])]
    return statistics.median(its) if its else med(runs, "sec_per_iter")


def sec_rank(s):
    """Seconds per iteration and test RMSE against rank (90/10 split)."""
    c = s.cfg
    rows = []
    pts = []
    model = os.path.join(s.args.data_dir, f"model-{c['main']}-r50.bin")
    for rank in c["ranks"]:
        iters = c["iters_rank100"] if rank >= 100 else c["iters"]
        extra = ["--progress"] + (["--save", model] if rank == 50 else [])
        runs = s.repeat(train_argv(s, c["main"], rank, iters, 2, 0.1, extra),
                        1, 2)
        spi = iter_median(runs)
        rmse = med(runs, "test_rmse")
        pts.append((rank, spi))
        rows.append([rank, iters, fmt(spi), fmt(rmse, 4),
                     f"{runs[0]['n_train']:,}", fmt(med(runs, "train_s")),
                     f"`{runs[0]['command']}`"])
        s.summary[f"rank_{rank}"] = {"sec_per_iter": spi, "test_rmse": rmse,
                                     "iter_s": runs[0].get("iter_s")}
    s.summary["serve_model"] = model
    s.table(f"ALS against rank ({c['main']} set, 90% train / 10% test, "
            "2 threads)",
            ["rank", "iterations", "s/iter (median over iterations)",
             "test RMSE", "train ratings", "train s", "command"], rows,
            "One run per rank, each iteration timed by the progress callback "
            "(its cost is a sum over users); the training wall-time targets "
            "use the repeated runs above.")
    plot_xy(s, "sec_per_iter_vs_rank.png", pts, "rank", "seconds / iteration",
            f"ALS seconds per iteration vs rank ({c['main']} set, 2 threads)")


def sec_size(s):
    """Seconds per iteration against data size (rank 10, 2 threads)."""
    c = s.cfg
    rows = []
    pts = []
    for label, _ in c["sizes"]:
        runs = [r for r in s.runs if r.get("cmd") == "train" and
                r.get("rank") == 10 and r.get("n_test", 0) > 0 and
                r.get("iter_s") and r.get("data") == s.data[label]]
        if not runs:
            runs = s.repeat(train_argv(s, label, 10, c["iters"], 2, 0.1,
                                       ["--progress"]), c["reps"], 2)
        spi = iter_median(runs)
        n = runs[0]["n_train"]
        pts.append((n, spi))
        rows.append([label, f"{n:,}", fmt(spi), fmt(spi / n * 1e6, 4),
                     fmt(med(runs, "test_rmse"), 4),
                     f"`{runs[0]['command']}`"])
        s.summary[f"size_{label}"] = {"n_train": n, "sec_per_iter": spi}
    # Super-linear growth would make the cost per rating rise with size;
    # fixed per-row costs amortised over more ratings make it fall, which is
    # fine. So compare the largest set with the smallest.
    per = [t / n for n, t in sorted(pts)]
    s.summary["size_linearity"] = per[-1] / per[0]
    s.table("ALS against data size (rank 10, 2 threads, 90% train)",
            ["set", "train ratings", "s/iter (median over iterations)",
             "s/iter per 1M ratings", "test RMSE", "command"], rows,
            "Linear growth means a flat 's/iter per 1M ratings' column.")
    plot_xy(s, "sec_per_iter_vs_size.png", [(n / 1e6, t) for n, t in pts],
            "training ratings (millions)", "seconds / iteration",
            "ALS seconds per iteration vs data size (rank 10, 2 threads)",
            linear=True)


def sec_reference(s):
    """Accuracy against the unoptimised double-precision reference."""
    c = s.cfg
    rows = []
    gaps = []
    for rank in (10, 50):
        # one thread each: the ratio is what the kernels bought
        r = s.run(train_argv(s, c["ref"], rank, c["ref_iters"], 1, 0.1,
                             ("--reference",)), 1)
        gap = abs(r["test_rmse"] - r["ref_rmse"])
        gaps.append(gap)
        if abs(r["evaluate_rmse"] - r["test_rmse"]) > 1e-4:
            raise RuntimeError("bench RMSE disagrees with rec_evaluate: "
                               f"{r['test_rmse']} vs {r['evaluate_rmse']}")
        rows.append([rank, c["ref_iters"], fmt(r["test_rmse"], 5),
                     fmt(r["ref_rmse"], 5), fmt(gap, 5), fmt(r["train_s"]),
                     fmt(r["ref_train_s"]),
                     f"{r['ref_train_s'] / r['train_s']:.1f}x",
                     f"`{r['command']}`"])
        s.summary[f"reference_r{rank}"] = {
            "test_rmse": r["test_rmse"], "ref_rmse": r["ref_rmse"],
            "train_s": r["train_s"], "ref_train_s": r["ref_train_s"]}
    s.summary["rmse_gap"] = max(gaps)
    s.table(f"Accuracy: library vs unoptimised reference ({c['ref']} set, "
            "same split and parameters)",
            ["rank", "iterations", "library test RMSE", "reference test RMSE",
             "gap", "library s", "reference s", "library speed-up",
             "command"], rows,
            "Both train with one thread, so the speed-up is the kernels' "
            "alone. The reference (bench/ref_als.c) is plain ALS-WR with biases in "
            "double precision, one thread, textbook Cholesky, written from "
            "the objective alone; it starts from its own random factors. "
            "The library's RMSE is computed by the bench with rec_predict "
            "and checked against rec_evaluate.")


def sec_serve(s):
    """Serving: model file, top-N, fold-in, recommend-all (rank 50)."""
    c = s.cfg
    model = s.summary.get("serve_model")
    if not model or not os.path.exists(model):
        model = os.path.join(s.args.data_dir, f"model-{c['main']}-r50.bin")
        s.run(train_argv(s, c["main"], 50, c["iters"], 2, 0.1,
                         ("--save", model)), 2)
    runs = s.repeat(s.bench("serve", model, "--threads", 2, "--samples",
                            c["serve_samples"], "--reps", 3), c["reps"], 2)
    keys = ["top_n_us_median", "top_n_us_p90", "add_user_us_median",
            "add_user_us_p90", "add_user_new_id_us_median",
            "add_user_new_id_us_p90", "for_ratings_us_median",
            "for_ratings_us_p90", "recommend_all_s", "recommend_all_cpu_s",
            "recommend_all_users_per_s", "model_load_s", "model_save_s"]
    m = {k: med(runs, k) for k in keys}
    m["model_bytes"] = os.path.getsize(model)
    s.summary["serve"] = m
    s.summary["top_n_us"] = m["top_n_us_median"]
    s.summary["add_user_us"] = m["add_user_us_median"]
    s.summary["recommend_all_s"] = m["recommend_all_s"]
    r0 = runs[0]
    cmd = f"`{r0['command']}`"
    rows = [
        ["rec_top_n, N=10", fmt(m["top_n_us_median"]),
         fmt(m["top_n_us_p90"]), "µs", cmd],
        ["rec_add_user, 20 ratings, the caller's new id (on a copy)",
         fmt(m["add_user_us_median"]), fmt(m["add_user_us_p90"]), "µs", cmd],
        ["rec_add_user, 20 ratings, REC_NEW_USER (on a copy)",
         fmt(m["add_user_new_id_us_median"]), fmt(m["add_user_new_id_us_p90"]),
         "µs", cmd],
        ["rec_recommend_for_ratings, 20 ratings, N=10",
         fmt(m["for_ratings_us_median"]), fmt(m["for_ratings_us_p90"]), "µs",
         cmd],
        [f"recommend-all: rec_top_n for {r0['n_users']:,} users, 2 threads",
         fmt(m["recommend_all_s"]), "", "s", cmd],
        ["recommend-all CPU time (both threads)",
         fmt(m["recommend_all_cpu_s"]), "", "s", cmd],
        ["recommend-all throughput", fmt(m["recommend_all_users_per_s"]), "",
         "users/s", cmd],
        [f"rec_model_load ({m['model_bytes'] / 1e6:.0f} MB file)",
         fmt(m["model_load_s"], 4), "", "s", cmd],
        ["rec_model_save", fmt(m["model_save_s"], 4), "", "s", cmd],
    ]
    s.table(f"Serving (rank {r0['rank']} model of the {c['main']} set: "
            f"{r0['n_users']:,} users, {r0['n_movies']:,} movies)",
            ["operation", "median", "p90", "unit", "command"], rows,
            f"Latencies: {c['serve_samples']} calls each, one thread, "
            f"random users / random 20-movie profiles; medians of "
            f"{len(runs)} runs.")
    plot_latency(s, m)


def md_rows(text):
    """The body rows of the Markdown tables in `text`, as lists of cells."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and not set(line) <= set("|:- "):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def sec_implicit(s):
    """Implicit-feedback ALS (issue 7), with bench/bench_implicit.c:
    seconds per iteration vs rank, and ranking quality vs popularity."""
    c = s.cfg
    exe = os.path.join(s.bin, "bench_implicit")
    rows = []
    curves = {}
    for solver, ranks in c["implicit"]:
        r = s.run([exe, "speed", s.data[c["main"]], "--ranks",
                   ",".join(map(str, ranks)), "--solvers", solver,
                   "--threads", "2", "--iters", str(c["implicit_iters"])],
                  2, text=True)
        for cells in md_rows(r["stdout"])[1:]:  # [0] is the header
            rank, solv, wall, cpu = int(cells[0]), cells[1], float(cells[2]), \
                float(cells[3])
            curves.setdefault(solv, []).append((rank, wall))
            s.summary[f"implicit_{solv}_r{rank}"] = {"sec_per_iter": wall,
                                                     "cpu_per_iter": cpu}
            rows.append([rank, solv, fmt(wall), fmt(cpu), f"`{r['command']}`"])
    s.table(f"Implicit ALS (issue 7) on the whole {c['main']} set, 2 threads",
            ["rank", "solver", "s/iteration (wall)", "CPU s/iteration",
             "command"], rows,
            f"(t(1 + N) - t(1)) / N with N = {c['implicit_iters']}, so "
            "loading and setup are not counted; every rating is an "
            "interaction, alpha 1, 3 CG steps (defaults).")
    plot_curves(s, "implicit_sec_per_iter_vs_rank.png", curves, "rank",
                "seconds / iteration",
                f"Implicit ALS seconds per iteration vs rank ({c['main']} "
                "set, 2 threads)")
    r = s.run([exe, "quality", s.data[c["ref"]], "--iters",
               str(c["ref_iters"]), "--threads", "2"], 2, text=True)
    q = md_rows(r["stdout"])
    s.summary["implicit_quality"] = {row[0]: row[1:] for row in q[1:]}
    s.table(f"Implicit ALS ranking quality vs popularity ({c['ref']} set)",
            q[0], q[1:],
            f"`{r['command']}`: leave-5-out split, relevant = rating >= 4, "
            "k = 10.")


SECTIONS = [
    ("generate", sec_generate),
    ("load", sec_load),
    ("train", sec_train_targets),
    ("rank", sec_rank),
    ("size", sec_size),
    ("reference", sec_reference),
    ("serve", sec_serve),
    ("implicit", sec_implicit),
]


# ---- plots ----

def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def _finish(s, fig, name, caption):
    plt = _plt()
    fig.text(0.01, 0.01, machine_line(s.machine), fontsize=6, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(os.path.join(s.args.out, name), dpi=110)
    plt.close(fig)
    s.plots.append((name, caption))


def plot_xy(s, name, pts, xlabel, ylabel, title, linear=False):
    plot_curves(s, name, {"measured (median)": pts}, xlabel, ylabel, title,
                linear)


def plot_curves(s, name, curves, xlabel, ylabel, title, linear=False):
    """One line per curve (label -> [(x, y)]), values annotated; `linear`
    adds a least-squares line through the origin for the first curve."""
    plt = _plt()
    if not plt or not curves or not any(curves.values()):
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, pts in curves.items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label)
        for x, y in pts:
            ax.annotate(f"{y:.3g}", (x, y), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)
    if linear:
        pts = next(iter(curves.values()))
        xs = [p[0] for p in pts]
        k = sum(x * y for x, y in pts) / sum(x * x for x in xs)
        ax.plot([0, max(xs)], [0, k * max(xs)], "--", color="gray",
                label="linear fit through 0")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    _finish(s, fig, name, title)


def plot_load(s):
    plt = _plt()
    if not plt:
        return
    pts = []
    for label, _ in s.cfg["sizes"]:
        r = [x for x in s.runs if x.get("cmd") == "load" and
             x.get("data") == s.data[label]]
        if r:
            d = s.summary[f"load_{label}"]
            pts.append((r[0]["n_ratings"] / 1e6, d["load_s"], d["hwm_mb"],
                        d["rss_after_mb"]))
    if not pts:
        return
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.6))
    xs = [p[0] for p in pts]
    a1.plot(xs, [p[1] for p in pts], "o-")
    a1.set_xlabel("ratings (millions)")
    a1.set_ylabel("load seconds (median)")
    a2.plot(xs, [p[2] for p in pts], "o-", label="peak RSS")
    a2.plot(xs, [p[3] for p in pts], "s--", label="RSS after load")
    a2.set_xlabel("ratings (millions)")
    a2.set_ylabel("MB")
    a2.legend()
    for a in (a1, a2):
        a.grid(alpha=0.3)
    title = "rec_load_movielens: time and memory vs size"
    fig.suptitle(title, fontsize=10)
    _finish(s, fig, "load.png", title)


def plot_threads(s, res):
    plt = _plt()
    if not plt:
        return
    fig, ax = plt.subplots(figsize=(5, 4))
    t1, t2 = res[(10, 1)], res[(10, 2)]
    ax.bar(["1 thread", "2 threads"], [t1, t2], color=["#999", "#37a"])
    ax.set_ylabel("training seconds (10 iterations)")
    title = (f"Thread scaling, rank 10, {s.cfg['main']} set: "
             f"{t1 / t2:.2f}x")
    ax.set_title(title, fontsize=10)
    _finish(s, fig, "thread_scaling.png", title)


def plot_latency(s, m):
    plt = _plt()
    if not plt:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    names = ["top_n", "add_user", "for_ratings"]
    labels = ["rec_top_n\nN=10", "rec_add_user\n20 ratings",
              "recommend_for\n_ratings"]
    medv = [m[f"{n}_us_median"] for n in names]
    p90 = [m[f"{n}_us_p90"] for n in names]
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], medv, 0.4, label="median")
    ax.bar([i + 0.2 for i in x], p90, 0.4, label="p90")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_yscale("log")
    ax.set_ylabel("microseconds (log)")
    ax.legend()
    title = f"Serving latency, rank 50, {s.cfg['main']} set, one call at a time"
    ax.set_title(title, fontsize=10)
    _finish(s, fig, "latency.png", title)


# ---- report ----

def judge(s):
    rows = []
    out = []
    for key, desc, limit, unit, kind in TARGETS:
        v = s.summary.get(key)
        if v is None:
            verdict = "not run"
        elif not s.cfg["judge"]:
            verdict = f"not judged ({s.cfg['main']} set)"
        else:
            ok = v <= limit if kind == "max" else v >= limit
            verdict = "PASS" if ok else "FAIL"
        bound = ("≤ " if kind == "max" else "≥ ") + f"{limit:g} {unit}"
        rows.append([desc, bound.strip(), f"{fmt(v, 4)} {unit}".strip(),
                     verdict])
        out.append({"key": key, "target": desc, "limit": limit,
                    "unit": unit, "kind": kind, "measured_median": v,
                    "verdict": verdict})
    return rows, out


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def write_report(s, started):
    s.machine["loadavg_end"] = round(os.getloadavg()[0], 2)
    s.machine["suite_seconds"] = round(time.monotonic() - started, 1)
    rows, targets = judge(s)
    mode = "quick mode, CI scale" if s.args.quick else "full run"
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    tr = [r for r in s.runs if r.get("cmd") == "train"]
    params = (f"reg {tr[0]['reg']}, bias_reg {tr[0]['bias_reg']}, seed 42"
              if tr else "n/a")
    md = [f"# libmovieme benchmarks ({mode})", "",
          f"- Machine: {machine_line(s.machine)}",
          f"- Load average at start/end: {s.machine['loadavg_start']} / "
          f"{s.machine['loadavg_end']} (a shared machine: compare ratios "
          "within one run)",
          f"- Suite: `bench/run_suite.py {argv}` "
          f"({s.machine['suite_seconds']:.0f} s); data: "
          "`gen_movielens` synthetic MovieLens-20M-shaped sets, seed 1",
          "- Programs run from the `bench_als` build; `n threads` sets "
          "params.n_threads, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to n.",
          "- Every figure is a median over the runs shown; each table gives "
          "the command that produced it.",
          f"- ALS parameters: rec_als_params_init() defaults ({params}) "
          "except rank, iterations and threads.", "",
          "## Targets (issue 5)", "",
          md_table(["target", "limit", "measured (median)", "verdict"],
                   rows), ""]
    for title, header, trows, note in s.tables:
        md += [f"## {title}", "", md_table(header, trows), ""]
        if note:
            md += [note, ""]
    if s.plots:
        md += ["## Plots", ""]
        for name, cap in s.plots:
            md += [f"![{cap}]({name})", "", f"*{cap}; "
                   f"{machine_line(s.machine)}*", ""]
    with open(os.path.join(s.args.out, "results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(s.args.out, "results.json"), "w") as f:
        json.dump({"mode": "quick" if s.args.quick else "full",
                   "machine": s.machine, "suite_command": argv,
                   "targets": targets, "summary": s.summary,
                   "plots": [p[0] for p in s.plots], "runs": s.runs},
                  f, indent=1, sort_keys=False, default=str)
    return targets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="CI scale: 50k..200k ratings, 1 repetition")
    ap.add_argument("--bin-dir", default=os.path.join(REPO, "build-bench",
                                                      "bench"),
                    help="where gen_movielens and bench_als are")
    ap.add_argument("--data-dir", default=os.path.join(REPO, "bench",
                                                       "data"),
                    help="generated datasets and models (git-ignored)")
    ap.add_argument("--out", default=os.path.join(REPO, "docs",
                                                  "benchmarks"),
                    help="where results.md, results.json and plots go")
    ap.add_argument("--reps", type=int, help="repetitions per measurement")
    ap.add_argument("--main", help="the set the targets use (default: the "
                    "largest, 20M; e.g. 5M for a cheaper trial)")
    ap.add_argument("--only", help="comma-separated sections: " +
                    ",".join(n for n, _ in SECTIONS))
    args = ap.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"] = args.reps
    if args.main:
        cfg["main"] = args.main
        cfg["sizes"] = [x for x in cfg["sizes"]
                        if x[1] <= dict(cfg["sizes"])[args.main]]
        cfg["judge"] = False
    os.makedirs(args.out, exist_ok=True)
    s = Suite(args, cfg)
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    failed = []
    for name, fn in SECTIONS:
        if only is None or name in only or name == "generate":
            log(f"section {name}")
            try:
                fn(s)
            except (RuntimeError, OSError, KeyError, ValueError,
                    ZeroDivisionError) as e:
                # keep going: one broken call should not hide the rest
                log(f"section {name} FAILED: {e}")
                failed.append(name)
                s.table(f"Section `{name}` failed", ["error"],
                        [[str(e).replace("\n", " ")[:500]]])
    targets = write_report(s, started)
    log(f"wrote {rel(os.path.join(args.out, 'results.md'))} in "
        f"{time.monotonic() - started:.0f} s")
    bad = 0
    for t in targets:
        log(f"{t['verdict']:>18}  {t['target']}: {fmt(t['measured_median'], 4)}"
            f" {t['unit']}")
        v = t["measured_median"]
        # The suite checks itself: every target measured, finite numbers.
        if only is None and (v is None or v != v or v < 0):
            bad = 1
    return 1 if failed else bad


if __name__ == "__main__":
    sys.exit(main())
