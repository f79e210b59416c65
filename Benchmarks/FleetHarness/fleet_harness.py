#!/usr/bin/env python3
"""The fleet on PostgreSQL under failures: `make fleet-harness` (docs/performance.md, "Fleet on PostgreSQL").

Starts --instances `sentinel run --fleet` processes on one PostgreSQL database (a schema of their
own), each with its own audit file, the pipeline of workload.yaml (about one request a second,
so there are knobs and little CPU) and an empty policies folder, on loopback. Once every
instance names the same leader, it sends operator commands (`param.set` of three knobs, each
with a value and a reason of its own) to random instances at --rate a second and, for the
whole run, reads every instance's `/v1/events` (one thread per instance), then:

  (a) propagation: --commands commands with nothing else happening. For every command and
      every other instance, the time from the POST's answer to the instance's `audit` event of
      that command (matched on its reason) on the stream;
  (b) failover: --kills times, SIGKILL of the current leader, and the time from the kill to
      another instance's `fleet.lead` audit event (the new leader has caught up and may decide);
      the killed instance is then started again with the same ID and audit file, and the next
      kill waits until it is back (connected, caught up, its stream read). Commands go on;
  (c) server restarts: --restarts times, `postgres-server.sh restart` during the command
      stream; the time until a leader announces itself again, and until every instance has
      applied the first command written after the restart (by its own /v1/fleet: an instance
      that still says "connected" but reads nothing any more never gets there);
  (d) the count: once everything has settled, every instance's audit file is read and every
      counted command must be in each of them exactly once.

What is counted, precisely. A command is *counted* when its POST was answered 200 with outcome
`applied` and it was seen on another instance's event stream before the instance that took it
was killed (the harness sends no command to a leader it is about to kill: it stops sending to
it, waits until every command that instance answered has reached another instance, and only
then kills it; a command that the killed process answered but had not yet written to the
database may be lost legitimately, and with that wait there is none). At the end every instance
ID runs (a killed instance was started again), so for each counted command and each instance:
*lost* when the command is not in that instance's audit file, *doubled* when it is there more
than once (an instance started again must not audit again what it audited before its kill; it
resumes from the version it last reported). Both must be 0. The harness also checks that every
instance ends with the same value for each knob, the value of the command the database wrote
last for it ("diverged" must be 0), that no POST failed, and that no instance exited by itself.

Propagation figures count only (command, instance) pairs where the instance's event stream was
open from before the POST until the event came (a pair whose instance was killed meanwhile is
left out: its audit file is checked by the count). Per command, the time until the last
instance that was watched. They are given per phase: (a) is the fleet at rest, (b) and (c)
include the commands sent while a leader was being replaced or the server restarted.

Only python3's standard library. Usage (PGPASSWORD and, for --restarts, the server's control
script, from Tests/fleet/with-postgres.sh):

    Tests/fleet/with-postgres.sh Benchmarks/FleetHarness/fleet_harness.py PATH_TO_SENTINEL \\
        [--instances 50] [--kills 100] [--restarts 10] [--commands 200] [--rate 2] [--lease S] \\
        [--json OUT]

The report names each lost command (the instance that took it, when, in which phase) and each
doubled one (written twice: two versions in the other instances' audit; or audited twice by one
instance: one version). Exit 0 when nothing was lost, doubled or diverged and nothing failed; 1
otherwise (a phase that cannot go on, such as kills without a leader for 60 s, is reported and
the count still runs); 2 when the fleet could not be started. Every instance is stopped on every
path out (SIGTERM, then SIGKILL; with util-linux's setpriv they also die with the harness if it is
killed), and the temporary folder is removed unless the run failed or --keep is given.
"""

import argparse
import hashlib
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "HarnessSupport"))
from machine import machine  # noqa: E402  (the harnesses' shared module)

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"  # loopback only, always

# The knobs the commands set, in turn, each command with a value of its own (within the bounds).
KNOBS = [
    ("knobs.timeout.duration", lambda seq: round(1 + seq / 1000, 3)),
    ("knobs.retry.base_delay", lambda seq: round(0.01 + seq / 100000, 5)),
    ("knobs.retry.max_delay", lambda seq: round(5 + seq / 1000, 3)),
]

START_TIMEOUT = 90.0  # from a process's start to its `admin listening` line
BACK_TIMEOUT = 120.0  # from a restart to connected, caught up and its stream read
LEAD_TIMEOUT = 60.0  # from a kill or a server restart to a `fleet.lead`
OUT_TIMEOUT = 30.0  # for a command a leader answered to reach another instance before its kill
SETTLE_TIMEOUT = 60.0
STOP_GRACE = 20.0  # from SIGTERM to the exit of every instance at the end


def now():
    return time.monotonic()


def percentile(ordered, fraction):
    """Nearest-rank percentile of an ordered list."""
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


def spread(values):
    ordered = sorted(values)
    return {"count": len(ordered), "p50_s": percentile(ordered, 0.5), "p99_s": percentile(ordered, 0.99),
            "max_s": ordered[-1] if ordered else float("nan")}


def seconds(value):
    return "n/a" if value != value else (f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s")


class SetupError(Exception):
    """The fleet could not be started or did not come to a leader."""


class PhaseFailure(Exception):
    """A phase could not go on (no leader after a kill): reported, and the count still runs."""


# MARK: - HTTP


def request(port, token, method, path, body=None, timeout=10.0):
    """(status, parsed JSON or None) of one request on a connection of its own."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            document = json.loads(raw) if raw else None
        except ValueError:
            document = None
        return response.status, document
    finally:
        connection.close()


class EventStream(threading.Thread):
    """GET /v1/events of one incarnation of an instance, until it closes; every `audit` event
    goes to the harness with the time it was read."""

    def __init__(self, harness, instance, port):
        super().__init__(daemon=True, name=f"events-{instance.id}-{instance.incarnation}")
        self.harness = harness
        self.instance = instance
        self.incarnation = instance.incarnation
        self.port = port
        self.subscribed = threading.Event()
        self.subscribed_at = None
        self.closed_at = None
        self.error = None
        self.events = 0
        self.sock = None

    def run(self):
        try:
            self.sock = socket.create_connection((HOST, self.port), timeout=10)
            self.sock.sendall(
                f"GET /v1/events HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAuthorization: Bearer {self.harness.token}"
                "\r\nAccept: text/event-stream\r\n\r\n".encode())
            reader = self.sock.makefile("rb")
            status = reader.readline()
            if status[9:12] != b"200":
                raise SetupError(f"GET /v1/events: {status.strip()!r}")
            chunked = False
            while True:
                line = reader.readline()
                if not line:
                    raise EOFError("closed in the headers")
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            # A keepalive comment every 15 s: 60 s of silence is a stuck stream.
            self.sock.settimeout(60)
            self.read_events(reader, chunked)
        except Exception as error:  # noqa: BLE001 - a stream that ends is reported by the harness
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.closed_at = now()
            self.subscribed.set()
            self.harness.stream_closed(self)

    def pieces(self, reader, chunked):
        while True:
            if chunked:
                size_line = reader.readline()
                if not size_line:
                    return
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    return
                data = reader.read(size)
                reader.read(2)
            else:
                data = reader.read1(65536)
            if not data:
                return
            yield data

    def read_events(self, reader, chunked):
        carry = b""
        event, data = None, []
        for piece in self.pieces(reader, chunked):
            received = now()
            if not self.subscribed.is_set():
                # The server opens the stream with a keepalive comment once it has subscribed.
                self.subscribed_at = received
                self.subscribed.set()
            lines = (carry + piece).split(b"\n")
            carry = lines.pop()
            for line in lines:
                line = line.rstrip(b"\r")
                if not line:
                    if event == b"audit" and data:
                        self.events += 1
                        try:
                            entry = json.loads(b"\n".join(data))
                        except ValueError:
                            entry = None
                        if isinstance(entry, dict):
                            self.harness.on_audit(self, entry, received)
                    event, data = None, []
                elif line.startswith(b":"):
                    continue
                elif line.startswith(b"event:"):
                    event = line[6:].strip()
                elif line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))

    def close(self):
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# MARK: - The instances


def cpu_of(pid):
    """A live process's user + system CPU seconds, and those of its reaped children."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


PDEATHSIG = None


def die_with_parent():
    """`setpriv --pdeathsig KILL` when util-linux has it: the instances die with the harness."""
    global PDEATHSIG
    if PDEATHSIG is None:
        PDEATHSIG = []
        setpriv = shutil.which("setpriv")
        if setpriv:
            probe = subprocess.run([setpriv, "--pdeathsig", "KILL", "true"], capture_output=True)
            if probe.returncode == 0:
                PDEATHSIG = [setpriv, "--pdeathsig", "KILL"]
    return PDEATHSIG


class Instance:
    """One instance ID, started again under the same ID and audit file after each kill."""

    def __init__(self, harness, index):
        self.harness = harness
        self.id = f"fleet-{index:02d}"
        self.folder = os.path.join(harness.folder, self.id)
        os.makedirs(self.folder)
        self.audit_path = os.path.join(self.folder, "audit.jsonl")
        self.process = None
        self.incarnation = 0
        self.port = None
        self.stream = None
        self.ready = False  # commands may go to it
        self.draining = False  # about to be killed: no commands
        self.in_flight = 0
        self.killed_by_harness = False
        self.cpu_done = 0.0  # CPU seconds of the incarnations that ended
        self.exits = []  # (incarnation, code, by the harness)
        self.stdout = None
        self.stderr = None

    def start(self):
        self.incarnation += 1
        self.killed_by_harness = False
        self.stdout = open(os.path.join(self.folder, f"run-{self.incarnation}.out"), "w+")
        self.stderr = open(os.path.join(self.folder, f"run-{self.incarnation}.err"), "w")
        harness = self.harness
        command = [
            harness.binary, "run", "--policies", harness.policies, "--workload", os.path.join(HERE, "workload.yaml"),
            "--admin", f"{HOST}:0", "--admin-tokens", harness.tokens_path, "--fleet", harness.fleet_url,
            "--instance", self.id, "--audit-log", self.audit_path,
        ]
        if harness.args.lease is not None:
            command += ["--fleet-lease", f"{harness.args.lease:g}"]
        self.process = subprocess.Popen(die_with_parent() + command, stdout=self.stdout, stderr=self.stderr,
                                        stdin=subprocess.DEVNULL, cwd=self.folder)
        self.port = None
        self.started_at = now()

    def poll_listening(self):
        """The port once the `admin listening` line is out; raises when the process ended."""
        if self.port is not None:
            return self.port
        if self.process.poll() is not None:
            raise SetupError(f"{self.id} exited {self.process.returncode} while starting:\n{self.log_tail()}")
        self.stdout.seek(0)
        match = re.search(r"admin listening on http://([0-9.]+):(\d+)", self.stdout.read())
        if match:
            if match.group(1) != HOST:
                raise SetupError(f"{self.id} listens on {match.group(1)}, not on {HOST}")
            self.port = int(match.group(2))
        return self.port

    def open_stream(self):
        self.stream = EventStream(self.harness, self, self.port)
        self.stream.start()

    def cpu(self):
        alive = self.process is not None and self.process.poll() is None
        return self.cpu_done + (cpu_of(self.process.pid) if alive else 0.0)

    def kill(self):
        """SIGKILL, as a crash would; returns the time it was sent."""
        self.ready = False
        self.killed_by_harness = True
        self.cpu_done += cpu_of(self.process.pid)
        sent = now()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.exits.append((self.incarnation, self.process.returncode, True))
        if self.stream is not None:
            self.stream.close()
        return sent

    def log_tail(self, lines=15):
        try:
            self.stderr.flush()
            with open(self.stderr.name) as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, ValueError):
            return ""


class Command:
    def __init__(self, seq, phase, instance, knob, value, reason):
        self.seq = seq
        self.phase = phase
        self.instance = instance
        self.incarnation = instance.incarnation
        self.knob = knob
        self.value = value
        self.reason = reason
        self.watchers = {}  # instance id -> the EventStream open when it was sent
        self.sent = None
        self.answered = None
        self.status = None
        self.outcome = None
        self.error = None
        self.unconfirmed = False  # answered by an instance that was killed before it reached another


# MARK: - The harness


class Harness:
    def __init__(self, args, folder):
        self.args = args
        self.binary = os.path.abspath(args.sentinel)
        self.folder = folder
        self.random = random.Random(args.seed)
        self.run_id = f"{os.getpid():x}{random.getrandbits(24):06x}"
        self.lock = threading.Condition()
        self.instances = []
        self.commands = []
        self.by_reason = {}
        # reason -> {instance id: [(time read, EventStream)]}
        self.receipts = {}
        self.versions = {}  # reason -> the version it was written under, as another instance audited it
        self.leads = []  # (time read, instance id, term, EventStream)
        self.follows = []  # (time read, instance id, term)
        self.unexpected_exits = []
        self.stream_problems = []
        self.restart_problems = []
        self.phase = "propagation"
        self.sending = threading.Event()
        self.stopped = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="post")
        self.t0 = now()
        digest = hashlib.sha256()
        with open(self.binary, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        self.binary_digest = digest.hexdigest()
        self.reason_pattern = re.compile(r"^fleet-harness " + re.escape(self.run_id) + r" command (\d+)$")

    # MARK: Setup

    def prepare(self):
        out = subprocess.run([self.binary, "token", "create", "harness"], check=True, capture_output=True,
                             text=True, timeout=60).stdout.splitlines()
        self.token = out[0].strip()
        self.tokens_path = os.path.join(self.folder, "tokens.yaml")
        with open(self.tokens_path, "w") as f:
            f.write("tokens:\n  " + out[1].strip() + "\n")
        self.policies = os.path.join(self.folder, "policies")
        os.makedirs(self.policies)
        base = self.args.postgres_url
        if "?" in base:
            base, _, query = base.partition("?")
            params = [p for p in query.split("&") if p and not p.startswith(("schema=", "sslmode="))]
        else:
            params = []
        schema = self.args.schema or f"fleet_harness_{self.run_id}"
        self.fleet_url = base + "?" + "&".join(["sslmode=disable", f"schema={schema}"] + params)
        self.schema = schema

    def start_fleet(self):
        count = self.args.instances
        self.instances = [Instance(self, i + 1) for i in range(count)]
        started = now()
        batch = max(1, self.args.start_batch)
        for first in range(0, count, batch):
            group = self.instances[first:first + batch]
            for instance in group:
                instance.start()
            self.wait_listening(group)
            for instance in group:
                instance.open_stream()
        for instance in self.instances:
            if not instance.stream.subscribed.wait(30) or instance.stream.closed_at is not None:
                raise SetupError(f"{instance.id}: no event stream ({instance.stream.error})")
        self.startup_s = now() - started
        leader, term = self.wait_agreement(LEAD_TIMEOUT + 60)
        for instance in self.instances:
            instance.ready = True
        log(f"{count} instances up in {self.startup_s:.1f} s; every one names {leader} (term {term}) the leader")
        return leader, term

    def wait_listening(self, group):
        deadline = now() + START_TIMEOUT
        waiting = list(group)
        while waiting:
            waiting = [i for i in waiting if i.poll_listening() is None]
            if waiting and now() > deadline:
                raise SetupError(f"{waiting[0].id}: no 'admin listening' line within {START_TIMEOUT:g} s:\n"
                                 f"{waiting[0].log_tail()}")
            if waiting:
                time.sleep(0.05)

    def fleet_view(self, instance, timeout=10.0):
        status, document = request(instance.port, self.token, "GET", "/v1/fleet", timeout=timeout)
        if status != 200 or not isinstance(document, dict):
            raise OSError(f"GET /v1/fleet at {instance.id}: HTTP {status}")
        return document

    def wait_agreement(self, timeout):
        """Until every instance's /v1/fleet names the same leader and term, and that leader announced itself."""
        deadline = now() + timeout
        last = None
        while now() < deadline:
            self.check_exits()
            views = set()
            try:
                for instance in self.instances:
                    view = self.fleet_view(instance)
                    views.add((view.get("leader"), view.get("term")))
            except (OSError, http.client.HTTPException) as error:
                last = str(error)
                time.sleep(0.5)
                continue
            if len(views) == 1:
                leader, term = views.pop()
                if leader is not None:
                    return leader, term
            last = f"views {sorted(views, key=str)[:5]}"
            time.sleep(0.5)
        raise SetupError(f"the instances did not agree on a leader within {timeout:g} s ({last})")

    # MARK: Events

    def on_audit(self, stream, entry, received):
        action = entry.get("action")
        if action == "param.set":
            reason = entry.get("reason")
            if isinstance(reason, str) and reason in self.by_reason:
                # Another instance's entry carries the version the command was written under: fleet:VERSION.
                match = re.match(r"fleet:(\d+)", entry.get("correlation_id") or "")
                with self.lock:
                    self.receipts.setdefault(reason, {}).setdefault(stream.instance.id, []).append((received, stream))
                    if match:
                        self.versions[reason] = int(match.group(1))
                    self.lock.notify_all()
        elif action in ("fleet.lead", "fleet.follow"):
            term = (entry.get("args") or {}).get("term")
            with self.lock:
                if action == "fleet.lead":
                    self.leads.append((received, stream.instance.id, term, stream))
                else:
                    self.follows.append((received, stream.instance.id, term))
                self.lock.notify_all()

    def stream_closed(self, stream):
        instance = stream.instance
        if self.stopped.is_set() or instance.killed_by_harness or stream.incarnation != instance.incarnation:
            return
        # The stream of a running instance ended: read it again (pairs in the gap are not timed).
        with self.lock:
            self.stream_problems.append(f"{instance.id}: its event stream ended ({stream.error})")
        if instance.process.poll() is None:
            threading.Timer(0.2, self.reopen_stream, args=(instance, stream.incarnation)).start()

    def reopen_stream(self, instance, incarnation):
        if not self.stopped.is_set() and instance.incarnation == incarnation and instance.process.poll() is None:
            instance.open_stream()

    def check_exits(self):
        for instance in self.instances:
            process = instance.process
            if process is not None and not instance.killed_by_harness and process.poll() is not None:
                instance.killed_by_harness = True  # reported once
                instance.ready = False
                instance.exits.append((instance.incarnation, process.returncode, False))
                self.unexpected_exits.append(f"{instance.id} (run {instance.incarnation}) exited "
                                             f"{process.returncode}:\n{instance.log_tail()}")
                raise SetupError(self.unexpected_exits[-1])

    # MARK: Commands

    def sender(self):
        """--rate commands a second to random instances that take commands, while `sending` is set."""
        interval = 1.0 / self.args.rate
        due = now()
        while not self.stopped.is_set():
            wait = due - now()
            if wait > 0:
                self.stopped.wait(wait)
            due = max(due + interval, now() - interval)
            if not self.sending.is_set() or self.stopped.is_set():
                continue
            with self.lock:
                candidates = [i for i in self.instances if i.ready and not i.draining and i.stream is not None
                              and i.stream.closed_at is None and i.stream.subscribed.is_set()]
                if not candidates:
                    continue
                target = self.random.choice(candidates)
                seq = len(self.commands) + 1
                knob, value_of = KNOBS[seq % len(KNOBS)]
                command = Command(seq, self.phase, target, knob, value_of(seq),
                                  f"fleet-harness {self.run_id} command {seq}")
                command.watchers = {i.id: i.stream for i in self.instances if i is not target and i.stream is not None
                                    and i.stream.closed_at is None and i.stream.subscribed.is_set()}
                self.commands.append(command)
                self.by_reason[command.reason] = command
                target.in_flight += 1
            self.pool.submit(self.post, command)

    def post(self, command):
        instance = command.instance
        command.sent = now()
        try:
            status, document = request(instance.port, self.token, "POST", "/v1/commands", {
                "command": "param.set", "args": {"param": command.knob, "value": command.value},
                "reason": command.reason}, timeout=15)
            command.status = status
            command.outcome = (document or {}).get("outcome") if isinstance(document, dict) else None
            if status != 200:
                command.error = json.dumps(document)[:300]
        except (OSError, http.client.HTTPException) as error:
            command.error = f"{type(error).__name__}: {error}"
        finally:
            command.answered = now()
            with self.lock:
                instance.in_flight -= 1
                self.lock.notify_all()

    def applied(self, command):
        return command.status == 200 and command.outcome == "applied"

    def reached_another(self, command):
        """Whether some instance other than the one that took it audited it (so it is in the database)."""
        seen = self.receipts.get(command.reason, {})
        return any(instance_id != command.instance.id for instance_id in seen)

    # MARK: Leadership

    def current_leader(self, timeout=LEAD_TIMEOUT):
        """The leader as the database has it (/v1/fleet at an instance), once its own /v1/fleet agrees."""
        deadline = now() + timeout
        while now() < deadline:
            self.check_exits()
            try:
                asked = self.random.choice([i for i in self.instances if i.ready])
                view = self.fleet_view(asked)
                leader = view.get("leader")
                if leader is not None:
                    instance = self.instance(leader)
                    if instance.ready and instance.stream is not None and instance.stream.closed_at is None:
                        own = self.fleet_view(instance)
                        if own.get("leader") == leader and own.get("term") == view.get("term"):
                            return instance, view.get("term")
            except (OSError, http.client.HTTPException, IndexError):
                pass
            time.sleep(0.2)
        raise PhaseFailure(f"no instance leads with its lease within {timeout:g} s")

    def wait_lead(self, after, excluding=None, above_term=None, timeout=LEAD_TIMEOUT):
        """The first `fleet.lead` read after `after` from another instance than `excluding`: (time, id, term)."""
        deadline = now() + timeout
        with self.lock:
            while True:
                for lead in self.leads:
                    if lead[0] > after and lead[1] != excluding and (above_term is None or (lead[2] or 0) > above_term):
                        return lead[:3]
                left = deadline - now()
                if left <= 0:
                    return None
                self.lock.wait(min(left, 0.5))

    def instance(self, instance_id):
        return next(i for i in self.instances if i.id == instance_id)

    def wait_back(self, instance, version):
        """After a restart: listening, its stream read, connected and caught up to `version`."""
        deadline = now() + BACK_TIMEOUT
        self.wait_listening([instance])
        instance.open_stream()
        if not instance.stream.subscribed.wait(30) or instance.stream.closed_at is not None:
            raise SetupError(f"{instance.id}: no event stream after its restart ({instance.stream.error})")
        while now() < deadline:
            self.check_exits()
            try:
                view = self.fleet_view(instance)
                mine = next((row for row in view.get("instances", []) if row.get("id") == instance.id), None)
                if view.get("connected") and mine is not None and mine.get("applied_version", -1) >= version:
                    instance.ready = True
                    return now()
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise SetupError(f"{instance.id} was not connected and caught up to version {version} within "
                         f"{BACK_TIMEOUT:g} s of its restart:\n{instance.log_tail()}")

    # MARK: (b) Failover

    def failover(self, number):
        leader, term = self.current_leader()
        with self.lock:
            leader.draining = True
            # Every command the leader answered has reached another instance (it is in the database).
            deadline = now() + OUT_TIMEOUT
            while True:
                pending = [c for c in self.commands if c.instance is leader and c.incarnation == leader.incarnation
                           and (c.answered is None or (self.applied(c) and not self.reached_another(c)))]
                if not pending or now() > deadline:
                    break
                self.lock.wait(0.2)
            for command in pending:
                command.unconfirmed = True
        version = self.fleet_view(self.random.choice([i for i in self.instances if i is not leader and i.ready])
                                  ).get("version", 0)
        killed_at = leader.kill()
        lead = self.wait_lead(killed_at, excluding=leader.id, above_term=term)
        leader.start()
        back_at = self.wait_back(leader, version)
        leader.draining = False
        if lead is None:
            raise PhaseFailure(f"kill {number}: no instance announced leadership within {LEAD_TIMEOUT:g} s of the "
                               f"kill of {leader.id} (term {term})")
        record = {"kill": number, "killed": leader.id, "term": term, "new_leader": lead[1], "new_term": lead[2],
                  "failover_s": lead[0] - killed_at, "back_s": back_at - killed_at,
                  "unconfirmed_commands": len(pending)}
        log(f"kill {number}/{self.args.kills}: {leader.id} (term {term}) -> {lead[1]} (term {lead[2]}) in "
            f"{seconds(record['failover_s'])}; {leader.id} back after {record['back_s']:.1f} s")
        return record

    # MARK: (c) Server restarts

    def restart_server(self, number):
        ctl, folder = os.environ["SENTINEL_TEST_POSTGRES_CTL"], os.environ["SENTINEL_TEST_POSTGRES_DIR"]
        # The term before the restart: a leader after it has a higher one (there may be none before it).
        term = max((self.fleet_view(i).get("term") or 0 for i in self.instances if i.ready), default=0)
        started = now()
        done = subprocess.run([ctl, "restart", folder], capture_output=True, text=True, timeout=180)
        restarted = now()
        if done.returncode != 0:
            raise SetupError(f"restart {number}: {ctl} restart exited {done.returncode}: {done.stderr[-2000:]}")
        # Every instance reads again what is written after the restart, with or without a leader: the
        # version of the first command sent once the server was back (known from another instance's audit
        # of it), applied at each instance by its own /v1/fleet. An instance that still says "connected"
        # from before the restart but reads nothing any more never gets there.
        target = self.version_written_after(restarted, timeout=BACK_TIMEOUT)
        waiting = self.wait_caught_up(self.instances, target, timeout=max(1.0, restarted + BACK_TIMEOUT - now()))
        if waiting:
            self.restart_problems.append(
                f"restart {number}: {len(waiting)} instances did not read the database again within "
                f"{BACK_TIMEOUT:g} s: {', '.join(i.id for i in waiting)}")
            log(self.restart_problems[-1])
        all_connected = now()
        lead = self.wait_lead(started, above_term=term, timeout=max(1.0, started + LEAD_TIMEOUT - now()))
        record = {"restart": number, "server_restart_s": restarted - started,
                  "all_connected_s": None if waiting else all_connected - started, "not_reconnected": len(waiting),
                  "leader_s": None if lead is None else lead[0] - started, "new_leader": lead and lead[1],
                  "new_term": lead and lead[2]}
        log(f"server restart {number}/{self.args.restarts}: restarted in {record['server_restart_s']:.1f} s; "
            + (f"all {len(self.instances)} read the database again after {record['all_connected_s']:.1f} s; "
               if not waiting else f"{len(waiting)} never read it again; ")
            + (f"{lead[1]} leads (term {lead[2]}) {record['leader_s']:.1f} s after the restart began" if lead else
               f"NO LEADER within {LEAD_TIMEOUT:g} s of the restart (term {term} before it)"))
        return record

    # MARK: (d) Settling and counting

    def version_written_after(self, moment, timeout):
        """The version of the first command sent after `moment` that some other instance audited."""
        deadline = now() + timeout
        with self.lock:
            while True:
                found = [self.versions[c.reason] for c in self.commands
                         if c.sent is not None and c.sent > moment and c.reason in self.versions]
                if found:
                    return min(found)
                if now() > deadline:
                    return None
                self.lock.wait(0.25)

    def wait_caught_up(self, instances, target, timeout):
        """Until each instance's own /v1/fleet shows it connected with `target` applied. Returns those still
        behind (all of them when `target` is None: nothing written after the restart reached anyone)."""
        if target is None:
            return list(instances)
        deadline = now() + timeout
        waiting = list(instances)
        while waiting:
            self.check_exits()
            still = []
            for instance in waiting:
                try:
                    view = self.fleet_view(instance)
                except (OSError, http.client.HTTPException):
                    still.append(instance)
                    continue
                mine = next((r.get("applied_version") for r in view.get("instances", []) if r.get("id") == instance.id),
                            -1)
                if not (view.get("connected") and mine >= target):
                    still.append(instance)
            waiting = still
            if not waiting or now() > deadline:
                break
            time.sleep(0.25)
        return waiting

    def settle(self):
        """Until every watched stream has every command, and every instance applied the last version.
        Returns (the last version, problems)."""
        deadline = now() + SETTLE_TIMEOUT
        problems = []
        with self.lock:
            while True:
                missing = [(c, i) for c in self.commands if self.applied(c) for i, s in c.watchers.items()
                           if s.closed_at is None and i not in self.receipts.get(c.reason, {})]
                if not missing or now() > deadline:
                    break
                self.lock.wait(0.5)
        if missing:
            problems.append(f"after {SETTLE_TIMEOUT:g} s, {len(missing)} (command, instance) pairs had not come on "
                            f"the streams, at {', '.join(sorted({i for _, i in missing})[:10])}")
        while True:
            self.check_exits()
            views = {i.id: self.fleet_view(i) for i in self.instances}
            version = max(v.get("version", 0) for v in views.values())
            behind = sorted(key for key, v in views.items() if not v.get("connected") or next(
                (r.get("applied_version") for r in v.get("instances", []) if r.get("id") == key), -1) < version)
            if not behind or now() > deadline:
                break
            time.sleep(0.5)
        if behind:
            problems.append(f"after {SETTLE_TIMEOUT:g} s, instances not at version {version}: "
                            + ", ".join(f"{key} (says version {views[key].get('version')}, connected "
                                        f"{views[key].get('connected')})" for key in behind[:10]))
        for problem in problems:
            log(problem)
        return version, problems

    def final_params(self):
        values = {}
        for instance in self.instances:
            status, document = request(instance.port, self.token, "GET", "/v1/params")
            if status != 200 or not isinstance(document, dict):
                raise SetupError(f"GET /v1/params at {instance.id}: HTTP {status}")
            values[instance.id] = {knob: (document.get(knob) or {}).get("value") for knob, _ in KNOBS}
        return values

    def read_audits(self):
        """Per instance: reason -> count of applied param.set entries; versions seen in correlation IDs."""
        counts, versions, torn, leads = {}, {}, {}, {}
        for instance in self.instances:
            mine = counts[instance.id] = {}
            torn[instance.id] = 0
            leads[instance.id] = 0
            # Rotated files are audit.jsonl.1 (the newest), .2, ...; audit.jsonl.lost is the sink's own note.
            paths = [instance.audit_path] + sorted(
                (p for p in os.listdir(instance.folder) if re.fullmatch(r"audit\.jsonl\.\d+", p)), reverse=True)
            for path in paths:
                path = os.path.join(instance.folder, path)
                if not os.path.exists(path):
                    continue
                with open(path, "rb") as f:
                    for line in f:
                        try:
                            entry = json.loads(line)
                        except ValueError:
                            torn[instance.id] += 1
                            continue
                        if entry.get("action") == "fleet.lead":
                            leads[instance.id] += 1
                        if entry.get("action") != "param.set" or entry.get("outcome") != "applied":
                            continue
                        reason = entry.get("reason")
                        if reason not in self.by_reason:
                            continue
                        mine[reason] = mine.get(reason, 0) + 1
                        correlation = entry.get("correlation_id") or ""
                        match = re.match(r"fleet:(\d+)", correlation)
                        if match:
                            versions.setdefault(reason, set()).add(int(match.group(1)))
        return counts, versions, torn, leads

    def stop_all(self):
        self.stopped.set()
        self.sending.clear()
        codes = {}
        for instance in self.instances:
            if instance.stream is not None:
                instance.stream.close()
        running = [i for i in self.instances if i.process is not None and i.process.poll() is None]
        for instance in running:
            instance.ready = False
            instance.killed_by_harness = True
            instance.cpu_done += cpu_of(instance.process.pid)
            instance.process.send_signal(signal.SIGTERM)
        deadline = now() + STOP_GRACE
        for instance in running:
            try:
                code = instance.process.wait(timeout=max(0.1, deadline - now()))
            except subprocess.TimeoutExpired:
                instance.process.kill()
                instance.process.wait(timeout=10)
                code = f"still running {STOP_GRACE:g} s after SIGTERM (killed)"
            instance.exits.append((instance.incarnation, code, False))
            codes[instance.id] = code
        return codes


def log(message):
    print(message, file=sys.stderr, flush=True)


def memory_available_mib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def postgres_cpu():
    """CPU seconds of the test server: its postmaster, what it reaped, and its live backends."""
    folder = os.environ.get("SENTINEL_TEST_POSTGRES_DIR")
    if not folder:
        return None
    try:
        with open(os.path.join(folder, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
    except (OSError, ValueError):
        return None
    total = cpu_of(postmaster)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                continue
    return total


# MARK: - The run and its report


def run(harness):
    args = harness.args
    result = {"load_before": [round(x, 2) for x in os.getloadavg()], "memory_available_before_mib":
              memory_available_mib()}
    harness.prepare()
    harness.start_fleet()
    result["startup_s"] = harness.startup_s
    result["rss_mib_total"] = round(sum(rss_mib(i.process.pid) for i in harness.instances))
    result["memory_available_after_start_mib"] = memory_available_mib()
    threading.Thread(target=harness.sender, daemon=True, name="sender").start()

    # (a) propagation, the fleet at rest; what the instances and the server cost meanwhile.
    log(f"(a) propagation: {args.commands} commands at {args.rate:g}/s to random instances")
    cpu_instances, cpu_server, window = sum(i.cpu() for i in harness.instances), postgres_cpu(), now()
    harness.phase = "propagation"
    harness.sending.set()
    while len(harness.commands) < args.commands:
        harness.check_exits()
        time.sleep(0.1)
    window = now() - window
    cpu_instances = sum(i.cpu() for i in harness.instances) - cpu_instances
    server_after = postgres_cpu()
    result["steady"] = {
        "window_s": window, "instances_cpu_cores": cpu_instances / window,
        "server_cpu_cores": None if cpu_server is None or server_after is None else (server_after - cpu_server) / window,
        "load": [round(x, 2) for x in os.getloadavg()],
    }

    # (b) failover.
    harness.phase = "failover"
    result["kills"] = []
    if args.kills:
        log(f"(b) failover: {args.kills} kills of the leader, commands going on")
    result["phase_failures"] = []
    try:
        for number in range(1, args.kills + 1):
            result["kills"].append(harness.failover(number))
            time.sleep(args.pause)
    except PhaseFailure as failure:
        # Without a leader the kills cannot go on; the restarts and the count still run.
        log(f"(b) stopped: {failure}")
        result["phase_failures"].append(str(failure))

    # (c) server restarts.
    harness.phase = "server-restart"
    result["restarts"] = []
    if args.restarts:
        log(f"(c) {args.restarts} restarts of PostgreSQL, commands going on")
    for number in range(1, args.restarts + 1):
        time.sleep(args.pause)
        result["restarts"].append(harness.restart_server(number))
    time.sleep(args.pause)

    # (d) settle, then count.
    harness.sending.clear()
    harness.pool.shutdown(wait=True)
    log("(d) settling, then reading every audit file")
    result["final_version"], settle_problems = harness.settle()
    result["phase_failures"] += settle_problems + harness.restart_problems
    result["params"] = harness.final_params()
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    result["cpu_instances_total_s"] = sum(i.cpu() for i in harness.instances)
    result["exit_codes"] = harness.stop_all()
    result["audits"] = harness.read_audits()
    return result


def analyse(harness, result):
    args = harness.args
    commands = harness.commands
    answered = [c for c in commands if harness.applied(c)]
    failed = [c for c in commands if not harness.applied(c)]
    unconfirmed = [c for c in answered if c.unconfirmed]
    counted = [c for c in answered if not c.unconfirmed]
    counts, versions, torn, leads = result["audits"]

    lost, doubled, lost_commands, doubled_commands = [], [], set(), set()
    for command in counted:
        for instance in harness.instances:
            n = counts[instance.id].get(command.reason, 0)
            if n == 0:
                lost.append((command.seq, instance.id))
                lost_commands.add(command.seq)
            elif n > 1:
                doubled.append((command.seq, instance.id, n))
                doubled_commands.add(command.seq)
    # Where each lost command was taken (its instance and when), and whether a doubled one was written to the
    # database twice (two versions in the other instances' audit: every instance has it twice) or audited
    # twice by one instance (one version).
    lost_detail = [{"command": c.seq, "instance": c.instance.id, "answered_after_s": round(c.answered - harness.t0, 3),
                    "phase": c.phase, "missing_at": sum(1 for seq, _ in lost if seq == c.seq)}
                   for c in counted if c.seq in lost_commands]
    doubled_detail = [{"command": c.seq, "instance": c.instance.id, "versions": sorted(versions.get(c.reason, ())),
                       "doubled_at": sum(1 for seq, _, _ in doubled if seq == c.seq)}
                      for c in counted if c.seq in doubled_commands]

    # The value each knob must end with: that of the command the database wrote last for it.
    expected, unknown_versions = {}, 0
    for command in counted:
        found = versions.get(command.reason)
        if not found:
            unknown_versions += 1
            continue
        version = max(found)
        if command.knob not in expected or version > expected[command.knob][0]:
            expected[command.knob] = (version, command.value, command.seq)
    diverged = []
    for instance_id, values in result["params"].items():
        for knob, (version, value, seq) in expected.items():
            if values.get(knob) is None or abs(values[knob] - value) > 1e-9:
                diverged.append({"instance": instance_id, "knob": knob, "value": values.get(knob),
                                 "expected": value, "command": seq, "version": version})

    # Propagation: pairs whose stream was open from before the POST until the event.
    phases = {}
    not_on_stream = 0
    for command in counted:
        seen = harness.receipts.get(command.reason, {})
        delays, complete = [], True
        for instance_id, stream in command.watchers.items():
            times = [t for t, s in seen.get(instance_id, []) if s is stream]
            if times:
                delays.append(max(0.0, min(times) - command.answered))
            else:
                complete = False
                if stream.closed_at is None:
                    not_on_stream += 1
        phase = phases.setdefault(command.phase, {"pairs": [], "last": [], "commands": 0, "complete": 0})
        phase["commands"] += 1
        phase["pairs"] += delays
        if delays:
            phase["last"].append(max(delays))
        if complete:
            phase["complete"] += 1
    propagation = {}
    for name, phase in phases.items():
        propagation[name] = {"commands": phase["commands"], "commands_every_instance_watched": phase["complete"],
                             "pairs": spread(phase["pairs"]), "per_command_last": spread(phase["last"]),
                             "pairs_within_1s": (sum(1 for d in phase["pairs"] if d <= 1.0) / len(phase["pairs"])
                                                 if phase["pairs"] else float("nan"))}
    post_latency = spread([c.answered - c.sent for c in answered])

    failovers = [k["failover_s"] for k in result["kills"]]
    problems = list(result["phase_failures"])
    leaderless = [r["restart"] for r in result["restarts"] if r["leader_s"] is None]
    if leaderless:
        problems.append(f"no leader within {LEAD_TIMEOUT:g} s after server restart(s) {leaderless}")
    if lost:
        problems.append(f"{len(lost)} lost (command, instance) pairs in {len(lost_commands)} commands")
    if doubled:
        problems.append(f"{len(doubled)} doubled (command, instance) pairs in {len(doubled_commands)} commands")
    if diverged:
        problems.append(f"{len(diverged)} knob values differ from the last written")
    if failed:
        problems.append(f"{len(failed)} commands not answered 200 applied")
    if unconfirmed:
        problems.append(f"{len(unconfirmed)} commands a leader answered did not reach another instance within "
                        f"{OUT_TIMEOUT:g} s before its kill (left out of the count)")
    if not_on_stream:
        problems.append(f"{not_on_stream} (command, instance) pairs never came on an open event stream")
    if harness.unexpected_exits:
        problems.append(f"{len(harness.unexpected_exits)} instances exited by themselves")
    bad_exits = {k: v for k, v in result["exit_codes"].items() if v != 0}
    if bad_exits:
        problems.append(f"instances that did not exit 0 on SIGTERM: {bad_exits}")
    if sum(torn.values()):
        problems.append(f"{sum(torn.values())} unreadable audit lines")

    summary = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "binary": harness.binary, "binary_sha256": harness.binary_digest,
        "configuration": {"instances": args.instances, "kills": args.kills, "restarts": args.restarts,
                          "commands": args.commands, "rate_per_s": args.rate, "lease_s": args.lease,
                          "seed": args.seed, "schema": harness.schema},
        "load_average": {"before": result["load_before"], "steady": result["steady"]["load"],
                         "after": result["load_after"]},
        "memory": {"instances_rss_mib": result["rss_mib_total"],
                   "available_before_mib": result["memory_available_before_mib"],
                   "available_after_start_mib": result["memory_available_after_start_mib"]},
        "startup_s": result["startup_s"],
        "steady_cpu": result["steady"],
        "commands": {"sent": len(commands), "answered_applied": len(answered), "failed": len(failed),
                     "unconfirmed_before_kill": len(unconfirmed), "counted": len(counted),
                     "failed_examples": [f"#{c.seq} at {c.instance.id}: {c.status} {c.error}" for c in failed[:5]]},
        "post_latency": post_latency,
        "propagation": propagation,
        "failover": {"kills": len(failovers), **spread(failovers), "records": result["kills"]},
        "server_restarts": {
            "count": len(result["restarts"]),
            "without_leader": sum(1 for r in result["restarts"] if r["leader_s"] is None),
            "leader": spread([r["leader_s"] for r in result["restarts"] if r["leader_s"] is not None]),
            "all_connected": spread([r["all_connected_s"] for r in result["restarts"] if r["all_connected_s"] is not None]),
            "records": result["restarts"]},
        "leadership": {"fleet_lead_events": len(harness.leads), "fleet_follow_events": len(harness.follows),
                       "fleet_lead_in_audit_files": sum(leads.values())},
        "count": {"instances": len(harness.instances), "counted_commands": len(counted),
                  "pairs": len(counted) * len(harness.instances), "lost": len(lost), "doubled": len(doubled),
                  "lost_examples": lost[:20], "doubled_examples": doubled[:20], "diverged": len(diverged),
                  "lost_commands": lost_detail, "doubled_commands": doubled_detail,
                  "diverged_examples": diverged[:20],
                  "commands_without_version": unknown_versions},
        "final_version": result["final_version"],
        "stream_problems": harness.stream_problems[:20],
        "unexpected_exits": harness.unexpected_exits,
        "problems": problems,
    }
    return summary


def report(summary):
    c = summary["configuration"]
    lines = [f"fleet on PostgreSQL, {summary['date']}: {summary['machine']}",
             f"binary {summary['binary']} (sha256 {summary['binary_sha256'][:16]})",
             f"{c['instances']} instances, {c['kills']} leader kills, {c['restarts']} server restarts, "
             f"{c['commands']} commands at rest then more during (b) and (c), {c['rate_per_s']:g} commands/s, "
             f"lease {c['lease_s'] if c['lease_s'] is not None else 'default (5 s)'}",
             f"load average before {summary['load_average']['before']}, during (a) "
             f"{summary['load_average']['steady']}, after {summary['load_average']['after']}",
             f"memory: the instances' RSS {summary['memory']['instances_rss_mib']} MiB in all; available "
             f"{summary['memory']['available_before_mib']} MiB before, "
             f"{summary['memory']['available_after_start_mib']} MiB once started; start-up {summary['startup_s']:.1f} s"]
    steady = summary["steady_cpu"]
    lines.append(f"at rest ({steady['window_s']:.0f} s of (a)): the instances used {steady['instances_cpu_cores']:.2f} "
                 "cores in all" + (f", the server {steady['server_cpu_cores']:.2f}" if steady["server_cpu_cores"]
                                   is not None else ""))
    k = summary["commands"]
    lines.append(f"commands: {k['sent']} sent, {k['answered_applied']} answered 200 applied, {k['failed']} failed, "
                 f"{k['unconfirmed_before_kill']} left out (not out before a kill), {k['counted']} counted; "
                 f"POST p50 {seconds(summary['post_latency']['p50_s'])}, p99 {seconds(summary['post_latency']['p99_s'])}")
    lines.append("")
    lines.append("| phase | commands | (command, instance) pairs | p50 | p99 | max | within 1 s | per command until "
                 "the last: p50 | p99 | max |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("propagation", "failover", "server-restart"):
        p = summary["propagation"].get(name)
        if not p:
            continue
        pairs, last = p["pairs"], p["per_command_last"]
        lines.append(f"| {name} | {p['commands']} | {pairs['count']:,} | {seconds(pairs['p50_s'])} | "
                     f"{seconds(pairs['p99_s'])} | {seconds(pairs['max_s'])} | {100 * p['pairs_within_1s']:.2f} % | "
                     f"{seconds(last['p50_s'])} | {seconds(last['p99_s'])} | {seconds(last['max_s'])} |")
    lines.append("")
    f = summary["failover"]
    if f["kills"]:
        lines.append(f"failover ({f['kills']} SIGKILLs of the leader, to the next fleet.lead): p50 "
                     f"{seconds(f['p50_s'])}, p99 {seconds(f['p99_s'])}, max {seconds(f['max_s'])}")
    r = summary["server_restarts"]
    if r["count"]:
        lines.append(f"server restarts ({r['count']}): a leader again after p50 {seconds(r['leader']['p50_s'])}, "
                     f"max {seconds(r['leader']['max_s'])} ({r['without_leader']} restarts left the fleet without "
                     f"a leader for {LEAD_TIMEOUT:g} s); every instance connected after p50 "
                     f"{seconds(r['all_connected']['p50_s'])}, max {seconds(r['all_connected']['max_s'])} "
                     "(from the start of the restart)")
    n = summary["count"]
    lines.append(f"count: {n['counted_commands']} commands x {n['instances']} instances = {n['pairs']:,} pairs; "
                 f"lost {n['lost']}, doubled {n['doubled']}, diverged knob values {n['diverged']}")
    for item in n["lost_commands"][:10]:
        lines.append(f"  lost: command #{item['command']}, answered by {item['instance']} {item['answered_after_s']:.1f} s "
                     f"into the run ({item['phase']}), missing at {item['missing_at']} instances")
    for item in n["doubled_commands"][:10]:
        how = (f"written twice, versions {item['versions']}" if len(item["versions"]) > 1
               else f"audited twice, version {item['versions'][0] if item['versions'] else '?'}")
        lines.append(f"  doubled: command #{item['command']} (taken by {item['instance']}) at {item['doubled_at']} "
                     f"instances: {how}")
    for example in summary["commands"]["failed_examples"]:
        lines.append(f"  failed: {example}")
    for example in summary["stream_problems"][:5]:
        lines.append(f"  stream: {example}")
    lines.append("")
    lines.append("PASSED: nothing lost, doubled or diverged" if not summary["problems"]
                 else "FAILED: " + "; ".join(summary["problems"]))
    return "\n".join(lines)


def interrupted(*_):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sentinel", help="path to the sentinel binary")
    parser.add_argument("--instances", type=int, default=50, help="instance processes (default 50)")
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs of the leader (default 100)")
    parser.add_argument("--restarts", type=int, default=10, help="restarts of PostgreSQL (default 10)")
    parser.add_argument("--commands", type=int, default=200, help="commands of phase (a), at rest (default 200)")
    parser.add_argument("--rate", type=float, default=2.0, help="commands a second, all along (default 2)")
    parser.add_argument("--lease", type=float, help="--fleet-lease of the instances (default: theirs, 5 s)")
    parser.add_argument("--pause", type=float, default=2.0,
                        help="seconds between a kill's instance being back and the next kill, and around restarts")
    parser.add_argument("--start-batch", type=int, default=5, help="instances started at a time (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the choice of instances (default 1)")
    parser.add_argument("--postgres-url", default=os.environ.get("SENTINEL_TEST_POSTGRES_URL"),
                        help="postgres://USER@HOST:PORT/DATABASE (default $SENTINEL_TEST_POSTGRES_URL)")
    parser.add_argument("--schema", help="the fleet's schema (default a new one per run)")
    parser.add_argument("--json", help="also write the figures as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the folder of logs and audit files")
    args = parser.parse_args()
    if args.instances < 2 or args.kills < 0 or args.restarts < 0 or args.commands < 1 or args.rate <= 0:
        parser.error("--instances at least 2, --commands at least 1, --rate positive, --kills and --restarts >= 0")
    if not os.access(args.sentinel, os.X_OK):
        parser.error(f"{args.sentinel}: not an executable")
    if not args.postgres_url:
        parser.error("no database: run under Tests/fleet/with-postgres.sh or give --postgres-url")
    if args.restarts and not (os.environ.get("SENTINEL_TEST_POSTGRES_CTL") and os.environ.get("SENTINEL_TEST_POSTGRES_DIR")):
        parser.error("--restarts needs SENTINEL_TEST_POSTGRES_CTL and _DIR (Tests/fleet/with-postgres.sh sets them)")

    folder = tempfile.mkdtemp(prefix="sentinel-fleet-harness-")
    harness = Harness(args, folder)
    # SIGTERM and SIGINT end the run through the finally below (SIGINT also when the shell that started
    # this in the background left it ignored: Ctrl-C must stop the instances).
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    keep = args.keep
    try:
        result = run(harness)
        summary = analyse(harness, result)
        print(report(summary))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(summary, f, indent=2, default=str)
        if summary["problems"]:
            keep = True
        return 1 if summary["problems"] else 0
    except KeyboardInterrupt:
        log("interrupted")
        return 1
    except (SetupError, OSError, http.client.HTTPException, subprocess.SubprocessError) as error:
        keep = True
        log(f"fleet_harness: {error}")
        return 2
    finally:
        harness.stop_all()
        harness.pool.shutdown(wait=False, cancel_futures=True)
        if keep:
            log(f"logs and audit files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
