#!/usr/bin/env python3
"""The admin API under load: `make load-admin` (docs/performance.md, "Admin API under load").

Starts `sentinel run --admin 127.0.0.1:0` with the scripts of policies/ (evaluated every 1 s
and 500 ms, reading windows and setting knobs) on the pipelines of workload.yaml, then for
--seconds sends --reads requests a second spread over the read endpoints and --commands
commands a second (param.set within bounds with idempotency keys, replays of those keys,
param.get, dry runs, a freeze and an unfreeze every second), all on loopback, while one
event stream is read. Reports per endpoint p50/p90/p99/max latency and errors, the scripts'
evaluations and missed ticks (from /v1/scripts and /metrics), what the event stream
delivered, and the CPU the server and this client used. Exit 0 when there were no errors, no
missed tick and no lost event; 1 otherwise; 2 when it could not start.

The load is open-loop: every request has a scheduled time (t0 + i / rate), sent then whatever
the answers before it are doing, so a slow server cannot slow the client down and hide its
own slowness (coordinated omission). Latency per endpoint is measured from the moment the
request is written on a connection to the moment its whole answer is read. Beside it: how
late the client started requests against their schedule ("client lag"), how long they waited
for a free connection (at most 64 are open), and the latency from the scheduled time, which
includes both; so a busy client or a saturated server shows instead of hiding. An error is
an answer other than 200 (or a command's outcome other than the one expected, or a replayed
key not answered as a replay), a request with no answer within 10 s, one answered more than
10 s after its scheduled time, and one still unanswered when the run ends.

Only python3's standard library: one asyncio loop, keep-alive HTTP/1.1 connections, a
minimal response reader (Content-Length and chunked bodies), no JSON parsing of read answers
beyond a sample. Usage:

    admin_load.py PATH_TO_SENTINEL [--seconds 60] [--reads 1000] [--commands 100]
                  [--warmup 3] [--report FILE.json]

Every connection goes to 127.0.0.1; the server is stopped (SIGTERM, then SIGKILL) and the
temporary folder removed on every path out.
"""

import argparse
import asyncio
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "HarnessSupport"))
from machine import machine  # noqa: E402  (the harnesses' shared module)

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"  # loopback only, always

# Read endpoints and their share of the reads (weights out of 20).
READ_MIX = [
    ("/v1/status", 3),
    ("/v1/params", 3),
    ("/v1/audit?limit=100", 2),
    ("/v1/scripts", 2),
    ("/v1/pipelines", 2),
    ("/v1/pipelines/checkout", 2),
    ("/v1/trials", 1),
    ("/v1/approvals", 1),
    ("/v1/fleet", 1),
    ("/v1/whoami", 1),
    ("/metrics", 1),
    ("/readyz", 1),
]

# Knobs operators set under load (scripts set others), and the values they cycle through:
# all within the knobs' bounds, so every param.set must be applied.
OPERATOR_KNOBS = [
    ("checkout.timeout.duration", [1.5, 2.0, 2.5]),
    ("checkout.retry.max_attempts", [2, 3, 4]),
    ("search.timeout.duration", [0.8, 1.0, 1.2]),
]

REQUEST_TIMEOUT = 10.0  # the server answers 503 `timeout` after 10 s itself
MAX_CONNECTIONS = 64


class Failure(Exception):
    """A request that did not get the answer it should have."""


# MARK: - HTTP over asyncio streams


class Connection:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.usable = True

    @classmethod
    async def open(cls, port):
        reader, writer = await asyncio.open_connection(HOST, port, limit=16 << 20)
        return cls(reader, writer)

    async def request(self, raw):
        """Writes `raw` (a whole request) and returns (status, headers, body)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0][9:12])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await read_chunked(self.reader)
        else:
            body = await self.reader.read()
            self.usable = False
        if headers.get(b"connection", b"").lower() == b"close":
            self.usable = False
        return status, headers, body

    def close(self):
        self.usable = False
        self.writer.close()


async def read_chunked(reader):
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class ConnectionPool:
    """Idle keep-alive connections; a new one when none is idle, at most MAX_CONNECTIONS."""

    def __init__(self, port):
        self.port = port
        self.idle = []
        self.count = 0
        self.waiters = deque()
        self.opened = 0

    async def acquire(self):
        while True:
            if self.idle:
                return self.idle.pop()
            if self.count < MAX_CONNECTIONS:
                self.count += 1
                self.opened += 1
                try:
                    return await Connection.open(self.port)
                except BaseException:
                    self.count -= 1
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter

    def release(self, connection):
        if connection.usable:
            self.idle.append(connection)
        else:
            self.count -= 1
            connection.close()
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    def close(self):
        for connection in self.idle:
            connection.close()
        self.idle.clear()


# MARK: - What is measured


def percentile(ordered, fraction):
    """Nearest-rank percentile of an ordered list."""
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


class Recorder:
    """Latencies and errors per endpoint, for requests scheduled inside the measured window."""

    def __init__(self):
        self.latency = {}  # endpoint -> [seconds, from the write to the whole answer]
        self.from_schedule = []  # seconds, from the scheduled time to the whole answer
        self.lag = []  # seconds the client started a request after its scheduled time
        self.pool_wait = []  # seconds a request waited for a free connection (all 64 busy)
        self.by_second = {}  # whole seconds since the window opened -> [seconds from the scheduled time]
        self.opened_at = None
        self.errors = {}  # endpoint -> count
        self.examples = []  # the first few errors, for the report
        self.warmup_errors = 0

    def success(self, endpoint, scheduled, started, written, done):
        self.latency.setdefault(endpoint, []).append(done - written)
        self.from_schedule.append(done - scheduled)
        self.lag.append(started - scheduled)
        self.pool_wait.append(written - started)
        if self.opened_at is not None:
            self.by_second.setdefault(int(scheduled - self.opened_at), []).append(done - scheduled)

    def failure(self, endpoint, message):
        self.errors[endpoint] = self.errors.get(endpoint, 0) + 1
        self.latency.setdefault(endpoint, [])
        if len(self.examples) < 10:
            self.examples.append(f"{endpoint}: {message}")


class LoadClient:
    def __init__(self, port, token):
        self.port = port
        self.pool = ConnectionPool(port)
        self.auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
        self.host = f"Host: {HOST}:{port}\r\n".encode()
        self.measured = Recorder()
        self.warmup = Recorder()
        self.in_flight = set()
        self.completed_sets = deque(maxlen=64)  # (key, body) of applied param.sets, to replay
        self.command_number = 0
        self.set_number = 0

    def get(self, path):
        return b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.host + self.auth + b"Accept: */*\r\n\r\n"

    def post(self, body):
        return (
            b"POST /v1/commands HTTP/1.1\r\n" + self.host + self.auth
            + b"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    async def exchange(self, raw):
        """(status, headers, body, the loop time the request was written)."""
        connection = await self.pool.acquire()
        written = asyncio.get_running_loop().time()
        try:
            # asyncio.timeout, unlike wait_for, makes no task of its own per request.
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return (*await connection.request(raw), written)
        except BaseException:
            connection.usable = False
            raise
        finally:
            self.pool.release(connection)

    def launch(self, coroutine):
        task = asyncio.get_running_loop().create_task(coroutine)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def timed(self, recorder, endpoint, scheduled, raw, check):
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            status, headers, body, written = await self.exchange(raw)
            done = loop.time()
            check(status, headers, body)
            if done - scheduled > REQUEST_TIMEOUT:
                raise Failure(f"answered {done - scheduled:.1f} s after its scheduled time, over {REQUEST_TIMEOUT:g} s")
        except Failure as failure:
            recorder.failure(endpoint, str(failure))
            return
        except TimeoutError:
            recorder.failure(endpoint, f"no answer within {REQUEST_TIMEOUT:g} s")
            return
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            recorder.failure(endpoint, f"{type(error).__name__}: {error}")
            return
        except asyncio.CancelledError:
            # Still waiting when the run ended: an error, never a request left out of the count.
            recorder.failure(endpoint, "no answer by the end of the run")
            raise
        recorder.success(endpoint, scheduled, started, written, done)

    # MARK: Reads

    def read(self, recorder, index, scheduled):
        path = READ_SEQUENCE[index % len(READ_SEQUENCE)]
        endpoint = "GET " + path.split("?")[0]

        def check(status, headers, body):
            if status != 200:
                raise Failure(f"HTTP {status}: {body[:200]!r}")
            if not body:
                raise Failure("an empty body")
            # A sample of the JSON answers is parsed: enough to see a broken body, cheap enough.
            if index % 50 == 0 and path != "/metrics":
                json.loads(body)

        self.launch(self.timed(recorder, endpoint, scheduled, self.get(path), check))

    # MARK: Commands

    def command(self, recorder, index, scheduled):
        """The command mix, a cycle of 100: 70 param.set, 10 replays of an answered param.set's
        idempotency key, 15 param.get, 3 param.set dry runs, one freeze and one unfreeze
        (200 ms after it at 100 commands a second)."""
        slot = index % 100
        if slot == 0:
            self.send(recorder, scheduled, "POST automation.freeze", {
                "command": "automation.freeze", "args": {"reason": "load harness"}, "reason": "load harness",
                "idempotency_key": self.key()}, expect="applied")
        elif slot == 20:
            self.send(recorder, scheduled, "POST automation.unfreeze", {
                "command": "automation.unfreeze", "args": {}, "idempotency_key": self.key()}, expect="applied")
        elif slot % 10 == 5 and self.completed_sets:
            key, body = self.completed_sets[-1]
            self.send(recorder, scheduled, "POST param.set (replayed key)", body=body, expect="applied", replay=True)
        elif slot % 10 in (3, 7) or (slot % 10 == 5 and not self.completed_sets):
            knob = OPERATOR_KNOBS[index % len(OPERATOR_KNOBS)][0]
            self.send(recorder, scheduled, "POST param.get", {"command": "param.get", "args": {"param": knob}},
                      expect="applied")
        elif slot in (33, 66, 99):
            knob, values = OPERATOR_KNOBS[index % len(OPERATOR_KNOBS)]
            self.send(recorder, scheduled, "POST param.set (dry run)", {
                "command": "param.set", "args": {"param": knob, "value": values[0]}, "reason": "load harness",
                "dry_run": True, "idempotency_key": self.key()}, expect="dry_run")
        else:
            number = self.set_number
            self.set_number += 1
            knob, values = OPERATOR_KNOBS[number % len(OPERATOR_KNOBS)]
            value = values[(number // len(OPERATOR_KNOBS)) % len(values)]
            self.send(recorder, scheduled, "POST param.set", {
                "command": "param.set", "args": {"param": knob, "value": value}, "reason": "load harness",
                "idempotency_key": self.key()}, expect="applied", remember=True)

    def key(self):
        self.command_number += 1
        return f"load-{os.getpid()}-{self.command_number}"

    def send(self, recorder, scheduled, endpoint, document=None, body=None, expect="applied", replay=False,
             remember=False):
        body = body if body is not None else json.dumps(document, separators=(",", ":")).encode()

        def check(status, headers, answer):
            if status != 200:
                raise Failure(f"HTTP {status}: {answer[:300]!r}")
            outcome = json.loads(answer).get("outcome")
            if outcome != expect:
                raise Failure(f"outcome {outcome!r}, expected {expect!r}")
            if replay and headers.get(b"idempotent-replay") != b"true":
                raise Failure("a repeated idempotency key was not answered as a replay")
            if remember:
                self.completed_sets.append((document["idempotency_key"], body))

        self.launch(self.timed(recorder, endpoint, scheduled, self.post(body), check))

    # MARK: Driving

    async def drive(self, rate, act, start, measured_from, end):
        """Calls act(recorder, index, scheduled) at start + index / rate until end."""
        self.measured.opened_at = measured_from
        loop = asyncio.get_running_loop()
        index = 0
        while True:
            scheduled = start + index / rate
            if scheduled >= end:
                return
            now = loop.time()
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
                now = loop.time()
            # Everything due by now goes out now: a late wake-up is caught up, never skipped.
            while scheduled <= now and scheduled < end:
                act(self.measured if scheduled >= measured_from else self.warmup, index, scheduled)
                index += 1
                scheduled = start + index / rate

    async def drain(self, timeout):
        deadline = asyncio.get_running_loop().time() + timeout
        while self.in_flight and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(set(self.in_flight), timeout=max(0.01, deadline - asyncio.get_running_loop().time()))
        left = list(self.in_flight)
        for task in left:
            task.cancel()
        # Each records its request as an error as it ends.
        await asyncio.gather(*left, return_exceptions=True)

    async def fetch_json(self, path):
        status, _, body, _ = await self.exchange(self.get(path))
        if status != 200:
            raise Failure(f"GET {path}: HTTP {status}: {body[:200]!r}")
        return json.loads(body)

    async def fetch_text(self, path):
        status, _, body, _ = await self.exchange(self.get(path))
        if status != 200:
            raise Failure(f"GET {path}: HTTP {status}")
        return body.decode()


def weighted_sequence():
    """The read paths in an interleaved order that gives each its weight."""
    total = sum(weight for _, weight in READ_MIX)
    credit = {path: 0.0 for path, _ in READ_MIX}
    sequence = []
    for _ in range(total):
        # Smooth weighted round robin: each step credits every path its weight and
        # sends the one with most credit.
        for path, weight in READ_MIX:
            credit[path] += weight
        chosen = max(READ_MIX, key=lambda item: credit[item[0]])[0]
        credit[chosen] -= total
        sequence.append(chosen)
    return sequence


READ_SEQUENCE = weighted_sequence()


class EventFollower:
    """Reads GET /v1/events for the whole run and counts the audit events."""

    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.audit_events = 0
        self.subscribed = asyncio.Event()
        self.error = None

    async def run(self):
        writer = None
        try:
            reader, writer = await asyncio.open_connection(HOST, self.port, limit=16 << 20)
            writer.write(
                f"GET /v1/events HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAuthorization: Bearer {self.token}\r\n"
                "Accept: text/event-stream\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] != b"200":
                raise Failure(f"GET /v1/events: {head[:12]!r}")
            chunked = b"transfer-encoding: chunked" in head.lower()
            carry = b""
            while True:
                if chunked:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    if size == 0:
                        return
                    data = await reader.readexactly(size)
                    await reader.readexactly(2)
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                # The server opens with a keepalive comment once it has subscribed.
                self.subscribed.set()
                text = carry + data
                self.audit_events += text.count(b"event: audit\n")
                # Keep the tail that might hold the start of a split "event: audit" line.
                carry = text[-16:]
                self.audit_events -= carry.count(b"event: audit\n")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            self.error = f"{type(error).__name__}: {error}"
            self.subscribed.set()
        finally:
            if writer is not None:
                writer.close()


# MARK: - The server


class Server:
    """`sentinel run --admin 127.0.0.1:0` in a temporary folder."""

    def __init__(self, binary, folder, files=True):
        self.binary = binary
        self.folder = folder
        self.files = files
        self.process = None
        self.url = None
        self.port = None

    def make_token(self):
        out = subprocess.run([self.binary, "token", "create", "load"], check=True, capture_output=True, text=True,
                             timeout=30).stdout.splitlines()
        token, item = out[0].strip(), out[1].strip()
        with open(os.path.join(self.folder, "tokens.yaml"), "w") as f:
            f.write("tokens:\n  " + item + "\n")
        return token

    def start(self):
        self.stdout = open(os.path.join(self.folder, "run.out"), "w+")
        self.stderr = open(os.path.join(self.folder, "run.err"), "w+")
        files = ["--audit-log", os.path.join(self.folder, "audit.jsonl"),
                 "--state-file", os.path.join(self.folder, "state.json")] if self.files else []
        self.process = subprocess.Popen(
            [self.binary, "run", "--policies", os.path.join(HERE, "policies"),
             "--workload", os.path.join(HERE, "workload.yaml"), *files,
             "--admin", f"{HOST}:0", "--admin-tokens", os.path.join(self.folder, "tokens.yaml"),
             "--instance", "load"],
            stdout=self.stdout, stderr=self.stderr, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"sentinel run exited {self.process.returncode} while starting:\n{self.log_tail()}")
            self.stdout.seek(0)
            match = re.search(r"admin listening on (http://[^\s]+)", self.stdout.read())
            if match:
                self.url = match.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                if not self.url.startswith(f"http://{HOST}:"):
                    raise SystemExit(f"the server listens on {self.url}, not on {HOST}")
                return
            time.sleep(0.05)
        raise SystemExit(f"no 'admin listening on' line within 30 s:\n{self.log_tail()}")

    def cpu_seconds(self):
        """The server's user + system CPU time so far."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory(self):
        found = {}
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line.split(":")[0]] = int(line.split()[1]) // 1024
        return found

    def stop(self):
        """SIGTERM, then SIGKILL after 15 s. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            return "killed after 15 s"

    def log_tail(self, lines=20):
        self.stderr.flush()
        self.stderr.seek(0)
        return "".join(self.stderr.readlines()[-lines:])


def scripts_by_name(document):
    return {script["name"]: script for script in document["scripts"]}


def missed_ticks_metric(text):
    """sentinel_script_missed_ticks_total by script (a counter appears at its first missed tick)."""
    found = {}
    for match in re.finditer(r'^sentinel_script_missed_ticks_total\{[^}]*script="([^"]+)"[^}]*\} ([0-9.e+]+)$', text,
                             re.M):
        found[match.group(1)] = float(match.group(2))
    return found


# MARK: - The run


async def run(args, server, token):
    loop = asyncio.get_running_loop()
    client = LoadClient(server.port, token)
    # Ready: the scripts are loaded and the audit is writable.
    deadline = loop.time() + 30
    while True:
        status, _, _, _ = await client.exchange(client.get("/readyz"))
        if status == 200:
            break
        if loop.time() > deadline:
            raise SystemExit("/readyz did not answer 200 within 30 s")
        await asyncio.sleep(0.1)
    follower = EventFollower(server.port, token)
    follower_task = loop.create_task(follower.run())
    await asyncio.wait_for(follower.subscribed.wait(), 10)
    # The scripts have run a few times before the measured window starts.
    await asyncio.sleep(1.0)

    before_status = await client.fetch_json("/v1/status")
    start = loop.time() + 0.1
    measured_from = start + args.warmup
    end = measured_from + args.seconds
    drivers = [
        loop.create_task(client.drive(args.reads, client.read, start, measured_from, end)),
        loop.create_task(client.drive(args.commands, client.command, start, measured_from, end)),
    ]
    await asyncio.sleep(max(0, measured_from - loop.time()))
    # What the scripts, the server and the client had done when the measured window opened
    # (read at its start, while the warm-up's load already runs).
    before_scripts = scripts_by_name(await client.fetch_json("/v1/scripts"))
    before_metrics = missed_ticks_metric(await client.fetch_text("/metrics"))
    server_cpu, client_cpu = server.cpu_seconds(), cpu_of_self()
    window_started = loop.time()
    await asyncio.gather(*drivers)
    await client.drain(REQUEST_TIMEOUT + 2)
    window = loop.time() - window_started
    server_cpu, client_cpu = server.cpu_seconds() - server_cpu, cpu_of_self() - client_cpu
    after_scripts = scripts_by_name(await client.fetch_json("/v1/scripts"))
    after_metrics = missed_ticks_metric(await client.fetch_text("/metrics"))
    # Whatever was appended has reached the stream within a second.
    await asyncio.sleep(1.0)
    after_status = await client.fetch_json("/v1/status")
    follower_task.cancel()
    try:
        await follower_task
    except asyncio.CancelledError:
        pass
    client.pool.close()
    return {
        "client": client, "follower": follower, "window": window, "server_cpu": server_cpu, "client_cpu": client_cpu,
        "before_scripts": before_scripts, "after_scripts": after_scripts, "before_metrics": before_metrics,
        "after_metrics": after_metrics, "before_status": before_status, "after_status": after_status,
        "connections": client.pool.opened,
    }


def cpu_of_self():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def milliseconds(seconds):
    return f"{seconds * 1000:.2f}"


def report(args, result, exit_code, memory, load_before, load_after):
    client = result["client"]
    measured = client.measured
    lines = []
    rows = []
    total_requests = total_errors = 0
    ordered_all = []
    for endpoint in sorted(measured.latency, key=lambda e: (not e.startswith("GET"), e)):
        ordered = sorted(measured.latency[endpoint])
        ordered_all += ordered
        errors = measured.errors.get(endpoint, 0)
        total_requests += len(ordered) + errors
        total_errors += errors
        rows.append({
            "endpoint": endpoint, "requests": len(ordered) + errors, "errors": errors,
            "p50_ms": percentile(ordered, 0.5) * 1000, "p90_ms": percentile(ordered, 0.9) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000, "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
        })
    ordered_all.sort()
    lag = sorted(measured.lag)
    pool_wait = sorted(measured.pool_wait)
    from_schedule = sorted(measured.from_schedule)
    scripts = []
    missed_total = failures_total = 0
    for name, after in sorted(result["after_scripts"].items()):
        before = result["before_scripts"].get(name, {"evaluations": 0, "missed_ticks": 0, "failures": 0})
        evaluations = after["evaluations"] - before["evaluations"]
        missed = after["missed_ticks"] - before["missed_ticks"]
        metric = result["after_metrics"].get(name, 0) - result["before_metrics"].get(name, 0)
        failures = after["failures"] - before["failures"]
        expected = result["window"] / after["interval_s"]
        missed_total += missed + metric
        failures_total += failures
        scripts.append({
            "script": name, "interval_s": after["interval_s"], "evaluations": evaluations,
            "expected_evaluations": round(expected, 1), "missed_ticks": missed, "missed_ticks_metric": metric,
            "failures": failures,
        })
    follower = result["follower"]
    appended = result["after_status"]["audit"]["entries"] - result["before_status"]["audit"]["entries"]
    summary = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "load_average": {"before": load_before, "after": load_after},
        "seconds": args.seconds, "warmup_seconds": args.warmup, "files": not args.no_files,
        "target_rates": {"reads_per_s": args.reads, "commands_per_s": args.commands},
        "sent_per_s": round(total_requests / args.seconds, 1),
        "answered_per_s": round((total_requests - total_errors) / args.seconds, 1),
        "requests": total_requests, "errors": total_errors, "error_examples": measured.examples,
        "warmup_errors": sum(client.warmup.errors.values()),
        "overall": {"p50_ms": percentile(ordered_all, 0.5) * 1000, "p99_ms": percentile(ordered_all, 0.99) * 1000},
        "from_schedule": {"p50_ms": percentile(from_schedule, 0.5) * 1000,
                          "p99_ms": percentile(from_schedule, 0.99) * 1000},
        "pool_wait": {"p50_ms": percentile(pool_wait, 0.5) * 1000, "p99_ms": percentile(pool_wait, 0.99) * 1000},
        "client_lag": {"p50_ms": percentile(lag, 0.5) * 1000, "p99_ms": percentile(lag, 0.99) * 1000,
                       "max_ms": (lag[-1] if lag else float("nan")) * 1000},
        "endpoints": rows, "scripts": scripts,
        "event_stream": {"audit_events": follower.audit_events, "audit_entries_appended": appended,
                         "error": follower.error},
        "server": {"cpu_percent_of_one_core": round(100 * result["server_cpu"] / result["window"], 1),
                   "memory_mib": memory, "exit_code": exit_code},
        "client": {"cpu_percent_of_one_core": round(100 * result["client_cpu"] / result["window"], 1),
                   "connections_opened": result["connections"]},
    }
    problems = []
    if total_errors:
        problems.append(f"{total_errors} errors")
    if summary["warmup_errors"]:
        problems.append(f"{summary['warmup_errors']} errors during the warm-up")
    if missed_total:
        problems.append(f"missed ticks ({missed_total:g} counted by /v1/scripts and /metrics together)")
    if failures_total:
        problems.append(f"{failures_total} failed evaluations")
    for script in scripts:
        if script["evaluations"] < script["expected_evaluations"] - 2:
            problems.append(f"script {script['script']}: {script['evaluations']} evaluations, "
                            f"expected about {script['expected_evaluations']}")
    if follower.error or follower.audit_events < appended:
        problems.append(f"event stream: {follower.audit_events} audit events for {appended} entries appended"
                        + (f" ({follower.error})" if follower.error else ""))
    if exit_code != 0:
        problems.append(f"sentinel run exited {exit_code} on SIGTERM")
    summary["problems"] = problems

    lines.append(f"admin API under load, {summary['date']}: {machine()}")
    lines.append(f"load average before {load_before}, after {load_after}")
    lines.append(("without an audit file or a state file; " if args.no_files else
                  "with an audit file (fsync once a second) and a state file; ")
                 + f"{args.seconds} s measured after a {args.warmup} s warm-up; target {args.reads} reads/s + "
                 f"{args.commands} commands/s; sent {summary['sent_per_s']} requests/s, answered well "
                 f"{summary['answered_per_s']}/s")
    lines.append("")
    lines.append("| endpoint | requests | errors | p50 ms | p90 ms | p99 ms | max ms |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        lines.append(f"| `{row['endpoint']}` | {row['requests']:,} | {row['errors']} | {row['p50_ms']:.2f} | "
                     f"{row['p90_ms']:.2f} | {row['p99_ms']:.2f} | {row['max_ms']:.1f} |")
    lines.append(f"| all | {total_requests:,} | {total_errors} | {summary['overall']['p50_ms']:.2f} | | "
                 f"{summary['overall']['p99_ms']:.2f} | |")
    lines.append("")
    lines.append(f"from the scheduled time: p50 {summary['from_schedule']['p50_ms']:.2f} ms, "
                 f"p99 {summary['from_schedule']['p99_ms']:.2f} ms; client lag p50 "
                 f"{summary['client_lag']['p50_ms']:.2f} ms, p99 {summary['client_lag']['p99_ms']:.2f} ms, "
                 f"max {summary['client_lag']['max_ms']:.1f} ms; waited for a free connection p99 "
                 f"{summary['pool_wait']['p99_ms']:.2f} ms")
    slowest = sorted(((percentile(sorted(v), 0.99), second) for second, v in measured.by_second.items()), reverse=True)
    summary["slowest_seconds"] = [{"second": second, "p99_ms": p99 * 1000} for p99, second in slowest[:5]]
    lines.append("slowest seconds of the window (p99 from the scheduled time): " + ", ".join(
        f"{second} s: {p99 * 1000:.0f} ms" for p99, second in slowest[:5]))
    lines.append("")
    lines.append("| script | interval | evaluations | expected | missed ticks (/v1/scripts) | missed ticks (/metrics) "
                 "| failures |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for script in scripts:
        lines.append(f"| {script['script']} | {script['interval_s']} s | {script['evaluations']} | "
                     f"{script['expected_evaluations']} | {script['missed_ticks']} | "
                     f"{script['missed_ticks_metric']:g} | {script['failures']} |")
    lines.append("")
    lines.append(f"event stream: {follower.audit_events} audit events received, {appended} audit entries appended "
                 f"in the same time")
    lines.append(f"server: {summary['server']['cpu_percent_of_one_core']} % of one core, memory {memory} MiB; "
                 f"client: {summary['client']['cpu_percent_of_one_core']} % of one core, "
                 f"{result['connections']} connections opened")
    if measured.examples:
        lines.append("first errors:")
        lines += ["  " + example for example in measured.examples]
    lines.append("")
    lines.append("PASSED: no errors, no missed tick, no lost event" if not problems
                 else "FAILED: " + "; ".join(problems))
    return "\n".join(lines), summary


def interrupted(*_):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sentinel", help="path to the sentinel binary")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before measuring (default 3)")
    parser.add_argument("--reads", type=float, default=1000, help="read requests a second (default 1000)")
    parser.add_argument("--commands", type=float, default=100, help="commands a second (default 100)")
    parser.add_argument("--report", help="also write the figures as JSON to this file")
    parser.add_argument("--no-files", action="store_true",
                        help="run the server without --audit-log and --state-file (what the files cost under load)")
    args = parser.parse_args()
    if args.seconds <= 0 or args.reads <= 0 or args.commands <= 0 or args.warmup < 0:
        parser.error("--seconds, --reads and --commands must be positive, --warmup at least 0")
    if not os.access(args.sentinel, os.X_OK):
        parser.error(f"{args.sentinel}: not an executable")

    folder = tempfile.mkdtemp(prefix="sentinel-admin-load-")
    server = Server(args.sentinel, folder, files=not args.no_files)
    # SIGTERM or SIGINT to this script ends the run through the finally below.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        token = server.make_token()
        server.start()
        load_before = os.getloadavg()
        result = asyncio.run(asyncio.wait_for(run(args, server, token), args.warmup + args.seconds + 90))
        load_after = os.getloadavg()
        memory = server.memory()
        exit_code = server.stop()
        text, summary = report(args, result, exit_code, memory,
                               [round(x, 2) for x in load_before], [round(x, 2) for x in load_after])
        print(text)
        if args.report:
            with open(args.report, "w") as f:
                json.dump(summary, f, indent=2)
        return 1 if summary["problems"] else 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    except (SystemExit, asyncio.TimeoutError, Failure, OSError, subprocess.SubprocessError) as error:
        print(f"admin_load: {error or type(error).__name__}", file=sys.stderr)
        if server.process is not None:
            print(server.log_tail(), file=sys.stderr)
        return 2
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
