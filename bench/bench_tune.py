#!/usr/bin/python3
"""Issue-11 targets for tuning (docs/tuning.md, docs/benchmarks/tune.md).

For each synthetic MovieLens-20M-shaped set (bench/gen_movielens, seed 1;
10% of the ratings held out by `train --test-fraction 0.1`, split seed 42)
and for data/ml-latest-small, runs

  movieme train ... --rank R --test-fraction 0.1            (untuned)
  movieme train ... --rank R --test-fraction 0.1 --tune     (tuned, split seed 1)
  movieme train ... --rank R --test-fraction 0.1 --tune --split-seed 2

and prints the wall times, the test RMSE and nDCG@10 and the points tried,
beside the targets: synthetic: tuned test RMSE <= 0.712 at rank 10 in at
most 4x the wall time of the untuned run; ml-latest-small: test RMSE <=
0.835 and nDCG@10 no worse than untuned; both: the two split seeds' choices
differ by < 0.003 in test RMSE. Writes a JSON record with --out.

  bench/bench_tune.py --build build [--sizes 1M,5M,20M] [--out FILE]
      [--small-grid 'reg=0.2,0.12;bias_prior=0.5,2' ...]
  bench/bench_tune.py --report FILE     (the report of an earlier --out)

Each --small-grid is one search of ml-latest-small (';' separates the
--grid lists of one search; '' is the default grid alone).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SCALES = {"1M": 0.05, "5M": 0.25, "20M": 1.0}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def movieme(build, *args):
    argv = [os.path.join(build, "movieme"), *map(str, args), "--json", "-q"]
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s -> %d: %s" % (" ".join(argv), p.returncode, p.stderr))
    return json.loads(p.stdout), wall


def generate(build, data_dir, label):
    d = os.path.join(data_dir, "synth-%s-seed1" % label)
    if not os.path.exists(os.path.join(d, "ratings.csv")):
        log("generating %s ..." % d)
        os.makedirs(data_dir, exist_ok=True)
        subprocess.run([os.path.join(build, "bench", "gen_movielens"), "--scale",
                        str(SCALES[label]), "--seed", "1", d], check=True)
    return d


def one_set(build, data, rank, threads, tune_args, tmp):
    model = os.path.join(tmp, "m.bin")
    common = ["train", "--data", data, "--out", model, "--rank", rank,
              "--threads", threads, "--test-fraction", 0.1]
    rec = {"data": data, "rank": rank}
    log("untuned: %s" % data)
    doc, wall = movieme(build, *common)
    rec["untuned"] = {"wall_s": wall, "train_s": doc["train_seconds"],
                      "test_rmse": doc["test_rmse"],
                      "test_ndcg": doc["test"]["ndcg_at_k"],
                      "params": doc["params"]}
    for seed in (1, 2):
        log("tuned, split seed %d: %s" % (seed, data))
        doc, wall = movieme(build, *common, "--tune", "--split-seed", seed,
                            *tune_args)
        rec["tuned_seed%d" % seed] = {
            "wall_s": wall, "train_s": doc["train_seconds"],
            "tune_s": doc["tune"]["tune_seconds"],
            "test_rmse": doc["test_rmse"], "test_ndcg": doc["test"]["ndcg_at_k"],
            "params": doc["params"], "best": doc["tune"]["best"],
            "points": doc["tune"]["points"]}
    return rec


def table(rec):
    t = rec["tuned_seed1"]
    lines = ["| # | rank | reg | bias_reg | bias_prior | blend | r_pref | "
             "r_shift | val RMSE | val nDCG | iters | warm | s | |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, p in enumerate(t["points"]):
        notes = [n for n, on in (("best", i == t["best"]["index"]),
                                 ("stopped early", p["stopped_early"]),
                                 ("ranked again", p.get("reranked"))) if on]
        ndcg = "-" if p["ndcg"] is None else "%.4f" % p["ndcg"]
        opt = lambda key, fmt: fmt % p[key] if key in p else "-"
        lines.append("| %d | %d | %g | %g | %s | %s | %s | %s | %.4f | %s | "
                     "%d | %s | %.2f | %s |"
                     % (i, p["rank"], p["reg"], p["bias_reg"],
                        opt("bias_prior", "%g"), opt("blend", "%g"),
                        opt("rating_pref_weight", "%.4f"),
                        opt("rating_pref_shift", "%.4f"), p["rmse"],
                        ndcg, p["iterations"], "yes" if p["warm"] else "no",
                        p["seconds"], ", ".join(notes)))
    return "\n".join(lines)


def report(label, rec, synthetic):
    u, a, b = rec["untuned"], rec["tuned_seed1"], rec["tuned_seed2"]
    ratio = a["wall_s"] / u["wall_s"]
    diff = abs(a["test_rmse"] - b["test_rmse"])
    print("\n### %s (rank %d)\n" % (label, rec["rank"]))
    print(table(rec))
    print()
    print("| figure | target | measured | |")
    print("|---|---|---|---|")
    if synthetic:
        print("| tuned test RMSE | <= 0.712 | %.4f (untuned %.4f) | %s |"
              % (a["test_rmse"], u["test_rmse"],
                 "PASS" if a["test_rmse"] <= 0.712 else "FAIL"))
        print("| wall time, train --tune / train | <= 4x | %.2fx (%.1f s / %.1f s; "
              "tuning %.1f s) | %s |" % (ratio, a["wall_s"], u["wall_s"], a["tune_s"],
                                         "PASS" if ratio <= 4 else "FAIL"))
        if a.get("test_ndcg") is not None:
            print("| tuned nDCG@10 | (none) | %.4f (untuned %.4f; blend %g) | |"
                  % (a["test_ndcg"], u["test_ndcg"], a["params"].get("blend", 0)))
    else:
        print("| tuned test RMSE | <= 0.835 | %.4f (untuned %.4f) | %s |"
              % (a["test_rmse"], u["test_rmse"],
                 "PASS" if a["test_rmse"] <= 0.835 else "FAIL"))
        print("| tuned nDCG@10 | >= untuned | %.4f (untuned %.4f) | %s |"
              % (a["test_ndcg"], u["test_ndcg"],
                 "PASS" if a["test_ndcg"] >= u["test_ndcg"] else "FAIL"))
        print("| wall time, train --tune / train | (none) | %.2fx (%.1f s / %.1f s) | |"
              % (ratio, a["wall_s"], u["wall_s"]))
    print("| split seeds 1 vs 2: test RMSE | differ < 0.003 | %.4f vs %.4f "
          "(reg %g vs %g, rank %d vs %d): %.4f | %s |"
          % (a["test_rmse"], b["test_rmse"], a["params"]["lambda"],
             b["params"]["lambda"], a["params"]["rank"], b["params"]["rank"],
             diff, "PASS" if diff < 0.003 else "FAIL"))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--sizes", default="1M,5M")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--small", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "ml-latest-small"))
    ap.add_argument("--small-grid", action="append",
                    help="--grid lists of one ml-latest-small search, ';' "
                         "between lists ('' for the default grid); "
                         "repeatable (default: one search, the default grid)")
    ap.add_argument("--out")
    ap.add_argument("--report", metavar="JSON",
                    help="print the report of an earlier --out, run nothing")
    args = ap.parse_args()
    if args.report:
        with open(args.report) as f:
            results = json.load(f)
        for label, rec in results["sizes"].items():
            report("synthetic %s" % label, rec, True)
        for grid, rec in results.get("ml-latest-small", {}).items():
            report("ml-latest-small 90/10 (grid: %s)"
                   % (grid.replace(";", " ") or "the default"), rec, False)
        return
    data_dir = args.data_dir or os.path.join(args.build, "bench", "data")
    results = {"sizes": {}}
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        for label in [s for s in args.sizes.split(",") if s]:
            d = generate(args.build, data_dir, label)
            rec = one_set(args.build, d, 10, args.threads, [], tmp)
            results["sizes"][label] = rec
            report("synthetic %s" % label, rec, True)
        for grid in args.small_grid or [""]:
            extra = [a for g in grid.split(";") if g for a in ("--grid", g)]
            rec = one_set(args.build, os.path.abspath(args.small), 32,
                          args.threads, extra, tmp)
            results.setdefault("ml-latest-small", {})[grid] = rec
            report("ml-latest-small 90/10 (grid: %s)"
                   % (grid.replace(";", " ") or "the default"), rec, False)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
