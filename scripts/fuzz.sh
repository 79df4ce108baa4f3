#!/usr/bin/env bash
# Fuzz smoke: build the libFuzzer targets (fuzz/), build their seed corpus
# from the fixtures, replay every input in fuzz/regressions/, then run each
# target for SECONDS. Fails on any finding; prints executions per target.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default 30 s, all targets)
# Environment:
#   REC_FUZZ_BUILD=DIR     build directory (default build-fuzz)
#   REC_FUZZ_KEEP_CORPUS=1 keep the corpus grown by earlier runs (default:
#                          start from the seeds, so CI runs are reproducible)
#   REC_FUZZ_JOBS=N        targets run in parallel (default 1)
# Findings are left in $BUILD/artifacts/<target>/; to keep one as a
# regression, copy it to fuzz/regressions/<target>/ (see docs/robustness.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER=${1:-30}
shift || true
BUILD=${REC_FUZZ_BUILD:-build-fuzz}
ALL=(fuzz_movielens_csv fuzz_movielens_100k fuzz_movielens_dat fuzz_model_load fuzz_cli)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
start=$(date +%s)
say() { printf 'fuzz: %s (%ds)\n' "$*" "$(( $(date +%s) - start ))"; }

need=()
command -v clang >/dev/null || need+=(clang)
[ -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] ||
  ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
  need+=(libclang-rt-14-dev libfuzzer-14-dev)
[ -f /usr/lib/llvm-14/lib/libomp.so ] || need+=(libomp-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

say "build ($BUILD, clang -fsanitize=fuzzer,address,undefined)"
CC=clang cmake -S fuzz -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

# The library's OpenMP and OpenBLAS threads are not what is under test here.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:abort_on_error=0:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

say "seed corpus"
SEEDS=$BUILD/seeds
rm -rf "$SEEDS"
mkdir -p "$SEEDS/fuzz_model_load"
/usr/bin/python3 fuzz/make_corpus.py "$ROOT" "$SEEDS"
"$BUILD/make_seeds" "$SEEDS/fuzz_model_load"

dict_of() {
  case $1 in
    fuzz_movielens_*) echo fuzz/dicts/movielens.dict ;;
    fuzz_model_load) echo fuzz/dicts/model.dict ;;
    fuzz_cli) echo fuzz/dicts/cli.dict ;;
  esac
}
maxlen_of() {
  case $1 in
    fuzz_cli) echo 1024 ;;
    fuzz_model_load) echo 8192 ;;
    *) echo 8192 ;;
  esac
}

status=0
# ---- regressions: every saved finding must now pass ---------------------
n_reg=0
for t in "${TARGETS[@]}"; do
  [ -x "$BUILD/$t" ] || { echo "fuzz: target $t was not built" >&2; exit 1; }
  d=fuzz/regressions/$t
  [ -d "$d" ] || continue
  files=("$d"/*)
  [ -e "${files[0]}" ] || continue
  n_reg=$(( n_reg + ${#files[@]} ))
  if ! "$BUILD/$t" -runs=1 "${files[@]}" >"$BUILD/$t.regressions.log" 2>&1; then
    echo "fuzz: REGRESSION in $t (log: $BUILD/$t.regressions.log)" >&2
    tail -40 "$BUILD/$t.regressions.log" >&2
    status=1
  fi
done
say "replayed $n_reg regression inputs"

# ---- bounded fuzzing ----------------------------------------------------
run_one() {
  local t=$1 corpus=$BUILD/corpus/$t art=$BUILD/artifacts/$t
  [ "${REC_FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$corpus"
  mkdir -p "$corpus" "$art"
  "$BUILD/$t" -max_total_time="$SECONDS_PER" -timeout=25 -rss_limit_mb=2560 \
    -max_len="$(maxlen_of "$t")" -dict="$(dict_of "$t")" -print_final_stats=1 \
    -artifact_prefix="$art/" "$corpus" "$SEEDS/$t" >"$BUILD/$t.log" 2>&1
}
stats=$BUILD/fuzz-stats.txt
: >"$stats"
JOBS=${REC_FUZZ_JOBS:-1}
pids=()
for t in "${TARGETS[@]}"; do
  say "$t for ${SECONDS_PER}s"
  if [ "$JOBS" -gt 1 ]; then
    run_one "$t" & pids+=("$!:$t")
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
  else
    if ! run_one "$t"; then
      echo "fuzz: FINDING in $t (log: $BUILD/$t.log, input in $BUILD/artifacts/$t/)" >&2
      grep -m1 -A30 -E "^==[0-9]+==ERROR|runtime error|invariant failed|deadly signal|timeout" "$BUILD/$t.log" >&2 || tail -40 "$BUILD/$t.log" >&2
      status=1
    fi
  fi
done
for pt in "${pids[@]}"; do
  if ! wait "${pt%%:*}"; then
    t=${pt#*:}
    echo "fuzz: FINDING in $t (log: $BUILD/$t.log)" >&2
    tail -40 "$BUILD/$t.log" >&2
    status=1
  fi
done

printf '%-22s %12s %8s %8s\n' target executions exec/s corpus | tee -a "$stats"
for t in "${TARGETS[@]}"; do
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$BUILD/$t.log" | tail -1)
  units=$(ls "$BUILD/corpus/$t" 2>/dev/null | wc -l)
  printf '%-22s %12s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" | tee -a "$stats"
done
if [ $status -ne 0 ]; then
  say "FAILED (findings above)"
  exit 1
fi
say "no findings"
