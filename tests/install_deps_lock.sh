#!/usr/bin/env bash
# scripts/install-deps.sh while another package manager holds the dpkg lock:
# apt-get must be asked to wait for the lock (DPkg::Lock::Timeout, bounded)
# on every call. A fake apt-get on PATH stands for a locked system: it fails
# at once, as the real one does, unless it was given a lock timeout, and
# records its arguments. Registered in CTest (tests/CMakeLists.txt).
# Usage: install_deps_lock.sh REPO
set -u
REPO=$1
FAKE=$(mktemp -d "${TMPDIR:-/tmp}/movieme-deps-XXXXXX")
trap 'rm -rf "$FAKE"' EXIT
cat >"$FAKE/dpkg-query" <<'SH'
#!/bin/sh
echo "unknown ok not-installed"
SH
cat >"$FAKE/id" <<'SH'
#!/bin/sh
echo 0
SH
cat >"$FAKE/apt-get" <<'SH'
#!/bin/sh
echo "$*" >>"$(dirname "$0")/calls"
case " $* " in
  *" DPkg::Lock::Timeout="[1-9]*) exit 0 ;;
esac
echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)" >&2
exit 100
SH
chmod +x "$FAKE"/*
fail=0
PATH="$FAKE:$PATH" APT_LOCK_TIMEOUT=7 bash "$REPO/scripts/install-deps.sh" >"$FAKE/out" 2>&1 || {
  echo "FAIL: install-deps.sh gave up on the lock:"; cat "$FAKE/out"; fail=1; }
touch "$FAKE/calls"
n=$(grep -c "DPkg::Lock::Timeout=7" "$FAKE/calls" || true)
total=$(wc -l <"$FAKE/calls")
echo "apt-get calls: $total, with the lock timeout: $n"
[ "$total" -ge 2 ] && [ "$n" -eq "$total" ] || { echo "FAIL: every apt-get call must wait for the lock"; cat "$FAKE/calls"; fail=1; }
# the scripts that install their own extra packages say the same
for s in fuzz.sh test-mpi.sh test-sanitizers.sh; do
  if grep -n "apt-get" "$REPO/scripts/$s" | grep -v "Lock::Timeout" | grep -q "install"; then
    echo "FAIL: scripts/$s calls apt-get install without a lock timeout"; fail=1
  fi
done
[ $fail -eq 0 ] && echo "ok: install-deps waits for the dpkg lock"
exit $fail
