#!/usr/bin/env bash
# The benchmark suite (issue 5): builds gen_movielens and bench_als, runs
# bench/run_suite.py and writes results.md, results.json and PNG plots.
#   scripts/bench.sh            full run (1M, 5M, 20M synthetic ratings; a few
#                               minutes on 2 cores) -> docs/benchmarks/
#   scripts/bench.sh --quick    CI scale (under a minute) -> $BUILD/bench/quick/
# Other arguments go to run_suite.py (--reps N, --only load,train, --out DIR).
#   REC_BENCH_BUILD=DIR         build directory (default build-bench)
# Generated data and models go to bench/data/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${REC_BENCH_BUILD:-build-bench}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DREC_BUILD_BENCH=ON \
    -DREC_BUILD_PYTHON=OFF -DREC_BUILD_LUA=OFF >/dev/null
fi
cmake --build "$build" -j2 --target gen_movielens bench_als >/dev/null
out=docs/benchmarks
for a in "$@"; do
  [ "$a" = --quick ] && out="$build/bench/quick"
done
exec /usr/bin/python3 bench/run_suite.py --bin-dir "$build/bench" --out "$out" "$@"
