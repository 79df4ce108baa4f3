#!/usr/bin/env bash
# `movieme train` under a small `ulimit -v`, swept from "cannot even start"
# to "enough": every run must end with exit status 0 or 1 and, for 1, a
# message on stderr; never a signal (status >= 128) or a hang. Registered in
# CTest by tests/CMakeLists.txt (not in sanitizer builds: their shadow memory
# needs terabytes of address space). See docs/robustness.md.
#
# Below a floor no program that loads OpenBLAS 0.3.21's OpenMP build starts:
# its load-time constructor maps one 128 MB work buffer per thread and spins
# forever when the mapping fails (upstream OpenMathLib/OpenBLAS#5289), before
# the library's code runs. The sweep therefore finds that floor first with
# `movieme --version` (OMP_NUM_THREADS=1: one buffer), then sweeps `train`
# from that floor, where the data no longer fits, to well above it.
# Usage: limits_cli.sh MOVIEME_BINARY DATA_DIR
set -u
BIN=$1 DATA=$2
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fails=0 n_oom=0 n_ok=0 n_gomp=0 n_load=0
export OMP_NUM_THREADS=1
starts() { ( ulimit -v "$1"; exec timeout 10 "$BIN" --version ) >/dev/null 2>&1; }
lo=100000 hi=1000000 # KB: lo does not start, hi does
starts "$hi" || { echo "limits_cli: movieme --version fails under ulimit -v $hi KB" >&2; exit 1; }
while [ $((hi - lo)) -gt 2000 ]; do
  mid=$(((lo + hi) / 2))
  if starts "$mid"; then hi=$mid; else lo=$mid; fi
done
floor=$hi
echo "limits_cli: movieme starts from ulimit -v $floor KB (OpenBLAS's load-time buffer)"
# From the floor up in 1 MB steps, then large: where the clean out-of-memory
# exits lie moves with the libraries and is only a few hundred KB wide.
dense=$(seq "$floor" 1000 $((floor + 40000)))
for kb in $dense $((floor + 128000)) $((floor + 512000)); do
  ( ulimit -v "$kb"; exec timeout 120 "$BIN" train --data "$DATA" --iters 2 --rank 16 --threads 2 --out "$OUT/m.bin" ) \
    >"$OUT/stdout" 2>"$OUT/stderr"
  rc=$?
  msg=$(head -c 300 "$OUT/stderr" | tr '\n' ' ')
  if [ $rc -eq 0 ]; then
    n_ok=$((n_ok + 1)); what=ok
  elif [ $rc -eq 127 ] && grep -q "error while loading shared libraries" "$OUT/stderr"; then
    n_load=$((n_load + 1)); what="cannot start (dynamic loader)"
  elif [ $rc -eq 1 ] && grep -qE "libgomp: (Thread creation failed|Out of memory)" "$OUT/stderr"; then
    # the OpenMP runtime exits by itself when it cannot start a thread or
    # allocate its own state
    n_gomp=$((n_gomp + 1)); what="OpenMP runtime: $msg"
  elif [ $rc -eq 1 ] && grep -qiE "memory" "$OUT/stderr"; then
    n_oom=$((n_oom + 1)); what="clean error: $msg"
  else
    fails=$((fails + 1)); what="FAIL (exit $rc): $msg"
  fi
  printf 'ulimit -v %6s KB: %s\n' "$kb" "$what"
done
echo "limits_cli: $n_ok ok, $n_oom clean out-of-memory errors, $n_gomp OpenMP runtime exits, $n_load could not start, $fails failures"
[ $fails -eq 0 ] || exit 1
[ $n_oom -gt 0 ] || { echo "limits_cli: no run reported out of memory" >&2; exit 1; }
[ $n_ok -gt 0 ] || { echo "limits_cli: no run succeeded" >&2; exit 1; }
