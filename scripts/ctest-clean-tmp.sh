#!/usr/bin/env bash
# Run CTest in a build directory with TMPDIR pointing to a fresh private
# directory, and fail if any test left something in it (tests clean up after
# themselves, also when they fail). Entries that appeared directly in /tmp
# during the run and are owned by us are listed too (the Lua tests' os.tmpname
# ignores TMPDIR): other processes of the same user may add some, so these
# are reported, and fail the run only when they carry a test's name prefix.
# Usage: scripts/ctest-clean-tmp.sh BUILD_DIR [ctest options...]
set -uo pipefail
BUILD=$1; shift
PRIV=$(mktemp -d "/tmp/movieme-ctest-XXXXXX")
MARK="$PRIV.mark"
touch "$MARK"
(cd "$BUILD" && TMPDIR="$PRIV" ctest "$@")
rc=$?
left=$(find "$PRIV" -mindepth 1 -maxdepth 2 | head -20)
new=$(find /tmp -mindepth 1 -maxdepth 1 -user "$(id -u)" -newer "$MARK" ! -path "$PRIV" 2>/dev/null | head -20)
rm -f "$MARK"
if [ -n "$left" ]; then
  echo "ctest-clean-tmp: FAIL: tests left files in TMPDIR ($PRIV):"
  echo "$left"
  rc=1
else
  echo "ctest-clean-tmp: nothing left in TMPDIR"
fi
if [ -n "$new" ]; then
  echo "ctest-clean-tmp: new in /tmp during the run (ours or another process's):"
  echo "$new"
  if echo "$new" | grep -qE "/(movieme-|lua_|pytest-of-)"; then
    echo "ctest-clean-tmp: FAIL: a test wrote to /tmp directly and left it"
    rc=1
  fi
fi
rm -rf "$PRIV"
exit $rc
