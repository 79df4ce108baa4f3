#!/usr/bin/env bash
# The C test programs leave nothing in $TMPDIR, however a test ends: the
# probe writes temporary files and then passes, fails (forked and with
# CK_FORK=no), crashes in a forked test, aborts or exits; then real suites
# that write many temporary files run. After each, the private TMPDIR must
# be empty. Registered in CTest (tests/CMakeLists.txt).
# Usage: tmp_cleanup.sh PROBE [CHECK_PROGRAM...]
set -u
PROBE=$1; shift
T=$(mktemp -d "${TMPDIR:-/tmp}/movieme-tmpcheck-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
run() { # expected-status(0|nonzero) description command...
  local want=$1 what=$2; shift 2
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" "$@" >"$T/out" 2>&1
  local rc=$?
  if [ "$want" = 0 ] && [ $rc -ne 0 ]; then
    echo "FAIL: $what exited $rc"; tail -5 "$T/out"; fail=1
  elif [ "$want" != 0 ] && [ $rc -eq 0 ]; then
    echo "FAIL: $what should have failed"; fail=1
  fi
  local left
  left=$(find "$T/tmp" -mindepth 1 | head -5)
  if [ -n "$left" ]; then
    echo "FAIL: $what left files in TMPDIR:"; echo "$left"; fail=1
    rm -rf "$T/tmp"
  else
    echo "ok: $what (exit $rc), nothing left"
  fi
}
run nonzero "probe: pass + fail + crash, forked" "$PROBE" suite
run nonzero "probe: pass + fail, CK_FORK=no" env CK_FORK=no "$PROBE" suite
run nonzero "probe: abort()" "$PROBE" abort
run nonzero "probe: exit(3)" "$PROBE" exit
for prog in "$@"; do
  run 0 "$(basename "$prog")" "$prog"
done
exit $fail
