-- wrk script of scripts/load-test.sh: a logged-in member's session cookie
-- (LOAD_COOKIE) on every request, rotating over the paths in LOAD_PATHS
-- (space-separated). Every answer must be 200 with at least one movie card
-- (data-movie-id): a redirect would mean the session was lost, an empty
-- page that recommendations are missing. done() prints one LOADTEST line
-- that the shell script parses.
local cookie = os.getenv("LOAD_COOKIE") or ""
local paths = {}
for p in (os.getenv("LOAD_PATHS") or "/"):gmatch("%S+") do
  paths[#paths + 1] = p
end

-- LOAD_DELAY_MS > 0: each connection waits that long between its requests
-- (the soak's steady load); otherwise back to back.
local delay_ms = tonumber(os.getenv("LOAD_DELAY_MS") or "0") or 0
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Cookie"] = cookie
  i = id            -- threads start at different paths
  not200 = 0
  empty = 0
  ok = 0
end

function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end

function response(status, headers, body)
  if status ~= 200 then
    not200 = not200 + 1
  elseif not body:find("data-movie-id", 1, true) then
    empty = empty + 1
  else
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local n200, nempty, nok = 0, 0, 0
  for _, t in ipairs(threads) do
    n200 = n200 + t:get("not200")
    nempty = nempty + t:get("empty")
    nok = nok + t:get("ok")
  end
  local e = summary.errors
  io.write(string.format(
    "LOADTEST requests=%d duration_us=%d bytes=%d connect=%d read=%d " ..
    "write=%d status=%d timeout=%d not200=%d empty=%d ok=%d " ..
    "mean_us=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, n200, nempty, nok, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
