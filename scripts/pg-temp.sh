# A throwaway PostgreSQL server on 127.0.0.1 for the demo's tests, sourced
# by scripts/test-demo.sh and scripts/load-test.sh (not run on its own).
#
#   pg_temp_start DBNAME  initdb in a new /tmp/movieme-pg.* directory (as the
#                         'postgres' user when run as root: initdb refuses
#                         root), start it on a free port with fsync off (test
#                         data only), create DBNAME (owner movieme, trust
#                         auth). Sets PG_URL (postgresql://movieme@127.0.0.1:
#                         PORT/DBNAME), PG_CTL (pg_ctl with -D, -l, -w: add
#                         "-m fast stop" or "-o \"$PG_OPTS\" start"),
#                         PG_OPTS, PG_VERSION, PGTMP (its directory).
#   pg_temp_stop          stop it (immediate) and remove the directory; safe
#                         to call when none runs, so it can be the EXIT trap.
# Environment: PG_BIN (PostgreSQL binaries; default: the newest
# /usr/lib/postgresql/*/bin), PY (python3 used to pick a free port).

PGTMP=""
PG_CTL=""
PGRUN=""

pg_temp_start() {
  local db=$1 port
  PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  [ -x "$PG_BIN/initdb" ] || { echo "pg-temp: PostgreSQL binaries not found (PG_BIN)" >&2; return 1; }
  PGTMP=$(mktemp -d /tmp/movieme-pg.XXXXXX)
  PGRUN=""
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg-temp: no 'postgres' user" >&2; return 1; }
    chown postgres "$PGTMP"
    PGRUN="runuser -u postgres --"
  fi
  port=$("${PY:-/usr/bin/python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  $PGRUN "$PG_BIN/initdb" -D "$PGTMP/data" -U movieme -A trust -E UTF8 --no-sync >"$PGTMP/initdb.log" 2>&1 \
    || { cat "$PGTMP/initdb.log" >&2; return 1; }
  PG_CTL="$PGRUN $PG_BIN/pg_ctl -D $PGTMP/data -l $PGTMP/server.log -w"
  PG_OPTS="-c listen_addresses=127.0.0.1 -p $port -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  $PG_CTL -o "$PG_OPTS" start >/dev/null || { cat "$PGTMP/server.log" >&2; return 1; }
  $PGRUN "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U movieme "$db" || return 1
  PG_VERSION=$("$PG_BIN/postgres" --version | awk '{print $3}')
  PG_URL="postgresql://movieme@127.0.0.1:$port/$db"
}

pg_temp_stop() {
  if [ -n "$PGTMP" ] && [ -d "$PGTMP/data" ]; then
    $PGRUN "$PG_BIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$PGTMP" ] && rm -rf "$PGTMP"
  PGTMP=""
}
