#!/usr/bin/env bash
# Load test of the demo site (issue 6): gunicorn with several workers on
# 127.0.0.1 and a temporary instance folder, one registered and logged-in
# member with a few ratings, then wrk on the recommendation pages with that
# member's session cookie. Fails on any socket error, timeout, or answer
# other than 200 with movie cards (a 3xx would mean the session was lost),
# and on a worker timeout or traceback in the server log. Writes a report.
#
# Usage: scripts/load-test.sh
# Environment (all optional):
#   MOVIEME_LOAD_DURATION     wrk duration (default 30s)
#   MOVIEME_LOAD_CONNECTIONS  wrk connections (default 64)
#   MOVIEME_LOAD_THREADS      wrk threads (default 2)
#   MOVIEME_LOAD_WORKERS      gunicorn worker processes (default 4)
#   MOVIEME_LOAD_WORKER_THREADS  threads per worker (gthread; default 4)
#   MOVIEME_LOAD_REPORT       report file (default docs/load-test.md;
#                             "-" for none)
#   MOVIEME_DATA              MovieLens directory (default data/ml-latest-small)
#   MOVIEME_LOAD_PATHS        paths wrk rotates over (default: quick picks,
#                             full recommendations, three movie pages)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=/usr/bin/python3
DURATION=${MOVIEME_LOAD_DURATION:-30s}
CONNECTIONS=${MOVIEME_LOAD_CONNECTIONS:-64}
THREADS=${MOVIEME_LOAD_THREADS:-2}
WORKERS=${MOVIEME_LOAD_WORKERS:-4}
WTHREADS=${MOVIEME_LOAD_WORKER_THREADS:-4}
REPORT=${MOVIEME_LOAD_REPORT:-docs/load-test.md}
DATA=${MOVIEME_DATA:-$ROOT/data/ml-latest-small}

die() { echo "load-test: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
"$PY" -c 'import gunicorn' 2>/dev/null || die "gunicorn not found (apt-get install gunicorn)"
"$PY" -c 'import movieme' 2>/dev/null || die "the movieme binding is not importable (scripts/build.sh)"

TMP=$(mktemp -d /tmp/movieme-load.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
export MOVIEME_INSTANCE=$TMP/instance MOVIEME_DATA=$DATA MOVIEME_ENV=production \
       MOVIEME_WORKER_POLL=1 PYTHONUNBUFFERED=1
mkdir -p "$MOVIEME_INSTANCE"
cd examples/flask_demo

# Train the first model before the workers start (no worker trains at boot).
"$PY" -m flask_demo --init >"$TMP/init.log" 2>&1 || { cat "$TMP/init.log"; die "init failed"; }
GUNICORN=("$PY" -m gunicorn -w "$WORKERS" --threads "$WTHREADS" -b "127.0.0.1:$PORT"
          --timeout 60 'flask_demo:create_app()')
"${GUNICORN[@]}" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -fsS "$URL/api/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -50 "$TMP/server.log"; die "gunicorn exited"; }
  sleep 0.2
done
curl -fsS "$URL/api/health" >/dev/null || { tail -50 "$TMP/server.log"; die "site did not start"; }

# A member: register and log in through the forms (CSRF tokens), rate a few
# movies through the JSON API, wait for the first retrain (the background
# worker schedules one as soon as members have ratings) so that the full
# recommendations page has its 48, and print the session cookie.
COOKIE=$(LOAD_URL=$URL "$PY" - <<'EOF'
import http.client, json, os, re, sys, time, urllib.parse

url = urllib.parse.urlsplit(os.environ["LOAD_URL"])
cookies = {}

def call(method, path, body=None, ctype=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Cookie": "; ".join("%s=%s" % kv for kv in cookies.items())}
    if ctype:
        headers["Content-Type"] = ctype
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":     # Secure cookies too: taken as sent
            name, _, rest = v.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    c.close()
    return r.status, data

def form(path, fields):
    status, page = call("GET", path)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert status == 200 and token, (path, status)
    fields = dict(fields, csrf_token=token.group(1))
    return call("POST", path, urllib.parse.urlencode(fields),
                "application/x-www-form-urlencoded")

user, pw = "loadtest", "load test password 1"
status, _ = form("/register", {"username": user, "email": "load@example.org",
                               "password": pw, "confirm": pw})
assert status == 302, "register: %d" % status
cookies.clear()                       # a new visitor logs in
status, _ = form("/login", {"username": user, "password": pw})
assert status == 302, "login: %d" % status
for mid, r in ((318, 5), (858, 4.5), (2571, 5), (1196, 4), (593, 4.5), (296, 3), (1, 4), (4993, 5)):
    status, _ = call("PUT", "/api/ratings/%d" % mid, json.dumps({"rating": r}),
                     "application/json")
    assert status == 200, "rate %d: %d" % (mid, status)
deadline = time.time() + 300
while True:
    status, body = call("GET", "/api/recommendations")
    state = json.loads(body)
    if status == 200 and state["status"] == "ready" and len(state["results"]) == 48:
        break
    assert time.time() < deadline, "no full recommendations: %s" % body[:300]
    time.sleep(1)
status, body = call("GET", "/api/recommendations/quick")
assert status == 200 and len(json.loads(body)["results"]) == 12, body[:300]
print("session=%s" % cookies["session"])
EOF
) || { tail -50 "$TMP/server.log"; die "could not set up the member"; }

HEALTH=$(curl -fsS "$URL/api/health" | "$PY" -c 'import json, sys; h = json.load(sys.stdin); print("%d users (MovieLens + the member), %d movies, rank %d" % (h["model_users"], h["model_movies"], h["rank"]))')

# Quick picks, full recommendations, movie pages (with similar movies).
PATHS=${MOVIEME_LOAD_PATHS:-"/recommendations/quick /recommendations /movie/1 /recommendations/quick /recommendations /movie/2959 /recommendations/quick /recommendations /movie/79132"}
WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 10s
     -s "$ROOT/scripts/load-test.lua" "$URL")
echo "load-test: ${WRK[*]} (gunicorn: $WORKERS workers x $WTHREADS threads)"
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
# The quick path on its own: sequential requests of the member's quick
# picks, first on the idle site, then while wrk runs (queued behind its
# connections like any visitor's). Prints "n errors p50 p99 max" in ms.
sample_quick() {  # seconds count
  LOAD_URL=$URL LOAD_COOKIE=$COOKIE "$PY" - "$1" "$2" <<'PYEOF'
import http.client, os, sys, time, urllib.parse
url = urllib.parse.urlsplit(os.environ["LOAD_URL"])
until, count = time.monotonic() + float(sys.argv[1]), int(sys.argv[2])
ts, errors = [], 0
c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
while time.monotonic() < until or len(ts) + errors < count:
    t0 = time.perf_counter()
    try:
        c.request("GET", "/recommendations/quick",
                  headers={"Cookie": os.environ["LOAD_COOKIE"]})
        r = c.getresponse()
        body = r.read()
        ok = r.status == 200 and b"data-movie-id" in body
    except (OSError, http.client.HTTPException):
        ok = False
        c.close()
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    if ok:
        ts.append(time.perf_counter() - t0)
    else:
        errors += 1
ts.sort()
def q(p):
    return ts[min(len(ts) - 1, int(p * len(ts)))] * 1000 if ts else 0.0
print("%d %d %.1f %.1f %.1f" % (len(ts), errors, q(0.5), q(0.99), q(1.0)))
PYEOF
}
read -r QI_N QI_ERR QI_P50 QI_P99 QI_MAX < <(sample_quick 0 50)
[ -n "$QI_MAX" ] || die "the quick-path sampler failed"
secs=$("$PY" -c "import re, sys; m = re.fullmatch(r'(\d+)([smh]?)', sys.argv[1]); print(int(m.group(1)) * {'': 1, 's': 1, 'm': 60, 'h': 3600}[m.group(2)])" "$DURATION")
sample_quick "$(( secs > 4 ? secs - 2 : secs ))" 1 >"$TMP/quick.out" &
SAMPLER=$!
LOAD_COOKIE=$COOKIE LOAD_PATHS=$PATHS "${WRK[@]}" | tee "$TMP/wrk.out"
wait "$SAMPLER" || die "the quick-path sampler failed"
read -r QL_N QL_ERR QL_P50 QL_P99 QL_MAX <"$TMP/quick.out"
[ -n "$QL_MAX" ] || die "the quick-path sampler printed nothing"
echo "load-test: quick path alone: $QI_N requests, $QI_ERR errors, p50 $QI_P50 ms, p99 $QI_P99 ms; during the load: $QL_N requests, $QL_ERR errors, p50 $QL_P50 ms, p99 $QL_P99 ms, max $QL_MAX ms"

line=$(grep '^LOADTEST ' "$TMP/wrk.out") || die "no LOADTEST line in wrk's output"
declare -A R
for kv in ${line#LOADTEST }; do R[${kv%%=*}]=${kv#*=}; done
errors=$(( R[connect] + R[read] + R[write] + R[timeout] + R[not200] + R[empty] + QI_ERR + QL_ERR ))
rps=$("$PY" -c "print('%.1f' % (${R[requests]} / (${R[duration_us]} / 1e6)))")
ms() { "$PY" -c "print('%.1f' % ($1 / 1000.0))"; }
p50=$(ms "${R[p50_us]}"); p90=$(ms "${R[p90_us]}"); p99=$(ms "${R[p99_us]}"); pmax=$(ms "${R[max_us]}")
server_bad=$(grep -cE 'Traceback|WORKER TIMEOUT|\[ERROR\]' "$TMP/server.log" || true)
echo "load-test: ${R[requests]} requests, $errors errors, $rps req/s, p50 $p50 ms, p99 $p99 ms, max $pmax ms; server log problems: $server_bad"

if [ "$REPORT" != "-" ]; then
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem=$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  case $REPORT in /*) ;; *) REPORT=$ROOT/$REPORT ;; esac
  mkdir -p "$(dirname "$REPORT")"
  cat >"$REPORT" <<EOF
# Load test of the demo site

Produced by \`scripts/load-test.sh\` (issue 6) on $(date -u +%Y-%m-%d): the
site under gunicorn on 127.0.0.1, a logged-in member, wrk on the
recommendation pages. \`scripts/test.sh\` runs the same script for 15 s on
every test run and fails on any error.

## Command

\`\`\`sh
MOVIEME_LOAD_DURATION=$DURATION MOVIEME_LOAD_CONNECTIONS=$CONNECTIONS MOVIEME_LOAD_THREADS=$THREADS \\
  MOVIEME_LOAD_WORKERS=$WORKERS MOVIEME_LOAD_WORKER_THREADS=$WTHREADS scripts/load-test.sh
# which runs, after setting up the member (the port is a free one):
$(echo "${WRK[*]}" | sed "s|$ROOT/||g")
# against (in examples/flask_demo):
MOVIEME_ENV=production ${GUNICORN[*]:0:${#GUNICORN[@]}-1} '${GUNICORN[-1]}'
\`\`\`

- Data: $(basename "$DATA"); model: $HEALTH;
  SQLite in a temporary instance folder.
- Member: registered and logged in through the forms (CSRF tokens), 8
  ratings through the JSON API, then the first retrain (background worker)
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
load average $LOADAVG (1, 5, 15 min) just before the run.

## Result

| Requests | Errors | Throughput | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- | --- | --- |
| ${R[requests]} in $DURATION | $(( errors - QI_ERR - QL_ERR )) (connect ${R[connect]}, read ${R[read]}, write ${R[write]}, timeout ${R[timeout]}, not 200 ${R[not200]}, no cards ${R[empty]}) | $rps req/s | $p50 ms | $p90 ms | $p99 ms | $pmax ms |

The quick path on its own (sequential \`GET /recommendations/quick\` of the
same member on one connection; each is a fold into a worker's model and a
page render):

| When | Requests | Errors | p50 | p99 | max |
| --- | --- | --- | --- | --- | --- |
| idle site, before wrk | $QI_N | $QI_ERR | $QI_P50 ms | $QI_P99 ms | $QI_MAX ms |
| during wrk's $CONNECTIONS connections | $QL_N | $QL_ERR | $QL_P50 ms | $QL_P99 ms | $QL_MAX ms |

Reading the numbers: with all $CONNECTIONS connections always busy, latency
is mostly waiting in line. By Little's law $CONNECTIONS connections at
$rps req/s wait $(ms "$("$PY" -c "print($CONNECTIONS / ${rps} * 1e6)")") ms on average; wrk measured a
mean of $(ms "${R[mean_us]}") ms. The work itself is small: the idle quick path
above (the fold is about 0.15 ms of it; the rest is the session, the
database and the page), and about 25 ms for the 48-card full page, most of
it Jinja rendering (measured with the Flask test client and cProfile).

wrk's own summary:

\`\`\`
$(grep -v '^LOADTEST ' "$TMP/wrk.out")
\`\`\`
EOF
  echo "load-test: report in $REPORT"
fi

if [ "$errors" -ne 0 ] || [ "$server_bad" -ne 0 ]; then
  grep -E -B2 -A20 'Traceback|WORKER TIMEOUT|\[ERROR\]' "$TMP/server.log" | head -80 || true
  die "FAILED: $errors request errors, $server_bad server log problems"
fi
echo "load-test: passed"
