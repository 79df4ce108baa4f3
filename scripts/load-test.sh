#!/usr/bin/env bash
# Load test of the demo site (issues 6 and 13): gunicorn with several workers
# on 127.0.0.1 and a temporary instance folder, one registered and logged-in
# member with a few ratings, then wrk on the recommendation pages with that
# member's session cookie; once on SQLite and once on PostgreSQL (a
# throwaway server on 127.0.0.1, scripts/pg-temp.sh). Fails on any socket
# error, timeout, or answer other than 200 with movie cards (a 3xx would
# mean the session was lost), and on a worker timeout or traceback in the
# server log. Writes a report.
#
# Soak mode (MOVIEME_LOAD_SOAK=SECONDS, e.g. 600): the same for SECONDS at
# fewer connections and a steady rate, while the member changes a rating
# every MOVIEME_LOAD_SOAK_RERATE seconds (each change brings a retrain, and
# every worker loads the new model), and the resident memory of each
# gunicorn worker is sampled every MOVIEME_LOAD_SOAK_EVERY seconds. Fails when a worker's memory grows after
# the warm-up (scripts/load-client.py verdict) or a worker is replaced.
# Not part of scripts/test.sh (ten minutes per database).
#
# Usage: scripts/load-test.sh
# Environment (all optional):
#   MOVIEME_LOAD_DB           databases, in turn (default "sqlite postgres")
#   MOVIEME_LOAD_DURATION     wrk duration per database (default 30s; soak: SOAK s)
#   MOVIEME_LOAD_CONNECTIONS  wrk connections (default 64; soak: 32)
#   MOVIEME_LOAD_DELAY        ms each connection waits between its requests
#                             (default 0: back to back; soak: 150)
#   MOVIEME_LOAD_THREADS      wrk threads (default 2)
#   MOVIEME_LOAD_WORKERS      gunicorn worker processes (default 4)
#   MOVIEME_LOAD_WORKER_THREADS  threads per worker (gthread; default 4)
#   MOVIEME_LOAD_GUNICORN_ARGS   more gunicorn options, for experiments (e.g.
#                             "--worker-connections 17"; default none)
#   MOVIEME_LOAD_REPORT       report file (default docs/load-test.md, soak:
#                             docs/load-soak.md; "-" for none)
#   MOVIEME_LOAD_APP          the flask_demo folder to serve (default this
#                             checkout's), e.g. another version's, to compare
#   MOVIEME_DATA              MovieLens directory (default data/ml-latest-small)
#   MOVIEME_LOAD_PATHS        paths wrk rotates over (default: quick picks,
#                             full recommendations, three movie pages)
#   MOVIEME_LOAD_SOAK, MOVIEME_LOAD_SOAK_EVERY (10), MOVIEME_LOAD_SOAK_RERATE
#                             (60; 0: none): soak mode
#   PG_BIN                    PostgreSQL binaries (scripts/pg-temp.sh)
set -Eeuo pipefail
# a failing command stops the run (set -e): say which
trap 'echo "load-test: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=/usr/bin/python3
SOAK=${MOVIEME_LOAD_SOAK:-0}
[[ $SOAK =~ ^[0-9]+$ ]] || { echo "load-test: MOVIEME_LOAD_SOAK must be seconds" >&2; exit 2; }
if [ "$SOAK" -gt 0 ]; then
  DURATION=${MOVIEME_LOAD_DURATION:-${SOAK}s}
  CONNECTIONS=${MOVIEME_LOAD_CONNECTIONS:-32}
  DELAY=${MOVIEME_LOAD_DELAY:-150}
  REPORT=${MOVIEME_LOAD_REPORT:-docs/load-soak.md}
else
  DURATION=${MOVIEME_LOAD_DURATION:-30s}
  CONNECTIONS=${MOVIEME_LOAD_CONNECTIONS:-64}
  DELAY=${MOVIEME_LOAD_DELAY:-0}
  REPORT=${MOVIEME_LOAD_REPORT:-docs/load-test.md}
fi
SOAK_EVERY=${MOVIEME_LOAD_SOAK_EVERY:-10}
SOAK_RERATE=${MOVIEME_LOAD_SOAK_RERATE:-60}
THREADS=${MOVIEME_LOAD_THREADS:-2}
WORKERS=${MOVIEME_LOAD_WORKERS:-4}
WTHREADS=${MOVIEME_LOAD_WORKER_THREADS:-4}
DBS=${MOVIEME_LOAD_DB:-sqlite postgres}
APP=$(cd "${MOVIEME_LOAD_APP:-$ROOT/examples/flask_demo}" && pwd)
DATA=${MOVIEME_DATA:-$ROOT/data/ml-latest-small}
CLIENT=("$PY" "$ROOT/scripts/load-client.py")
# Quick picks, full recommendations, movie pages (with similar movies).
PATHS=${MOVIEME_LOAD_PATHS:-"/recommendations/quick /recommendations /movie/1 /recommendations/quick /recommendations /movie/2959 /recommendations/quick /recommendations /movie/79132"}

die() { echo "load-test: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
"$PY" -c 'import gunicorn' 2>/dev/null || die "gunicorn not found (apt-get install gunicorn)"
"$PY" -c 'import movieme' 2>/dev/null || die "the movieme binding is not importable (scripts/build.sh)"
for db in $DBS; do
  case $db in
    sqlite) ;;
    postgres) "$PY" -c 'import psycopg2' 2>/dev/null || die "psycopg2 not found (apt-get install python3-psycopg2)" ;;
    *) die "MOVIEME_LOAD_DB: unknown database '$db' (sqlite, postgres)" ;;
  esac
done
secs=$("$PY" -c "import re, sys; m = re.fullmatch(r'(\d+)([smh]?)', sys.argv[1]); print(int(m.group(1)) * {'': 1, 's': 1, 'm': 60, 'h': 3600}[m.group(2)])" "$DURATION") \
  || die "MOVIEME_LOAD_DURATION: '$DURATION' is not a duration (30, 30s, 10m)"

. scripts/pg-temp.sh            # pg_temp_start, pg_temp_stop
TMPROOT=$(mktemp -d /tmp/movieme-load.XXXXXX)
SERVER_PID=""
BACKGROUND=()
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  for pid in "${BACKGROUND[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_server
  pg_temp_stop
  rm -rf "$TMPROOT"
}
trap cleanup EXIT

declare -A V           # results: V[db:name]
ms() { "$PY" -c "print('%.1f' % ($1 / 1000.0))"; }

# One database: a fresh instance, gunicorn, the member, wrk (and in soak
# mode the memory sampler and the re-rating member). Results go to V.
run_db() {
  local db=$1 dir=$TMPROOT/$1 port url cookie line errors
  mkdir -p "$dir/instance"
  unset DATABASE_URL
  if [ "$db" = postgres ]; then
    pg_temp_start movieme_load || die "PostgreSQL did not start"
    export DATABASE_URL=$PG_URL
    V[$db:database]="PostgreSQL $PG_VERSION on 127.0.0.1 (fsync off), psycopg2"
  else
    V[$db:database]="SQLite (WAL) in the instance folder"
  fi
  port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port
  # A retrain as soon as a rating is new (MOVIEME_RETRAIN_MIN_RATINGS=1): one
  # that ran between the member's first ratings is followed by one with all
  # of them, and in the soak each change of a rating brings one.
  export MOVIEME_INSTANCE=$dir/instance MOVIEME_DATA=$DATA MOVIEME_ENV=production \
         MOVIEME_WORKER_POLL=1 MOVIEME_RETRAIN_MIN_RATINGS=1 PYTHONUNBUFFERED=1
  # The first model (MovieLens only) is the same for every database: train
  # it once, before the workers start (no worker trains at boot).
  [ -f "$TMPROOT/base-model.bin" ] && cp "$TMPROOT/base-model.bin" "$MOVIEME_INSTANCE/model.bin"
  (cd "$APP" && "$PY" -m flask_demo --init) >"$dir/init.log" 2>&1 \
    || { cat "$dir/init.log"; die "$db: init failed"; }
  [ -f "$TMPROOT/base-model.bin" ] || cp "$MOVIEME_INSTANCE/model.bin" "$TMPROOT/base-model.bin"
  # shellcheck disable=SC2206  # the extra options split on spaces
  GUNICORN=("$PY" -m gunicorn -w "$WORKERS" --threads "$WTHREADS" -b "127.0.0.1:$port"
            --timeout 60 ${MOVIEME_LOAD_GUNICORN_ARGS:-} 'flask_demo:create_app()')
  (cd "$APP" && exec "${GUNICORN[@]}") >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    curl -fsS "$url/api/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -50 "$dir/server.log"; die "$db: gunicorn exited"; }
    sleep 0.2
  done
  curl -fsS "$url/api/health" >/dev/null || { tail -50 "$dir/server.log"; die "$db: site did not start"; }
  export LOAD_URL=$url
  cookie=$("${CLIENT[@]}" member) || { tail -50 "$dir/server.log"; die "$db: could not set up the member"; }
  export LOAD_COOKIE=$cookie
  V[$db:model]=$(curl -fsS "$url/api/health" | "$PY" -c 'import json, sys; h = json.load(sys.stdin); print("%d users (MovieLens + the member), %d movies, rank %d" % (h["model_users"], h["model_movies"], h["rank"]))')

  WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 10s
       -s "$ROOT/scripts/load-test.lua" "$url")
  echo "load-test: $db: ${WRK[*]} (gunicorn: $WORKERS workers x $WTHREADS threads)"
  # for the report: repository paths, no port
  WRK_SHOWN=$(echo "${WRK[*]}" | sed "s|$ROOT/||g; s|127.0.0.1:[0-9]*|127.0.0.1:PORT|")
  GUNICORN_SHOWN=$(echo "${GUNICORN[*]:0:${#GUNICORN[@]}-1} '${GUNICORN[-1]}'" | sed "s|127.0.0.1:[0-9]*|127.0.0.1:PORT|")
  V[$db:loadavg]=$(cut -d' ' -f1-3 /proc/loadavg)
  # The quick path on its own: sequential requests of the member's quick
  # picks, first on the idle site, then while wrk runs (queued behind its
  # connections like any visitor's).
  read -r "V[$db:qi_n]" "V[$db:qi_err]" "V[$db:qi_p50]" "V[$db:qi_p99]" "V[$db:qi_max]" \
    < <("${CLIENT[@]}" sample 0 50) || true
  [ -n "${V[$db:qi_max]}" ] || die "$db: the quick-path sampler failed"
  BACKGROUND=()
  "${CLIENT[@]}" sample "$(( secs > 4 ? secs - 2 : secs ))" 1 >"$dir/quick.out" &
  BACKGROUND+=($!)
  if [ "$SOAK" -gt 0 ]; then
    "${CLIENT[@]}" rss "$SERVER_PID" "$secs" "$SOAK_EVERY" >"$dir/rss.txt" &
    BACKGROUND+=($!)
    if [ "$SOAK_RERATE" -gt 0 ]; then
      "${CLIENT[@]}" rerate "$secs" "$SOAK_RERATE" >"$dir/rerate.out" &
      BACKGROUND+=($!)
    fi
  fi
  # which worker holds which of wrk's connections (they stay open): gunicorn
  # leaves the choice to whichever worker accepts first
  (sleep 2; ss -Htnp state established "( sport = :$port )" >"$dir/conns.txt" 2>/dev/null || true) &
  BACKGROUND+=($!)
  cpu_before=$("${CLIENT[@]}" cpu "$SERVER_PID") || cpu_before=""
  LOAD_PATHS=$PATHS LOAD_DELAY_MS=$DELAY "${WRK[@]}" | tee "$dir/wrk.out"
  for pid in "${BACKGROUND[@]}"; do wait "$pid" || die "$db: a sampler failed"; done
  BACKGROUND=()
  cpu_after=$("${CLIENT[@]}" cpu "$SERVER_PID") || cpu_after=""
  read -r "V[$db:ql_n]" "V[$db:ql_err]" "V[$db:ql_p50]" "V[$db:ql_p99]" "V[$db:ql_max]" \
    <"$dir/quick.out" || true
  [ -n "${V[$db:ql_max]}" ] || die "$db: the quick-path sampler printed nothing"
  echo "load-test: $db: quick path alone: ${V[$db:qi_n]} requests, ${V[$db:qi_err]} errors, p50 ${V[$db:qi_p50]} ms, p99 ${V[$db:qi_p99]} ms; during the load: ${V[$db:ql_n]} requests, ${V[$db:ql_err]} errors, p50 ${V[$db:ql_p50]} ms, p99 ${V[$db:ql_p99]} ms, max ${V[$db:ql_max]} ms"

  line=$(grep '^LOADTEST ' "$dir/wrk.out") || die "$db: no LOADTEST line in wrk's output"
  declare -A R
  for kv in ${line#LOADTEST }; do R[${kv%%=*}]=${kv#*=}; done
  errors=$(( R[connect] + R[read] + R[write] + R[timeout] + R[not200] + R[empty] ))
  V[$db:requests]=${R[requests]}
  V[$db:wrk_errors]=$errors
  V[$db:error_kinds]="connect ${R[connect]}, read ${R[read]}, write ${R[write]}, timeout ${R[timeout]}, not 200 ${R[not200]}, no cards ${R[empty]}"
  V[$db:errors]=$(( errors + ${V[$db:qi_err]} + ${V[$db:ql_err]} ))
  V[$db:rps]=$("$PY" -c "print('%.1f' % (${R[requests]} / (${R[duration_us]} / 1e6)))")
  V[$db:p50]=$(ms "${R[p50_us]}"); V[$db:p90]=$(ms "${R[p90_us]}")
  V[$db:p99]=$(ms "${R[p99_us]}"); V[$db:max]=$(ms "${R[max_us]}"); V[$db:mean]=$(ms "${R[mean_us]}")
  # the workers' CPU time per answer (wrk's and the sampler's): what a
  # request costs, whatever else the machine runs
  V[$db:cpu_ms]=$("$PY" -c "import sys; a, b, n = sys.argv[1:]; print('%.2f' % ((float(a) - float(b)) * 1000 / max(1, int(n))) if a and b else '?')" \
    "$cpu_after" "$cpu_before" "$(( R[requests] + ${V[$db:ql_n]:-0} ))") || V[$db:cpu_ms]="?"
  V[$db:little]=$(ms "$("$PY" -c "print($CONNECTIONS / ${V[$db:rps]} * 1e6)")")
  V[$db:wrk_summary]=$(grep -v '^LOADTEST ' "$dir/wrk.out")
  V[$db:server_bad]=$(grep -cE 'Traceback|WORKER TIMEOUT|\[ERROR\]' "$dir/server.log" || true)
  # none seen is possible (no keep-alive: each connection lives one request)
  V[$db:conns]=$(grep -o 'pid=[0-9]*' "$dir/conns.txt" 2>/dev/null | sort | uniq -c | sort -rn | awk '{printf "%s%d", (NR > 1 ? ", " : ""), $1}') || true
  echo "load-test: $db: ${R[requests]} requests, ${V[$db:errors]} errors, ${V[$db:rps]} req/s, p50 ${V[$db:p50]} ms, p99 ${V[$db:p99]} ms, max ${V[$db:max]} ms, worker CPU ${V[$db:cpu_ms]} ms per request; load average ${V[$db:loadavg]}; server log problems: ${V[$db:server_bad]}; wrk's connections per worker: ${V[$db:conns]:-?}"
  if [ "$SOAK" -gt 0 ]; then
    V[$db:retrains]=$(grep -c 'retrain job [0-9]* done' "$dir/server.log" || true)
    V[$db:reloads]=$(grep -c 'reloaded model file' "$dir/server.log" || true)
    V[$db:rerates]=$( [ -f "$dir/rerate.out" ] && cat "$dir/rerate.out" || echo "0 0")
    read -r n bad <<<"${V[$db:rerates]}"
    V[$db:errors]=$(( ${V[$db:errors]} + bad ))
    if "${CLIENT[@]}" verdict "$dir/rss.txt" >"$dir/verdict.out"; then V[$db:memory]=flat; else V[$db:memory]=GROWS; fi
    V[$db:verdict]=$(cat "$dir/verdict.out")
    V[$db:rss_table]=$(memory_table "$dir/rss.txt")
    echo "load-test: $db: memory per worker (pid, kB at start, after the warm-up, at the end, growth, kB/min, replaced, CPU s): $(tr '\n' ';' <"$dir/verdict.out") -> ${V[$db:memory]}; $n re-ratings ($bad errors), ${V[$db:retrains]} retrains, ${V[$db:reloads]} model reloads"
  fi
  if [ "${V[$db:errors]}" -ne 0 ] || [ "${V[$db:server_bad]}" -ne 0 ]; then
    grep -E -B2 -A20 'Traceback|WORKER TIMEOUT|\[ERROR\]' "$dir/server.log" | head -80 || true
  fi
  stop_server
  pg_temp_stop
}

# The sampled memory as a markdown table: one row a minute (and the last),
# one column per worker, MB.
memory_table() {
  "$PY" - "$1" <<'PYEOF'
import sys
rows, pids = {}, []
for line in open(sys.argv[1]):
    t, pid, kb, _ = line.split()
    rows.setdefault(float(t), {})[pid] = int(kb)
    if pid not in pids:
        pids.append(pid)
times = sorted(rows)
keep = [t for i, t in enumerate(times)
        if i in (0, len(times) - 1) or int(t // 60) != int(times[i - 1] // 60)]
print("| time | " + " | ".join("worker %s" % p for p in pids) + " |")
print("| --- |" + " --- |" * len(pids))
for t in keep:
    print("| %d s | " % t + " | ".join("%.1f MB" % (rows[t][p] / 1024) if p in rows[t] else "-"
                                       for p in pids) + " |")
PYEOF
}

for db in $DBS; do run_db "$db"; done

write_report() {
  local cpu mem os site first=${DBS%% *} SOAK_PREFIX=""
  [ "$SOAK" -gt 0 ] && SOAK_PREFIX="MOVIEME_LOAD_SOAK=$SOAK MOVIEME_LOAD_SOAK_EVERY=$SOAK_EVERY MOVIEME_LOAD_SOAK_RERATE=$SOAK_RERATE \\
  "
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem=$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  site=${APP#"$ROOT"/}
  if git -C "$APP" rev-parse --short HEAD >/dev/null 2>&1; then
    site="$site at $(git -C "$APP" rev-parse --short HEAD)$(git -C "$APP" diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)')"
  fi
  case $REPORT in /*) ;; *) REPORT=$ROOT/$REPORT ;; esac
  mkdir -p "$(dirname "$REPORT")"
  {
  if [ "$SOAK" -gt 0 ]; then
    echo "# Soak test of the demo site"
    echo
    echo "Produced by \`MOVIEME_LOAD_SOAK=$SOAK scripts/load-test.sh\` (issue 13) on $(date -u +%Y-%m-%d):"
    echo "the load test of [load-test.md](load-test.md) for $DURATION per database at"
    echo "$CONNECTIONS connections, each waiting $DELAY ms between its requests (a steady"
    echo "load, not the most the machine gives), while the member changes a rating every ${SOAK_RERATE} s"
    echo "(each change brings a retrain, and every worker loads the new model file),"
    echo "and the resident memory (VmRSS) of each gunicorn worker is"
    echo "sampled every ${SOAK_EVERY} s. A worker's memory counts as flat when, after the"
    echo "warm-up (the first fifth of the run, at least 30 s), it grows by less than"
    echo "4 MB or 5% (median of the first three samples after the warm-up against"
    echo "the last three); a worker replaced during the run also fails it. Not run"
    echo "by \`scripts/test.sh\` (ten minutes per database)."
  else
    echo "# Load test of the demo site"
    echo
    echo "Produced by \`scripts/load-test.sh\` (issues 6 and 13) on $(date -u +%Y-%m-%d): the"
    echo "site under gunicorn on 127.0.0.1, a logged-in member, wrk on the"
    echo "recommendation pages, once on SQLite and once on PostgreSQL."
    echo "\`scripts/test.sh\` runs the same script for 15 s per database on every"
    echo "test run and fails on any error. What a request costs and what was"
    echo "changed to make it cheaper: [load-profile.md](load-profile.md); memory"
    echo "over ten minutes: [load-soak.md](load-soak.md)."
  fi
  cat <<EOF

## Command

\`\`\`sh
${SOAK_PREFIX}MOVIEME_LOAD_DB="$DBS" MOVIEME_LOAD_DURATION=$DURATION MOVIEME_LOAD_CONNECTIONS=$CONNECTIONS MOVIEME_LOAD_DELAY=$DELAY \\
  MOVIEME_LOAD_THREADS=$THREADS MOVIEME_LOAD_WORKERS=$WORKERS MOVIEME_LOAD_WORKER_THREADS=$WTHREADS scripts/load-test.sh
# which runs, for each database, after setting up the member (PORT: a free one):
$WRK_SHOWN
# against (in ${APP#"$ROOT"/}; with DATABASE_URL=postgresql://... for PostgreSQL):
MOVIEME_ENV=production $GUNICORN_SHOWN
\`\`\`

- Site: $site. Data: $(basename "$DATA"); model: ${V[$first:model]}.
- Databases: $(for db in $DBS; do printf '%s: %s; ' "$db" "${V[$db:database]}"; done | sed 's/; $//').
- Member: registered and logged in through the forms (CSRF tokens), 8
  ratings through the JSON API, then a retrain that has all of them
  (background worker; the server runs with MOVIEME_RETRAIN_MIN_RATINGS=1)
  so the full recommendations exist; wrk sends that member's session cookie.
- Paths, in rotation (\`scripts/load-test.lua\`): \`/recommendations/quick\`
  (12 picks: the member folded into the worker's model, \`remove_user\` +
  \`add_user\` + \`top_n\`, on every request), \`/recommendations\` (the 48
  stored by the retrain), \`/movie/<id>\` for 1, 2959, 79132 (details and 12
  similar movies).
- Every answer must be 200 and show movie cards; a redirect (lost session),
  a socket error or timeout, or a traceback/worker timeout in the server
  log fails the run.

## Machine

$cpu, $(nproc) cores, $mem RAM, $os, kernel $(uname -r).
wrk and the server on the same machine, which was shared with other work:
load average just before each run (1, 5, 15 min): $(for db in $DBS; do printf '%s %s; ' "$db" "${V[$db:loadavg]}"; done | sed 's/; $//').

## Result

| Database | Requests | Errors | Throughput | p50 | p90 | p99 | max | worker CPU per request |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(for db in $DBS; do echo "| $db | ${V[$db:requests]} in $DURATION | ${V[$db:wrk_errors]} (${V[$db:error_kinds]}) | ${V[$db:rps]} req/s | ${V[$db:p50]} ms | ${V[$db:p90]} ms | ${V[$db:p99]} ms | ${V[$db:max]} ms | ${V[$db:cpu_ms]} ms |"; done)

The quick path on its own (sequential \`GET /recommendations/quick\` of the
same member on one connection; each is a fold into a worker's model and a
page render):

| Database | When | Requests | Errors | p50 | p99 | max |
| --- | --- | --- | --- | --- | --- | --- |
$(for db in $DBS; do
  echo "| $db | idle site, before wrk | ${V[$db:qi_n]} | ${V[$db:qi_err]} | ${V[$db:qi_p50]} ms | ${V[$db:qi_p99]} ms | ${V[$db:qi_max]} ms |"
  echo "| $db | during wrk's $CONNECTIONS connections | ${V[$db:ql_n]} | ${V[$db:ql_err]} | ${V[$db:ql_p50]} ms | ${V[$db:ql_p99]} ms | ${V[$db:ql_max]} ms |"
done)

Reading the numbers: with all $CONNECTIONS connections always busy, latency
is mostly waiting in line. By Little's law $CONNECTIONS connections wait
$(for db in $DBS; do printf '%s ms on %s (wrk measured a mean of %s ms), ' "${V[$db:little]}" "$db" "${V[$db:mean]}"; done | sed 's/, $//')
on average at the measured throughput. The line is not the same for
everyone: wrk's connections stay open, and each belongs to the gunicorn
worker that accepted it, whichever woke first. Connections per worker
(\`ss\`, 2 s into the run): $(for db in $DBS; do printf '%s %s; ' "$db" "${V[$db:conns]:-not sampled}"; done | sed 's/; $//').
A worker with more of them answers each later, which is most of the p99.
EOF
  if [ "$SOAK" -eq 0 ] && [ -f "$ROOT/docs/load-compare.md" ]; then
    # written by bench/compare_load.py --out docs/load-compare.md
    echo
    echo "## Before and after"
    echo
    echo "From [load-compare.md](load-compare.md):"
    echo
    cat "$ROOT/docs/load-compare.md"
  fi
  if [ "$SOAK" -gt 0 ]; then
    echo
    echo "## Memory per worker"
    for db in $DBS; do
      read -r n bad <<<"${V[$db:rerates]}"
      echo
      echo "### $db: ${V[$db:memory]}"
      echo
      echo "$n rating changes during the run ($bad errors), ${V[$db:retrains]} retrains, ${V[$db:reloads]} model reloads by the workers."
      echo
      echo "| worker | CPU used | at start | after the warm-up | at the end | growth after the warm-up | trend after the warm-up |"
      echo "| --- | --- | --- | --- | --- | --- | --- |"
      while read -r pid start warm end growth slope restarted cpu; do
        echo "| $pid$( [ "$restarted" = 1 ] && echo ' (replaced)') | $cpu s | $("$PY" -c "print('%.1f' % ($start / 1024))") MB | $("$PY" -c "print('%.1f' % ($warm / 1024))") MB | $("$PY" -c "print('%.1f' % ($end / 1024))") MB | $("$PY" -c "print('%+.1f' % ($growth / 1024))") MB | $("$PY" -c "print('%+.2f' % ($slope / 1024))") MB/min |"
      done <<<"${V[$db:verdict]}"
      echo
      echo "${V[$db:rss_table]}"
    done
  fi
  echo
  echo "wrk's own summaries:"
  for db in $DBS; do
    echo
    echo "$db:"
    echo
    echo '```'
    echo "${V[$db:wrk_summary]}"
    echo '```'
  done
  } >"$REPORT"
  echo "load-test: report in $REPORT"
}
[ "$REPORT" != "-" ] && write_report

failed=""
for db in $DBS; do
  if [ "${V[$db:errors]}" -ne 0 ] || [ "${V[$db:server_bad]}" -ne 0 ]; then
    failed="$failed $db: ${V[$db:errors]} request errors, ${V[$db:server_bad]} server log problems;"
  fi
  if [ "$SOAK" -gt 0 ] && [ "${V[$db:memory]}" != flat ]; then
    failed="$failed $db: a worker's memory grew or a worker was replaced;"
  fi
done
[ -z "$failed" ] || die "FAILED:$failed"
echo "load-test: passed"
