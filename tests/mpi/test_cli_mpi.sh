#!/usr/bin/env bash
# `movieme train --mpi` end to end (CTest mpi_cli; scripts/test-mpi.sh):
#   1. -np 2 and -np 3 give the same model file, byte for byte, and the same
#      test RMSE as single-machine training: the hybrid default (also with
#      no options at all), explicit-only, implicit, implicit with BM25;
#   2. errors: a missing dataset fails every rank cleanly (exit 1, message,
#      no hang); --checkpoint without --mpi is a usage error;
#   3. a rank killed with SIGKILL in the middle of training makes the job
#      fail with mpirun's message and leaves no model; training resumed from
#      the last checkpoint (on another number of ranks) gives the model of an
#      uninterrupted run, byte for byte (killed in the preference phase of
#      the hybrid model);
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
common=(--data "$data" --test-fraction 0.1 --rank 16 --iters 8 --json --quiet)
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

# every default: the command a user types first
"$movieme" train --data "$data" --out default.bin --quiet > /dev/null
timeout 120 $mpirun -np 2 "$movieme" train --mpi --data "$data" --out np2-default.bin --quiet > /dev/null
cmp default.bin np2-default.bin || fail "defaults: model file differs"
echo "defaults: -np 2 model file == single-machine"

check_mode() { # NAME NP OPTIONS...: -np NP model file == single-machine
  local name=$1 np=$2; shift 2
  "$movieme" train "${common[@]}" "$@" --out "single-$name.bin" > /dev/null
  timeout 120 $mpirun -np $np "$movieme" train --mpi "${common[@]}" "$@" \
    --out "np$np-$name.bin" > /dev/null
  cmp "single-$name.bin" "np$np-$name.bin" || fail "$name: model file differs"
  echo "$name: -np $np model file == single-machine"
}
check_mode explicit-only 3 --explicit-only
check_mode implicit 3 --implicit
check_mode implicit-bm25 2 --implicit --weighting bm25

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
long=(--data "$data" --rank 16 --iters $iters --json --quiet)
rm -f ck killed.bin
$mpirun -np 3 "$movieme" train --mpi "${long[@]}" --out killed.bin \
  --checkpoint ck --checkpoint-every 2 > killed.json 2> killed.txt &
job=$!
# wait for a checkpoint of the preference phase (the header's phase field,
# a native uint32 at byte 108, is 1), so the resume crosses no phase border
ck_phase() { od -An -tu4 -j108 -N4 ck 2> /dev/null | tr -d ' '; }
for _ in $(seq 1200); do [ "$(ck_phase)" = 1 ] && break; sleep 0.05; done
[ "$(ck_phase)" = 1 ] || { kill $job; fail "no checkpoint of the preference phase appeared"; }
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
