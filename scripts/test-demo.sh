#!/usr/bin/env bash
# Run the demo site's three test suites:
#   1. pytest + Flask test client on SQLite (plus the live-server fault test)
#   2. the same suite on a real PostgreSQL server started here, on 127.0.0.1,
#      in a temporary directory (Debian's postgresql 15 binaries)
#   3. headless Chromium driven by Selenium; screenshots in artifacts/screenshots/
#
# Usage: scripts/test-demo.sh [sqlite|postgres|browser ...]   (default: all three)
# Environment: REC_SKIP_BUILD=1 (do not build first), PG_BIN (PostgreSQL binaries),
#   MOVIEME_SCREENSHOTS (screenshot folder), PYTEST_ADDOPTS (extra pytest options).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=/usr/bin/python3
APP=examples/flask_demo
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(sqlite postgres browser)

if ! "$PY" -c 'import movieme' 2>/dev/null; then
  if [ "${REC_SKIP_BUILD:-0}" != 1 ] && [ -f scripts/build.sh ]; then bash scripts/build.sh; fi
fi
"$PY" -c 'import movieme' || { echo "test-demo: movieme binding not importable" >&2; exit 1; }

export MOVIEME_SCREENSHOTS=${MOVIEME_SCREENSHOTS:-$ROOT/artifacts/screenshots}
PYTEST=("$PY" -m pytest -q -p no:cacheprovider)
declare -A RESULT

run_sqlite() {
  (cd "$APP" && "${PYTEST[@]}" tests --ignore=tests/browser)
}

PGTMP=""
PG_CTL=""
stop_pg() {
  if [ -n "$PGTMP" ] && [ -d "$PGTMP/data" ]; then
    $PGRUN "$PG_BIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$PGTMP" ] && rm -rf "$PGTMP"
  PGTMP=""
}
trap stop_pg EXIT

run_postgres() {
  PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  [ -x "$PG_BIN/initdb" ] || { echo "test-demo: PostgreSQL binaries not found" >&2; return 1; }
  PGTMP=$(mktemp -d /tmp/movieme-pg.XXXXXX)
  PGRUN=""
  if [ "$(id -u)" -eq 0 ]; then          # initdb refuses root: run as postgres
    id postgres >/dev/null 2>&1 || { echo "test-demo: no 'postgres' user" >&2; return 1; }
    chown postgres "$PGTMP"
    PGRUN="runuser -u postgres --"
  fi
  local port
  port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  $PGRUN "$PG_BIN/initdb" -D "$PGTMP/data" -U movieme -A trust -E UTF8 --no-sync >"$PGTMP/initdb.log" 2>&1 \
    || { cat "$PGTMP/initdb.log"; return 1; }
  PG_CTL="$PGRUN $PG_BIN/pg_ctl -D $PGTMP/data -l $PGTMP/server.log -w"
  local opts="-c listen_addresses=127.0.0.1 -p $port -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  $PG_CTL -o "$opts" start >/dev/null
  $PGRUN "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U movieme movieme_test
  echo "test-demo: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PGTMP)"
  (cd "$APP" && \
   MOVIEME_TEST_DATABASE_URL="postgresql://movieme@127.0.0.1:$port/movieme_test" \
   MOVIEME_TEST_PG_STOP="$PG_CTL -m fast stop" \
   MOVIEME_TEST_PG_START="$PG_CTL -o '$opts' start" \
   "${PYTEST[@]}" tests --ignore=tests/browser)
  local rc=$?
  stop_pg
  return $rc
}

run_browser() {
  mkdir -p "$MOVIEME_SCREENSHOTS"
  (cd "$APP" && "${PYTEST[@]}" tests/browser) || return 1
  echo "test-demo: screenshots in $MOVIEME_SCREENSHOTS:"
  ls "$MOVIEME_SCREENSHOTS"
}

status=0
for suite in "${SUITES[@]}"; do
  echo "== demo suite: $suite"
  if "run_$suite"; then RESULT[$suite]=ok; else RESULT[$suite]=FAILED; status=1; fi
done
echo "== demo suites:"
for suite in "${SUITES[@]}"; do echo "   $suite: ${RESULT[$suite]}"; done
exit $status
