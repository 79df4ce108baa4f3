#!/usr/bin/python3
"""The demo site under load, before and after (issue 13 item 9): the load
test of scripts/load-test.sh on another version of the site and on this
one, in alternating runs, on each database.

    compare_load.py --base TREE [--rounds N] [--duration 30s] [--db "sqlite postgres"]
                    [--out FILE]

TREE is a checkout of the version to compare with (e.g. `git worktree add
--detach /tmp/base dd631e3`) with its Python binding built in TREE/build
(cmake -S TREE -B TREE/build && cmake --build TREE/build --target
movieme_python). Its site (TREE/examples/flask_demo) runs on its binding,
this checkout's site on build/ here; both under this checkout's
scripts/load-test.sh (same gunicorn command line, same member, same paths,
same wrk). Each round runs the base, then this version (the order turns
every round); the machine may be shared, so each run's load average is
printed and the tables give medians, and the ratio of each round's pair.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(
    r"load-test: (\w+): (\d+) requests, (\d+) errors, ([\d.]+) req/s, p50 ([\d.]+) ms, "
    r"p99 ([\d.]+) ms, max ([\d.]+) ms, worker CPU ([\d.]+) ms per request; "
    r"load average ([\d. ]+?); server log problems: (\d+)")
FIELDS = ("requests", "errors", "rps", "p50", "p99", "max", "cpu_ms", "loadavg", "log")


def describe(tree):
    """The commit a tree is at, if it is a git checkout."""
    out = subprocess.run(["git", "-C", tree, "log", "-1", "--format=%h (%ad)", "--date=short"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return out.stdout.strip() or tree


def run(version, tree, args):
    env = dict(os.environ, MOVIEME_LOAD_REPORT="-", MOVIEME_LOAD_DB=args.db,
               MOVIEME_LOAD_DURATION=args.duration, MOVIEME_LOAD_SOAK="0")
    build = os.path.join(tree, "build")
    env["PYTHONPATH"] = os.path.join(build, "bindings", "python")
    env["LD_LIBRARY_PATH"] = build
    env["MOVIEME_LOAD_APP"] = os.path.join(tree, "examples", "flask_demo")
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "load-test.sh")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results = {}
    for m in LINE.finditer(out.stdout):
        values = m.groups()
        r = dict(zip(FIELDS, values[1:]))
        for k in ("requests", "errors", "log"):
            r[k] = int(r[k])
        for k in ("rps", "p50", "p99", "max", "cpu_ms"):
            r[k] = float(r[k])
        r["loadavg"] = float(r["loadavg"].split()[0])
        results[values[0]] = r
    if out.returncode != 0 or not results:
        sys.stderr.write(out.stdout[-3000:])
        sys.stderr.write("compare_load: the %s run failed (exit %d)\n" % (version, out.returncode))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", default="30s")
    ap.add_argument("--db", default="sqlite postgres")
    ap.add_argument("--out")
    args = ap.parse_args()
    trees = {"base": os.path.abspath(args.base), "new": ROOT}
    runs = []                                  # (round, version, {db: result})
    for i in range(args.rounds):
        order = ("base", "new") if i % 2 == 0 else ("new", "base")
        for version in order:
            r = run(version, trees[version], args)
            runs.append((i, version, r))
            for db, v in sorted(r.items()):
                print("round %d %-4s %-8s %6.1f req/s  p50 %6.1f ms  p99 %7.1f ms  errors %d  "
                      "CPU %.2f ms/req  load %.2f" % (i + 1, version, db, v["rps"], v["p50"],
                                                      v["p99"], v["errors"] + v["log"],
                                                      v["cpu_ms"], v["loadavg"]), flush=True)
    lines = ["| database | version | runs | req/s | p50 | p99 | errors | worker CPU per request | load average (1 min) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    ratios = []
    for db in args.db.split():
        for version in ("base", "new"):
            rs = [r[db] for _, v, r in runs if v == version and db in r]
            if not rs:
                continue
            med = lambda k: statistics.median(x[k] for x in rs)  # noqa: E731
            lines.append("| %s | %s | %d | %.1f | %.1f ms | %.1f ms | %d | %.2f ms | %.2f (%.2f-%.2f) |" % (
                db, version, len(rs), med("rps"), med("p50"), med("p99"),
                sum(x["errors"] + x["log"] for x in rs), med("cpu_ms"), med("loadavg"),
                min(x["loadavg"] for x in rs), max(x["loadavg"] for x in rs)))
        pairs = []
        for i in range(args.rounds):
            b = [r[db] for j, v, r in runs if j == i and v == "base" and db in r]
            n = [r[db] for j, v, r in runs if j == i and v == "new" and db in r]
            if b and n:
                pairs.append((n[0]["rps"] / b[0]["rps"], b[0]["p99"] / n[0]["p99"],
                              b[0]["cpu_ms"] / n[0]["cpu_ms"]))
        if pairs:
            ratios.append("%s: throughput new/base per round %s (median %.2fx); p99 base/new %s "
                          "(median %.2fx); CPU per request base/new %s (median %.2fx)" % (
                              db, ", ".join("%.2f" % p[0] for p in pairs),
                              statistics.median(p[0] for p in pairs),
                              ", ".join("%.2f" % p[1] for p in pairs),
                              statistics.median(p[1] for p in pairs),
                              ", ".join("%.2f" % p[2] for p in pairs),
                              statistics.median(p[2] for p in pairs)))
    head = ("Measured by `bench/compare_load.py --base TREE --rounds %d --duration %s` on %s "
            "(base: %s; new: %s): each round the load test of scripts/load-test.sh on both "
            "versions, one after the other, the order turning each round; medians of the "
            "rounds, and each round's ratios. Load average: 1-minute value just before each "
            "run (median, range), on %d cores.\n\n" % (
                args.rounds, args.duration, time.strftime("%Y-%m-%d", time.gmtime()),
                describe(trees["base"]), describe(trees["new"]), os.cpu_count()))
    text = head + "\n".join(lines) + "\n\n" + "\n".join("- " + r for r in ratios) + "\n"
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    failed = any(not r for _, _, r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
