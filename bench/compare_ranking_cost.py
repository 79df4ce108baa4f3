#!/usr/bin/python3
"""Issue 15's cost limit: the default model's training beside a baseline's.

    compare_ranking_cost.py --base BUILD [--new BUILD] [--data DIR ...]
                            [--reps N] [--threads T] [--out FILE]

Runs `movieme train --data DIR` with every default in both builds (for
issue 15 the base is commit dd631e3, whose default is the explicit rank-32
model the issue calls today's training), --reps times each, alternating
and rotating the order, and prints per data set the medians of the whole
command's wall and CPU seconds (user + system of the child), of the
training alone (`train_seconds` of --json) and their ratios, with the load
average seen at the starts; then the new build's bench_ranking figures
(nDCG@10, coverage, median count, RMSE) on the same data, random 90/10.
The issue's limit is 2.5x. Default data: the bundled ml-latest-small.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def exe(build, name):
    for p in (os.path.join(build, name), os.path.join(build, "bench", name)):
        if os.path.exists(p):
            return p
    raise SystemExit(f"{name} not found in {build}")


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime -
                                                before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load": load, "stdout": p.stdout}


def train(build, data, out, threads):
    r = timed([exe(build, "movieme"), "train", "--data", data, "--out", out,
               "--threads", str(threads), "-q", "--json"])
    r["train"] = json.loads(r.pop("stdout"))["train_seconds"]
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="baseline build directory")
    ap.add_argument("--new", default=os.path.join(REPO, "build"))
    ap.add_argument("--data", action="append",
                    help="MovieLens directory (repeatable)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="also write the Markdown here")
    a = ap.parse_args()
    sets = a.data or [os.path.join(REPO, "data", "ml-latest-small")]
    tmp = tempfile.mkdtemp(prefix="ranking-cost-")
    lines = ["| data | dd631e3 default (median) | new default (median) | "
             "ratio wall (CPU) | training alone | load average | new: nDCG@10 "
             "/ coverage / median count / RMSE |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    raw = {}
    try:
        for data in sets:
            res = {"base": [], "new": []}
            for rep in range(a.reps):
                order = ["base", "new"] if rep % 2 == 0 else ["new", "base"]
                for side in order:
                    build = a.base if side == "base" else a.new
                    res[side].append(train(build, data,
                                           os.path.join(tmp, side + ".model"),
                                           a.threads))
            m = {s: {k: statistics.median(r[k] for r in res[s])
                     for k in ("wall", "cpu", "train")} for s in res}
            loads = [r["load"] for s in res for r in res[s]]
            rk = timed([exe(a.new, "bench_ranking"), data, "--threads",
                        str(a.threads)])["stdout"].split()
            f = dict(kv.split("=", 1) for kv in rk if "=" in kv)
            name = os.path.basename(os.path.normpath(data))
            lines.append(
                f"| {name} | {m['base']['wall']:.3f} s ({m['base']['cpu']:.3f}"
                f" CPU s) | {m['new']['wall']:.3f} s ({m['new']['cpu']:.3f} "
                f"CPU s) | {m['new']['wall'] / m['base']['wall']:.2f}x "
                f"({m['new']['cpu'] / m['base']['cpu']:.2f}x) | "
                f"{m['base']['train']:.3f} -> {m['new']['train']:.3f} s "
                f"({m['new']['train'] / m['base']['train']:.2f}x) | "
                f"{min(loads):.1f}-{max(loads):.1f} | {f['ndcg10']} / "
                f"{f['coverage']} / {f['median_count']} / {f['rmse']} |")
            raw[name] = res
            print(lines[-1], flush=True)
    finally:
        for side in ("base", "new"):
            try:
                os.remove(os.path.join(tmp, side + ".model"))
            except OSError:
                pass
        os.rmdir(tmp)
    text = (f"{a.reps} alternating runs per build, {a.threads} threads, "
            "`movieme train` whole command (load, train, save)\n\n"
            + "\n".join(lines) + "\n")
    print(text)
    if a.out:
        with open(a.out, "w") as o:
            o.write(text)
        with open(os.path.splitext(a.out)[0] + ".json", "w") as o:
            json.dump(raw, o, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
