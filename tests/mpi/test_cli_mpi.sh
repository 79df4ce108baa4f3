#!/usr/bin/env bash
# `movieme train --mpi` end to end (CTest mpi_cli; scripts/test-mpi.sh):
#   1. -np 2 and -np 3 give the same model file, byte for byte, and the same
#      test RMSE as single-machine training (and -np 3 in implicit mode);
#   2. errors: a missing dataset fails every rank cleanly (exit 1, message,
#      no hang); --checkpoint without --mpi is a usage error;
#   3. a rank killed with SIGKILL in the middle of training makes the job
#      fail with mpirun's message and leaves no model; training resumed from
#      the last checkpoint (on another number of ranks) gives the model of an
#      uninterrupted run, byte for byte;
#   4. a rank stopped with SIGSTOP (hung, not dead: MPI notices nothing)
#      fails the job within --mpi-timeout with a clear message, no model.
#   test_cli_mpi.sh MOVIEME DATA WORKDIR     (REC_MPIRUN: mpirun and flags)
set -euo pipefail
movieme=$1 data=$2 work=$3
mpirun=${REC_MPIRUN:-mpirun --oversubscribe --bind-to none --mca btl self,vader --mca oob_tcp_if_include lo}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
# the pid of rank R among the children of mpirun JOB (by pid, never by name)
rank_pid() {
  for pid in $(ps -o pid= --ppid "$1"); do
    if tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -x "OMPI_COMM_WORLD_RANK=$2" >/dev/null; then
      echo "$pid"
    fi
  done
}
json() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

echo "== 1. same model as single-machine training"
# (--explicit-only: the hybrid model is not distributed yet)
common=(--data "$data" --test-fraction 0.1 --rank 16 --iters 8 --json --quiet --explicit-only)
"$movieme" train "${common[@]}" --out single.bin > single.json
for np in 2 3; do
  timeout 120 $mpirun -np $np "$movieme" train --mpi "${common[@]}" --out np$np.bin > np$np.json
  cmp single.bin np$np.bin || fail "-np $np: model file differs from single-machine"
  [ "$(json np$np.json '["params"]["mpi_ranks"]')" = $np ] || fail "-np $np: mpi_ranks"
  /usr/bin/python3 - single.json np$np.json <<'EOF' || fail "-np $np: test RMSE"
import json, sys
a, b = (json.load(open(f))["test_rmse"] for f in sys.argv[1:])
print(f"test RMSE single {a:.6f}, distributed {b:.6f}")
sys.exit(abs(a - b) > 1e-4)
EOF
done

"$movieme" train "${common[@]}" --implicit --out single-implicit.bin > /dev/null
timeout 120 $mpirun -np 3 "$movieme" train --mpi "${common[@]}" --implicit \
  --out np3-implicit.bin > /dev/null
cmp single-implicit.bin np3-implicit.bin || fail "implicit: model file differs"
echo "implicit: -np 3 model file == single-machine"

echo "== 2. errors"
set +e
timeout 60 $mpirun -np 3 "$movieme" train --mpi --data "$work/no-such-dir" --out x.bin > err.out 2> err.txt
rc=$?
set -e
cat err.txt | grep -v '^\s*$' | head -5
[ $rc = 1 ] || fail "missing data: exit $rc (want 1; 124 = hang)"
grep -q "no-such-dir" err.txt || fail "missing data: no message"
[ ! -e x.bin ] || fail "missing data: a model was written"
set +e
"$movieme" train --data "$data" --out x.bin --checkpoint ck 2> usage.txt
rc=$?
set -e
[ $rc = 2 ] && grep -q "need --mpi" usage.txt || fail "--checkpoint without --mpi: exit $rc"

echo "== 3. a killed rank, then resume from the checkpoint"
iters=30
long=(--data "$data" --rank 16 --iters $iters --json --quiet --explicit-only)
rm -f ck killed.bin
$mpirun -np 3 "$movieme" train --mpi "${long[@]}" --out killed.bin \
  --checkpoint ck --checkpoint-every 2 > killed.json 2> killed.txt &
job=$!
for _ in $(seq 600); do [ -e ck ] && break; sleep 0.05; done
[ -e ck ] || { kill $job; fail "no checkpoint appeared"; }
victim=$(rank_pid $job 1)
[ -n "$victim" ] || { kill $job; fail "rank 1 not found"; }
kill -9 "$victim"
echo "killed rank 1 (pid $victim)"
set +e
timeout 60 tail --pid=$job -f /dev/null
wait $job
rc=$?
set -e
grep -v '^\s*$' killed.txt | head -8
[ $rc != 0 ] || fail "killed rank: the job exited 0"
[ ! -e killed.bin ] || fail "killed rank: a model was written"
grep -qi "signal 9\|killed" killed.txt || fail "killed rank: no clear message"
# resume on 2 ranks; compare with an uninterrupted single-machine run
timeout 120 $mpirun -np 2 "$movieme" train --mpi "${long[@]}" --out resumed.bin \
  --checkpoint ck --resume > resumed.json
"$movieme" train "${long[@]}" --out straight.bin > straight.json
cmp resumed.bin straight.bin || fail "resumed model differs from an uninterrupted run"
echo "resumed model == uninterrupted model"

echo "== 4. a hung rank (SIGSTOP) with --mpi-timeout"
rm -f hung.bin ck2
$mpirun -np 3 "$movieme" train --mpi "${long[@]}" --out hung.bin \
  --checkpoint ck2 --checkpoint-every 1 --mpi-timeout 3 > hung.json 2> hung.txt &
job=$!
for _ in $(seq 600); do [ -e ck2 ] && break; sleep 0.05; done
victim=$(rank_pid $job 1)
[ -n "$victim" ] || { kill $job; fail "rank 1 not found"; }
kill -STOP "$victim"
echo "stopped rank 1 (pid $victim)"
set +e
timeout 60 tail --pid=$job -f /dev/null
tail_rc=$?
wait $job
rc=$?
set -e
kill -9 "$victim" 2> /dev/null || true
grep -v '^\s*$' hung.txt | head -6
[ $tail_rc = 0 ] || fail "hung rank: the job did not end within 60 s"
[ $rc != 0 ] || fail "hung rank: the job exited 0"
[ ! -e hung.bin ] || fail "hung rank: a model was written"
grep -q "no answer from the other ranks within 3 s" hung.txt || fail "hung rank: no clear message"
echo "PASSED"
