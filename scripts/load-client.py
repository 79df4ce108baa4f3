#!/usr/bin/env python3
"""The client side of scripts/load-test.sh (everything but wrk itself).

    load-client.py member               register and log in a member through the
                                        forms (CSRF tokens), rate 8 movies through
                                        the JSON API, wait for 48 recommendations
                                        from a retrain that knew all 8 (not
                                        stale); print "session=..."
    load-client.py sample SECONDS COUNT sequential GET /recommendations/quick for
                                        SECONDS, at least COUNT requests; print
                                        "n errors p50 p99 max" (ms)
    load-client.py rerate SECONDS EVERY change one of the member's ratings every
                                        EVERY seconds for SECONDS (a write under
                                        load, and what makes the soak's retrains
                                        due); print "n errors"
    load-client.py rss PID SECONDS EVERY sample the resident memory of each child
                                        of PID (the gunicorn workers) every EVERY
                                        seconds for SECONDS; print "t pid kB cpu_s"
                                        lines (cpu_s: the worker's CPU time so far)
    load-client.py cpu PID              print the CPU seconds (user + system) the
                                        children of PID (the gunicorn workers)
                                        have used so far, summed
    load-client.py verdict FILE         read rss's lines: per worker the memory
                                        after the warm-up (the first fifth of the
                                        run, at least 30 s) and at the end; print
                                        "pid kB_start kB_warm kB_end growth_kB
                                        slope_kB_per_min restarted cpu_s" lines and
                                        exit 1 on clear growth (more than 4 MB and
                                        5% after the warm-up) or a worker replaced

Environment: LOAD_URL (the site), LOAD_COOKIE ("session=..."; not for member).
"""
import http.client
import json
import os
import re
import statistics
import sys
import time
import urllib.parse

MEMBER_RATINGS = ((318, 5), (858, 4.5), (2571, 5), (1196, 4), (593, 4.5), (296, 3),
                  (1, 4), (4993, 5))
GROWTH_KB, GROWTH_FRACTION = 4096, 0.05


class Client:
    def __init__(self, cookie=None):
        self.url = urllib.parse.urlsplit(os.environ["LOAD_URL"])
        self.cookies = {}
        if cookie:
            name, _, value = cookie.partition("=")
            self.cookies[name] = value

    def call(self, method, path, body=None, ctype=None):
        c = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
        headers = {"Cookie": "; ".join("%s=%s" % kv for kv in self.cookies.items())}
        if ctype:
            headers["Content-Type"] = ctype
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":     # Secure cookies too: taken as sent
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        c.close()
        return r.status, data

    def form(self, path, fields):
        status, page = self.call("GET", path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert status == 200 and token, (path, status)
        fields = dict(fields, csrf_token=token.group(1))
        return self.call("POST", path, urllib.parse.urlencode(fields),
                         "application/x-www-form-urlencoded")

    def rate(self, movie_id, rating):
        return self.call("PUT", "/api/ratings/%d" % movie_id,
                         json.dumps({"rating": rating}), "application/json")[0]


def member():
    c = Client()
    user, pw = "loadtest", "load test password 1"
    status, _ = c.form("/register", {"username": user, "email": "load@example.org",
                                     "password": pw, "confirm": pw})
    assert status == 302, "register: %d" % status
    c.cookies.clear()                     # a new visitor logs in
    status, _ = c.form("/login", {"username": user, "password": pw})
    assert status == 302, "login: %d" % status
    for mid, r in MEMBER_RATINGS:
        status = c.rate(mid, r)
        assert status == 200, "rate %d: %d" % (mid, status)
    deadline = time.time() + 300
    while True:
        status, body = c.call("GET", "/api/recommendations")
        state = json.loads(body)
        # a retrain may have run between the ratings: the next one has them all
        if status == 200 and state["status"] == "ready" and not state["stale"] \
                and len(state["results"]) == 48:
            break
        assert time.time() < deadline, "no full recommendations: %s" % body[:300]
        time.sleep(1)
    status, body = c.call("GET", "/api/recommendations/quick")
    assert status == 200 and len(json.loads(body)["results"]) == 12, body[:300]
    # a page with forms puts the CSRF token in the session, as a browser's
    # first page would: wrk replays the cookie as it is now, and without
    # the token every request would make a new one and a new cookie
    status, _ = c.call("GET", "/")
    assert status == 200, "home: %d" % status
    print("session=%s" % c.cookies["session"])


def sample(seconds, count):
    url = urllib.parse.urlsplit(os.environ["LOAD_URL"])
    until = time.monotonic() + float(seconds)
    ts, errors = [], 0
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    while time.monotonic() < until or len(ts) + errors < int(count):
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


def rerate(seconds, every):
    c = Client(os.environ["LOAD_COOKIE"])
    until = time.monotonic() + float(seconds)
    n = errors = 0
    movie, high = MEMBER_RATINGS[-1][0], True
    while time.monotonic() + float(every) <= until:
        time.sleep(float(every))
        high = not high
        try:
            ok = c.rate(movie, 5.0 if high else 4.5) == 200
        except (OSError, http.client.HTTPException):
            ok = False
        n += 1
        errors += not ok
    print("%d %d" % (n, errors))


def children(pid):
    """The processes whose parent is pid (from /proc/*/stat)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    stat = f.read()
            except OSError:
                continue
            # the field after the command (which may hold spaces) is the state
            try:
                parent = int(stat.rsplit(")", 1)[1].split()[1])
            except (IndexError, ValueError):   # gone while read
                continue
            if parent == pid:
                out.append(int(name))
    return sorted(out)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(pid, seconds, every):
    t0 = time.monotonic()
    while True:
        t = time.monotonic() - t0
        for child in children(int(pid)):
            kb = rss_kb(child)
            if kb is not None:
                print("%.0f %d %d %.1f" % (t, child, kb, cpu_seconds(child)), flush=True)
        if t + float(every) > float(seconds):
            break
        time.sleep(float(every))


def cpu(pid):
    print("%.2f" % sum(cpu_seconds(child) for child in children(int(pid))))


def verdict(path):
    series = {}
    with open(path) as f:
        for line in f:
            t, pid, kb, cpu = line.split()
            series.setdefault(int(pid), []).append((float(t), int(kb), float(cpu)))
    if not series:
        print("no samples")
        return 1
    end = max(t for s in series.values() for t, _, _ in s)
    warm = max(30.0, end / 5)
    first_seen = min(s[0][0] for s in series.values())
    bad = 0
    for pid, s in sorted(series.items()):
        after = [(t, kb) for t, kb, _ in s if t >= warm]
        cpu = s[-1][2] - s[0][2]
        # a worker that appears late or stops early was replaced (a restart)
        restarted = s[0][0] > first_seen + 1 or s[-1][0] < end - 1
        if len(after) < 4:
            print("%d %d %d %d 0 0.0 %d %.1f" % (pid, s[0][1], s[-1][1], s[-1][1],
                                                 restarted, cpu))
            bad += restarted
            continue
        base = statistics.median(kb for _, kb in after[:3])
        last = statistics.median(kb for _, kb in after[-3:])
        ts, kbs = [t for t, _ in after], [kb for _, kb in after]
        mt, mk = statistics.fmean(ts), statistics.fmean(kbs)
        slope = (sum((t - mt) * (k - mk) for t, k in after)
                 / max(1e-9, sum((t - mt) ** 2 for t in ts))) * 60
        growth = last - base
        print("%d %d %d %d %d %.1f %d %.1f" % (pid, s[0][1], base, last, growth, slope,
                                               restarted, cpu))
        bad += restarted or growth > max(GROWTH_KB, GROWTH_FRACTION * base)
    return 1 if bad else 0


def main(argv):
    commands = {"member": member, "sample": sample, "rerate": rerate, "rss": rss,
                "cpu": cpu, "verdict": verdict}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](*argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
