#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs dependencies,
# builds, installs, then runs every suite. Exit status 0 only if all pass.
#   REC_SKIP_SANITIZERS=1  skip the ASan/UBSan and TSan builds (local speed-up)
#   REC_SKIP_FUZZ=1        skip the fuzz smoke runs
#   REC_FUZZ_SECONDS=N     seconds per fuzz target (default 30)
#   REC_SKIP_DEMO=1        skip the demo-site suites
#   REC_SKIP_MPI=1         skip the distributed-training tests
#   REC_SKIP_LOAD=1        skip the demo's load test (SQLite, then PostgreSQL;
#                          MOVIEME_LOAD_DURATION per database, default 15s
#                          here; report in build/load-test.md). The soak
#                          (MOVIEME_LOAD_SOAK=600, 10 min per database) is
#                          not run here: see docs/load-soak.md
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n==== %s (%ds)\n' "$*" "$(( $(date +%s) - start ))"; }

step "dependencies"
bash scripts/install-deps.sh

step "build + install"
bash scripts/build.sh build

step "CTest: C suites, CLI, bindings, examples, install consumers, bench quick"
bash scripts/ctest-clean-tmp.sh build --output-on-failure -j2 --timeout 900

if [ "${REC_SKIP_MPI:-0}" != 1 ]; then
  step "distributed training: mpirun -np 1, 2, 3 against single-machine ALS"
  bash scripts/test-mpi.sh
fi
if [ "${REC_SKIP_SANITIZERS:-0}" != 1 ]; then
  step "sanitizers: ASan+UBSan on every C test, TSan on the concurrency tests"
  bash scripts/test-sanitizers.sh
fi
if [ "${REC_SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzz smoke: every parser of outside bytes, ${REC_FUZZ_SECONDS:-30}s each"
  bash scripts/fuzz.sh "${REC_FUZZ_SECONDS:-30}"
fi
if [ "${REC_SKIP_DEMO:-0}" != 1 ]; then
  step "demo site: SQLite, PostgreSQL, browser"
  bash scripts/test-demo.sh
  if [ "${REC_SKIP_LOAD:-0}" != 1 ]; then
    step "demo site: load test on SQLite and PostgreSQL (wrk, gunicorn; no errors allowed)"
    MOVIEME_LOAD_SOAK=0 MOVIEME_LOAD_DURATION=${MOVIEME_LOAD_DURATION:-15s} \
      MOVIEME_LOAD_CONNECTIONS=${MOVIEME_LOAD_CONNECTIONS:-64} \
      MOVIEME_LOAD_REPORT=${MOVIEME_LOAD_REPORT:-build/load-test.md} \
      bash scripts/load-test.sh
  fi
fi
step "all tests passed"
