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

. scripts/pg-temp.sh            # pg_temp_start, pg_temp_stop
trap pg_temp_stop EXIT

run_postgres() {
  pg_temp_start movieme_test || return 1
  echo "test-demo: PostgreSQL $PG_VERSION at $PG_URL ($PGTMP)"
  (cd "$APP" && \
   MOVIEME_TEST_DATABASE_URL="$PG_URL" \
   MOVIEME_TEST_PG_STOP="$PG_CTL -m fast stop" \
   MOVIEME_TEST_PG_START="$PG_CTL -o '$PG_OPTS' start" \
   "${PYTEST[@]}" tests --ignore=tests/browser)
  local rc=$?
  pg_temp_stop
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
