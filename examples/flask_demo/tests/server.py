"""Run the site as a real server process on a free 127.0.0.1 port (for the
fault tests and the browser test)."""
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, instance, env=None, port=None):
        self.instance = instance
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = dict(os.environ, MOVIEME_INSTANCE=instance, MOVIEME_HOST="127.0.0.1",
                        MOVIEME_PORT=str(self.port), MOVIEME_ENV="development",
                        # the live-server tests compare models with trainings
                        # of the configured parameters (test_tuning tunes)
                        MOVIEME_TUNE="0", PYTHONUNBUFFERED="1")
        self.env.update(env or {})
        self.proc = None
        self.log_path = os.path.join(instance, "server-%d.log" % self.port)

    def start(self, timeout=120, gunicorn_workers=0):
        """Start `python3 -m flask_demo`, or gunicorn with that many workers."""
        os.makedirs(self.instance, exist_ok=True)
        self.log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "flask_demo"]
        if gunicorn_workers:
            cmd = [sys.executable, "-m", "gunicorn", "-w", str(gunicorn_workers),
                   "-b", "127.0.0.1:%d" % self.port, "flask_demo:create_app()"]
        self.proc = subprocess.Popen(cmd, cwd=APP_DIR, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: %s" % self.read_log()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start: %s" % self.read_log()[-3000:])

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        """SIGKILL: no cleanup at all, as a crash or an OOM kill."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)   # its own session: workers too
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()


class Browserless:
    """A cookie-keeping HTTP client for a live server (no external libs)."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method, path, body=None, form=None):
        data, headers = None, {}
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def json(self, method, path, body=None):
        status, text = self.request(method, path, body=body if body is not None else (
            {} if method != "GET" else None))
        return status, json.loads(text) if text else None

    def register(self, username, password="correct horse"):
        status, page = self.request("GET", "/register")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        return self.request("POST", "/register", form={
            "csrf_token": token, "username": username, "email": username + "@example.org",
            "password": password, "confirm": password})
