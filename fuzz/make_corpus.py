#!/usr/bin/env python3
"""Seed corpus for the fuzz targets, from the repository's fixtures.

Usage: make_corpus.py ROOT OUTDIR
Writes OUTDIR/<target>/<name> for the MovieLens and CLI targets (the model
target's seeds come from make_seeds, which uses the library itself). Inputs
are small heads of the fixtures: a few KB keep the fuzzer fast.
"""
import os
import sys

ROOT, OUT = sys.argv[1], sys.argv[2]
MAX = 6000


def head(path, lines):
    with open(path, "rb") as f:
        data = b"".join(f.readline() for _ in range(lines))
    return data[:MAX]


def put(target, name, *parts):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(b"\0".join(parts))


# ---- CSV layout (ml-latest-small): ratings.csv NUL movies.csv
small = os.path.join(ROOT, "data", "ml-latest-small")
r = head(os.path.join(small, "ratings.csv"), 40)
m = head(os.path.join(small, "movies.csv"), 40)
put("fuzz_movielens_csv", "small", r, m)
put("fuzz_movielens_csv", "ratings-only", head(os.path.join(small, "ratings.csv"), 12))
put("fuzz_movielens_csv", "crlf-bom", b"\xef\xbb\xbf" + r.replace(b"\n", b"\r\n"),
    b"\xef\xbb\xbf" + m.replace(b"\n", b"\r\n"))
put("fuzz_movielens_csv", "quoted",
    b"userId,movieId,rating,timestamp\n1,11,4.0,1\n2,11,3.5,2\n2,5,1,3",
    b'movieId,title,genres\n11,"American President, The (1995)",Comedy|Drama|Romance\n'
    b'5,"Father of the Bride Part II (1995)",Comedy\n7,"Weird ""Quoted"" Title (2001)",(no genres listed)\n'
    b"8,Am\xc3\xa9lie (2001),Comedy\n")

# ---- ml-100k layout: u.data NUL u.item NUL u.genre
k = os.path.join(ROOT, "tests", "data", "ml-100k-sample")
ud = head(os.path.join(k, "u.data"), 40)
ui = head(os.path.join(k, "u.item"), 25)
ug = head(os.path.join(k, "u.genre"), 20)
put("fuzz_movielens_100k", "sample", ud, ui, ug)
put("fuzz_movielens_100k", "data-only", head(os.path.join(k, "u.data"), 12))
put("fuzz_movielens_100k", "latin1",
    b"1\t1\t5\t881250949\n2\t2\t3\t881250950\n",
    b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    b"2|Am\xe9lie (2001)|01-Jan-2001||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0|0|0|0\n", ug)

# ---- ml-1m/10m layout: ratings.dat NUL movies.dat (made from the 100k sample)
genres = [l.split(b"|")[0] for l in open(os.path.join(k, "u.genre"), "rb").read().split(b"\n") if l]
rd = b"".join(b"::".join(l.split(b"\t")) + b"\n" for l in ud.split(b"\n") if l)
md = b""
for l in ui.split(b"\n"):
    f = l.split(b"|")
    if len(f) < 24:
        continue
    g = b"|".join(genres[i] for i, flag in enumerate(f[5:24]) if flag == b"1" and i < len(genres))
    md += f[0] + b"::" + f[1] + b"::" + g + b"\n"
put("fuzz_movielens_dat", "sample", rd, md)
put("fuzz_movielens_dat", "ratings-only", b"1::1::5::978300760\n1::2::3::978302109\n2::1::4::978301968\n")
put("fuzz_movielens_dat", "latin1", b"1::1::5::1\n2::2::3::2\n",
    b"1::Toy Story (1995)::Animation|Children's|Comedy\n2::Am\xe9lie (2001)::Comedy|Romance\n")

# ---- every fixture directory under tests/data, whatever its layout
layouts = {
    "fuzz_movielens_csv": ["ratings.csv", "movies.csv"],
    "fuzz_movielens_100k": ["u.data", "u.item", "u.genre"],
    "fuzz_movielens_dat": ["ratings.dat", "movies.dat"],
}
tests_data = os.path.join(ROOT, "tests", "data")
for dirpath, _, files in os.walk(tests_data):
    for target, names in layouts.items():
        if names[0] in files:
            parts = []
            for n in names:
                p = os.path.join(dirpath, n)
                if not os.path.isfile(p):
                    break
                parts.append(head(p, 30))
            tag = os.path.relpath(dirpath, tests_data).replace(os.sep, "_")
            put(target, "fixture-" + tag, *parts)

# ---- CLI: NUL-separated argv
for i, argv in enumerate([
    [b"--data", b"data/ml-latest-small", b"--rank", b"10", b"--json"],
    [b"--lambda=0.05", b"--seed", b"42", b"-n", b"5"],
    [b"--rate", b"1=5", b"2=4.5", b"318=3", b"--top=20"],
    [b"-r", b"50=1", b"-v", b"-v", b"--help"],
    [b"--data", b"caf\xc3\xa9 \"dir\"\n", b"--rank", b"-3"],
]):
    put("fuzz_cli", "argv%d" % i, *argv)
