#!/usr/bin/env bash
# Start the MovieMe demo site on the bundled MovieLens data at http://127.0.0.1:5000
#
# Usage: scripts/run-demo.sh [--gunicorn]
#   --gunicorn          serve with gunicorn (4 workers) instead of Flask's server
# Environment (all optional; see examples/flask_demo/README.md):
#   MOVIEME_HOST/PORT   bind address (default 127.0.0.1:5000)
#   MOVIEME_DATA        MovieLens directory (default data/ml-latest-small)
#   MOVIEME_INSTANCE    instance folder: SQLite DB, model file, secret key
#                       (default examples/flask_demo/instance)
#   DATABASE_URL        e.g. postgresql://user:pw@127.0.0.1/movieme (default SQLite)
#   REC_SKIP_BUILD=1    do not install dependencies and build first
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=/usr/bin/python3

if [ "${REC_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/install-deps.sh   # a fresh Debian machine has none of them
  bash scripts/build.sh
fi
if ! "$PY" -c 'import movieme' 2>/dev/null; then
  echo "run-demo: the Python binding is not installed (run scripts/install-deps.sh and scripts/build.sh)" >&2
  exit 1
fi

export MOVIEME_DATA=${MOVIEME_DATA:-$ROOT/data/ml-latest-small}
export MOVIEME_HOST=${MOVIEME_HOST:-127.0.0.1}
export MOVIEME_PORT=${MOVIEME_PORT:-5000}
cd examples/flask_demo
echo "run-demo: MovieMe on http://$MOVIEME_HOST:$MOVIEME_PORT (data: $MOVIEME_DATA; Ctrl-C to stop)"
if [ "${1:-}" = "--gunicorn" ]; then
  # No --preload: each worker loads the model and the retrain worker after fork.
  exec gunicorn -w "${MOVIEME_WORKERS:-4}" -b "$MOVIEME_HOST:$MOVIEME_PORT" \
    --timeout 60 'flask_demo:create_app()'
fi
exec "$PY" -m flask_demo
