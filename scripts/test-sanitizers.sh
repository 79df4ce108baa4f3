#!/usr/bin/env bash
# Sanitizer runs of the C test suites (see docs/robustness.md).
#
#  1. AddressSanitizer + UndefinedBehaviorSanitizer (gcc, the production
#     toolchain with libgomp): every CTest test of a build without bindings,
#     any report fails the run (halt_on_error, leaks included).
#  2. ThreadSanitizer (clang + LLVM's libomp, with the Archer OMPT tool so
#     that TSan understands OpenMP barriers): the concurrency suite, plus the
#     training suite when it exists.
#
# Environment:
#   REC_SKIP_SANITIZERS=1   skip everything (scripts/test.sh honours it too)
#   REC_SKIP_ASAN=1 / REC_SKIP_TSAN=1   skip one half
#   REC_TSAN_TESTS=REGEX    ctest -R regex for the TSan half
#                           (default: check_concurrency|check_als$)
#   REC_SAN_JOBS=N          parallel ctest jobs (default: nproc)
#   REC_ASAN_EXCLUDE=REGEX  ctest -E regex for the ASan half (default ^install$)
# Build directories: build-asan/ and build-tsan/ (override REC_ASAN_BUILD,
# REC_TSAN_BUILD).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ "${REC_SKIP_SANITIZERS:-0}" = 1 ]; then
  echo "test-sanitizers: skipped (REC_SKIP_SANITIZERS=1)"
  exit 0
fi
JOBS=${REC_SAN_JOBS:-$(nproc)}
ASAN_BUILD=${REC_ASAN_BUILD:-build-asan}
TSAN_BUILD=${REC_TSAN_BUILD:-build-tsan}
COMMON=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREC_BUILD_PYTHON=OFF -DREC_BUILD_LUA=OFF
        -DREC_BUILD_BENCH=OFF -DREC_BUILD_TESTS=ON -DREC_BUILD_CLI=ON)
start=$(date +%s)
say() { printf 'test-sanitizers: %s (%ds)\n' "$*" "$(( $(date +%s) - start ))"; }

# LLVM's OpenMP runtime and the Archer tool for the TSan half (Debian:
# libomp-14-dev, which ships libomp.so and libarcher.so).
ARCHER=/usr/lib/llvm-14/lib/libarcher.so
need_pkgs=()
command -v clang >/dev/null || need_pkgs+=(clang)
[ -f "$ARCHER" ] || need_pkgs+=(libomp-14-dev)
if [ ${#need_pkgs[@]} -gt 0 ] && [ "${REC_SKIP_TSAN:-0}" != 1 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  say "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}" install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# ---- 1. ASan + UBSan ---------------------------------------------------
if [ "${REC_SKIP_ASAN:-0}" != 1 ]; then
  say "ASan+UBSan: configure and build ($ASAN_BUILD)"
  CC=${REC_ASAN_CC:-gcc} cmake -S . -B "$ASAN_BUILD" "${COMMON[@]}" \
    -DREC_SANITIZE=address,undefined \
    -DCMAKE_C_FLAGS="-fno-sanitize-recover=all" >/dev/null
  cmake --build "$ASAN_BUILD" -j"$JOBS" >/dev/null
  say "ASan+UBSan: ctest"
  # Check forks each test by default; CK_FORK=no runs them in one process so
  # that a report aborts the test binary itself and LeakSanitizer sees the
  # whole process at exit. Tests that need a child (limits) fork themselves.
  (
    cd "$ASAN_BUILD"
    export CK_FORK=no
    export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_invalid_pointer_pairs=0:allocator_may_return_null=1:print_summary=1"
    export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:report_error_type=1"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
    # `install` builds the examples against an installed copy: a sanitized
    # libmovieme there only tests the linker, not the library.
    ctest --output-on-failure -j"$JOBS" --timeout 1200 -E "${REC_ASAN_EXCLUDE:-^install$}"
  )
  say "ASan+UBSan: all tests clean"
fi

# ---- 2. TSan -------------------------------------------------------------
if [ "${REC_SKIP_TSAN:-0}" != 1 ]; then
  say "TSan: configure and build ($TSAN_BUILD, clang + libomp)"
  CC=clang cmake -S . -B "$TSAN_BUILD" "${COMMON[@]}" \
    -DREC_SANITIZE=thread -DREC_BUILD_CLI=OFF \
    -DOpenMP_C_FLAGS="-fopenmp=libomp" -DOpenMP_C_LIB_NAMES=omp \
    -DOpenMP_omp_LIBRARY=/usr/lib/llvm-14/lib/libomp.so >/dev/null
  cmake --build "$TSAN_BUILD" -j"$JOBS" >/dev/null
  tests_re=${REC_TSAN_TESTS:-check_concurrency|check_als$}
  say "TSan: ctest -R '$tests_re'"
  (
    cd "$TSAN_BUILD"
    export CK_FORK=no
    # Archer tells TSan about OpenMP's barriers, locks and tasks (OMPT);
    # libomp itself is not instrumented, hence ignore_noninstrumented_modules.
    export OMP_TOOL_LIBRARIES=$ARCHER
    # OpenBLAS's own thread pool is not instrumented either (its spin-wait
    # handoff is invisible to TSan) and the library never relies on it.
    export OPENBLAS_NUM_THREADS=1
    export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$ROOT/tests/tsan.supp:report_signal_unsafe=0"
    n=$(ctest -N -R "$tests_re" | sed -n 's/^Total Tests: //p')
    if [ "${n:-0}" = 0 ]; then
      echo "test-sanitizers: no test matches '$tests_re'" >&2
      exit 1
    fi
    ctest --output-on-failure -j1 --timeout 1200 -R "$tests_re"

    # Canary: a program that breaks the exclusive-access rule of
    # rec_add_user must be caught, or the TSan run proves nothing.
    clang -fsanitize=thread -fopenmp -g -O1 -I"$ROOT/include" "$ROOT/tests/tsan_canary.c" \
      libmovieme.a $(pkg-config --libs openblas) -llapacke -lz -lm -lpthread -o tsan_canary
    if TSAN_OPTIONS="$TSAN_OPTIONS:abort_on_error=0:exitcode=66" ./tsan_canary \
         "$ROOT/tests/data/ml-100k-sample" >tsan_canary.log 2>&1; then
      echo "test-sanitizers: the TSan canary's data race went unreported" >&2
      exit 1
    fi
    grep -q "ThreadSanitizer: data race" tsan_canary.log || {
      echo "test-sanitizers: TSan canary failed without a race report:" >&2
      tail -20 tsan_canary.log >&2; exit 1; }
    echo "test-sanitizers: TSan canary: the unlocked rec_add_user race is reported, as it must be"
  )
  say "TSan: clean"
fi
say "done"
