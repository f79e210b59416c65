"""A `sentinel run --admin --workload` on loopback for the dashboard's browser
test, its screenshots and its idle-cost harness.

    with live_sentinel.LiveSentinel(path_to_sentinel) as sentinel:
        sentinel.url                              # http://127.0.0.1:PORT
        sentinel.get("/v1/status")                # JSON, with alice's token
        sentinel.command("automation.freeze", reason="why")
        sentinel.restart()                        # same port, same tokens

It runs the fixture in fixtures/dashboard (two simulated pipelines and three
scripts on the real clock), with two random tokens: `alice` may run every
command, `viewer` only reads. Everything it writes is in a temporary folder
that is removed at the end; the process is ended (SIGTERM, then SIGKILL) in
every case.
"""
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "dashboard")
START_TIMEOUT = 30  # seconds until `admin listening on` is printed
STOP_TIMEOUT = 10  # seconds for a graceful stop before SIGKILL
REQUEST_TIMEOUT = 10


class LiveSentinel:
    def __init__(self, sentinel, instance="dashboard-test"):
        self.sentinel = os.path.abspath(sentinel)
        self.instance = instance
        self.alice = secrets.token_hex(16)
        self.viewer = secrets.token_hex(16)
        self.folder = None
        self.process = None
        self.url = None
        self.port = 0

    def __enter__(self):
        self.folder = tempfile.mkdtemp(prefix="sentinel-dashboard-")
        with open(os.path.join(self.folder, "tokens.yaml"), "w") as tokens:
            tokens.write("tokens:\n")
            for identity, token in (("alice", self.alice), ("viewer", self.viewer)):
                digest = hashlib.sha256(token.encode()).hexdigest()
                tokens.write(f"  - {{ id: {identity}, sha256: {digest} }}\n")
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        return False

    def start(self):
        """Starts the process (on the port of the last start, if any) and waits for its URL."""
        run = len([n for n in os.listdir(self.folder) if n.startswith("out-")])
        self.output = os.path.join(self.folder, f"out-{run}.txt")
        # Relative to the repository's root when run from there: the page shows the scripts' paths.
        fixture = os.path.relpath(FIXTURE) if not os.path.relpath(FIXTURE).startswith("..") else FIXTURE
        command = [
            self.sentinel, "run",
            "--policies", os.path.join(fixture, "policies"),
            "--config", os.path.join(fixture, "config.yaml"),
            "--workload", os.path.join(fixture, "workload.yaml"),
            "--admin", f"127.0.0.1:{self.port}",
            "--admin-tokens", os.path.join(self.folder, "tokens.yaml"),
            "--audit-log", os.path.join(self.folder, "audit.jsonl"),
            "--instance", self.instance,
        ]
        with open(self.output, "w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with open(self.output) as out:
                match = re.search(r"^admin listening on (http://127\.0\.0\.1:(\d+))$", out.read(), re.MULTILINE)
            if match:
                self.url, self.port = match.group(1), int(match.group(2))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.output) as out:
            raise AssertionError(f"sentinel run did not start within {START_TIMEOUT} s:\n{out.read()[-3000:]}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def restart(self):
        self.stop()
        self.start()

    def request(self, path, body=None, token=None):
        """(status, JSON) of a request to the admin API, with alice's token unless told."""
        headers = {"Authorization": f"Bearer {token or self.alice}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def get(self, path, token=None):
        status, body = self.request(path, token=token)
        if status != 200:
            raise AssertionError(f"GET {path}: {status} {body}")
        return body

    def command(self, name, args=None, reason=None, token=None):
        body = {"command": name, "args": args or {}}
        if reason is not None:
            body["reason"] = reason
        return self.request("/v1/commands", body, token=token)

    def metric(self, name):
        """The sum of a Prometheus counter's series, from /metrics."""
        request = urllib.request.Request(self.url + "/metrics", headers={"Authorization": f"Bearer {self.alice}"})
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total
