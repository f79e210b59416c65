#!/usr/bin/env bash
# The operator commands (`sentinel status`, `set`, `freeze`, `audit --follow`, ...) as
# operators and scripts call them: exit codes, output formats, what goes over the wire.
#
# Usage: Tests/cli/operator-cli.sh PATH_TO_SENTINEL
#
# Four parts:
#   1. without a server: the exit codes in the root help, `token create`, usage errors
#      (exit 2), no token and no server (exit 3);
#   2. against a stand-in of the admin API (python3, written below from docs/admin-api.md):
#      every command, every status's exit code, the retry with the same idempotency key,
#      the event stream with a reconnection, token and server resolution, HTTPS with --ca-file;
#   3. end to end against `sentinel run --admin` (skipped while the server has no --admin);
#   4. end to end: a freeze from the CLI holds a script's running shadow trial.
# Every wait is bounded (at most about 10 s); every process started here is stopped on exit.
set -u
bin=${1:?usage: $0 PATH_TO_SENTINEL}
work=$(mktemp -d /tmp/sentinel-operator-cli-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
passed=0
# The environment must not choose a server or a token for us.
unset SENTINEL_SERVER SENTINEL_TOKEN SENTINEL_TOKEN_FILE

source "$(dirname "$0")/checks.sh"

# ---------------------------------------------------------------------------------------------
# 1. Without a server
# ---------------------------------------------------------------------------------------------

out=$("$bin" token create alice 2>&1); code=$?
expect "token create exits 0" 0 $code "$out"
expect "token create prints two lines" 0 0 "$(wc -l <<<"$out" | tr -d ' ')" "^2$"
token=$(sed -n 1p <<<"$out"); item=$(sed -n 2p <<<"$out")
expect "the token is 64 lowercase hex characters" 0 0 "$token" "^[0-9a-f]{64}$"
expect "the second line is the tokens file's item" 0 0 "$item" "^- \{ id: alice, sha256: [0-9a-f]{64} \}$"
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
expect "the hash is the SHA-256 of the token (sha256sum)" 0 0 "$item" "sha256: $hash \}$"
other=$("$bin" token create alice | sed -n 1p)
refute "two tokens differ" "$other" "^$token$"
out=$("$bin" token create "deploy-bot_2.x@ops" 2>&1); expect "token create: _ - . @ in an ID" 0 $? "$out" "id: deploy-bot_2.x@ops,"
out=$("$bin" token create "@ops" 2>&1); expect "token create: an ID YAML would misread is quoted" 0 $? "$out" 'id: "@ops",'
out=$("$bin" token create 42 2>&1); expect "token create: a numeric ID is quoted" 0 $? "$out" 'id: "42",'
out=$("$bin" token create "ali ce" 2>&1); expect "token create: a space in the ID" 2 $? "$out" "letters, digits"
out=$("$bin" token create "$(printf 'a%.0s' $(seq 1 65))" 2>&1); expect "token create: a 65-character ID" 2 $? "$out" "1 to 64"
out=$("$bin" token create "" 2>&1); expect "token create: an empty ID" 2 $? "$out"
out=$("$bin" token create 2>&1); expect "token create: no ID" 2 $? "$out"

for sub in status params set freeze unfreeze pause resume "trial abort" approve deny audit command "token create" "fleet status"; do
  # shellcheck disable=SC2086
  out=$("$bin" $sub --help 2>&1); expect "$sub --help has an example" 0 $? "$out" "Example"
done

# The root help lists the exit codes of every subcommand (DESIGN.md, "Operator commands").
out=$("$bin" --help 2>&1); expect "sentinel --help" 0 $? "$out" "^ *Exit codes"
expect "sentinel --help: exit 0" 0 0 "$out" "^ +0 +done$"
expect "sentinel --help: exit 1, refused (403, 409, 500)" 0 0 "$(tr -s ' \n' ' ' <<<"$out")" " 1 refused or failed: .*HTTP 403 denied, 409 rejected, 500 failed\)"
expect "sentinel --help: exit 2, usage (400, 404, 405, 413, 415, 422)" 0 0 "$(tr -s ' \n' ' ' <<<"$out")" " 2 usage: .*HTTP 400, 404, 405, 413, 415, 422\)"
expect "sentinel --help: exit 3, unreachable (401, 502, 503, 504)" 0 0 "$(tr -s ' \n' ' ' <<<"$out")" " 3 unreachable .*HTTP 401\).*HTTP 502, 503, 504"

# Usage errors come before the token and the server: exit 2 with neither.
out=$("$bin" freeze 2>&1); expect "freeze without --reason" 2 $? "$out" "--reason is required for freeze"
out=$("$bin" freeze --reason "   " 2>&1); expect "freeze with a blank --reason" 2 $? "$out" "--reason is required"
out=$("$bin" set shop.retry.max_attempts 2 2>&1); expect "set without --reason" 2 $? "$out" "--reason is required for set"
out=$("$bin" set shop.retry.max_attempts --reason r 2>&1); expect "set without a value" 2 $? "$out"
out=$("$bin" deny gate-1 2>&1); expect "deny without --reason" 2 $? "$out" "--reason is required for deny"
out=$("$bin" audit --limit 0 2>&1); expect "audit --limit 0" 2 $? "$out" "--limit 0: expected a whole number from 1 to 1000"
out=$("$bin" audit --limit 1001 2>&1); expect "audit --limit 1001" 2 $? "$out" "--limit 1001"
out=$("$bin" audit --limit many 2>&1); expect "audit --limit many" 2 $? "$out"
out=$("$bin" audit --since yesterday 2>&1); expect "audit --since yesterday" 2 $? "$out" "--since yesterday: not an RFC 3339 time"
out=$("$bin" audit --until 2026-02-30T00:00:00Z 2>&1); expect "audit --until on a day that does not exist" 2 $? "$out" "--until"
out=$("$bin" audit --since 2026-12-04T11:00:00Z --until 2026-12-04T10:00:00Z 2>&1); expect "audit --since after --until" 2 $? "$out" "is not before"
out=$("$bin" audit --outcome approved 2>&1); expect "audit --outcome approved" 2 $? "$out" "applied, denied, rejected, failed or dry_run"
out=$("$bin" command param.set --arg novalue 2>&1); expect "command --arg without =" 2 $? "$out" "expected KEY=VALUE"
out=$("$bin" command param.set --arg =1 2>&1); expect "command --arg with an empty key" 2 $? "$out" "the key is empty"
out=$("$bin" command param.set --arg a=1 --arg a=2 2>&1); expect "command --arg twice" 2 $? "$out" "given twice"
out=$("$bin" set x 1 --reason r --idempotency-key "" 2>&1); expect "an empty --idempotency-key" 2 $? "$out" "1 to 128"
out=$("$bin" frobnicate 2>&1); expect "an unknown subcommand" 2 $? "$out"

# No token: exit 3, saying how to give one.
out=$("$bin" status 2>&1); expect "status without a token" 3 $? "$out" "no token: give --token-file"
out=$("$bin" freeze --reason r 2>&1); expect "freeze without a token" 3 $? "$out" "no token"
out=$("$bin" status --token-file "$work/missing" 2>&1); expect "a missing token file" 3 $? "$out" "--token-file $work/missing: No such file or directory"
: > "$work/empty.token"
out=$("$bin" status --token-file "$work/empty.token" 2>&1); expect "an empty token file" 3 $? "$out" "the token is empty"
out=$(SENTINEL_TOKEN_FILE="$work/missing" "$bin" status 2>&1); expect "a missing \$SENTINEL_TOKEN_FILE" 3 $? "$out" "SENTINEL_TOKEN_FILE"
printf 'two tokens\n' > "$work/two.token"
out=$("$bin" status --token-file "$work/two.token" 2>&1); expect "a token file with two words" 3 $? "$out" "spaces or control characters"
refute "the token is never printed" "$out" "two tokens"

# No server: exit 3, promptly.
printf '  secret-token-value \n' > "$work/secret.token"
start=$SECONDS
out=$("$bin" status --server http://127.0.0.1:1 --token-file "$work/secret.token" 2>&1); code=$?
expect "status with no server there" 3 $code "$out" "cannot reach the sentinel at http://127.0.0.1:1: connection refused"
expect "and it says so within the connect timeout" 0 0 "$((SECONDS - start))" "^[0-6]$"
refute "the token is not in the message" "$out" "secret-token-value"
out=$("$bin" freeze --reason r --server http://127.0.0.1:1 --token-file "$work/secret.token" 2>&1)
expect "freeze with no server there" 3 $? "$out" "cannot reach"
out=$(SENTINEL_TOKEN=t "$bin" audit --follow --server http://127.0.0.1:1 2>&1); expect "audit --follow with no server there" 3 $? "$out" "cannot reach"
out=$(SENTINEL_TOKEN=t "$bin" status --server ftp://127.0.0.1 2>&1); expect "a server URL that is not http" 2 $? "$out" "expected http://HOST:PORT"
out=$(SENTINEL_TOKEN=t "$bin" status --server http://u:p@127.0.0.1:1 2>&1); expect "credentials in the server URL" 2 $? "$out" "credentials"
out=$(SENTINEL_TOKEN=t "$bin" status --server http://127.0.0.1:1 --ca-file "$work/ca.pem" 2>&1); expect "--ca-file with plain http" 2 $? "$out" "--ca-file applies to an https server"
out=$(SENTINEL_TOKEN=t SENTINEL_SERVER=http://127.0.0.1:1 "$bin" status 2>&1); expect "\$SENTINEL_SERVER is used" 3 $? "$out" "http://127.0.0.1:1"

# ---------------------------------------------------------------------------------------------
# 2. Against a stand-in of the admin API
# ---------------------------------------------------------------------------------------------

cat > "$work/fake_admin.py" <<'PYTHON'
"""A stand-in of the admin API (docs/admin-api.md), enough to drive the operator commands.

argv: PORT_FILE REQUEST_LOG [CERT KEY]. Writes the port it listens on to PORT_FILE and one
JSON line per request to REQUEST_LOG (method, path, Authorization header, body)."""
import json, socket, ssl, struct, sys, threading, time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOKENS = {"alice-token": "operator:alice", "viewer-token": "operator:viewer"}
KNOBS = {
    "shop.retry.max_attempts": {"value": 3, "shadow": None, "min": 1, "max": 100, "kind": "count", "unit": "",
                                "last_change": {"actor": "script:tuner", "time": "2026-12-04T10:58:10.000Z", "reason": "errors low"}},
    "shop.timeout.duration": {"value": 0.25, "shadow": 0.5, "min": 0.001, "max": 3600, "kind": "duration", "unit": "s",
                              "last_change": None},
    "other.timeout.duration": {"value": 2, "shadow": None, "min": 0.001, "max": 3600, "kind": "duration", "unit": "s",
                               "last_change": None},
}
FLEET = '{"leader": "i-1",  "term": 7, "instances": [{"id": "i-1", "applied_version": 12, "lag_s": 0, "last_seen": "2026-12-04T11:00:00.000Z", "scripts_hash": "a1b2c3d4e5f60718", "config_hash": "0000000000000000"}]}'

def entry(t, actor, action, outcome="applied", target=None, reason=None, args=None):
    e = {"time": t, "actor": actor, "action": action, "args": args or {}, "outcome": outcome}
    if target: e["target"] = target
    if reason: e["reason"] = reason
    return e

AUDIT = [
    entry("2026-12-04T10:00:00.000Z", "script:tuner", "param.set", target="shop.retry.max_attempts", reason="E0 errors low"),
    entry("2026-12-04T10:00:01.000Z", "sentinel", "script.load", target="tuner"),
]
lock = threading.Lock()
state = {"events": 0, "frozen": None, "seen_keys": set()}
log = open(sys.argv[2], "a")

def times(q, name):
    if name not in q: return None
    return datetime.fromisoformat(q[name][0].replace("Z", "+00:00")).timestamp()

def matches(pattern, value):
    if pattern.endswith("*"): return (value or "").startswith(pattern[:-1])
    return value == pattern

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args): pass

    def record(self, body=None):
        with lock:
            log.write(json.dumps({"method": self.command, "path": self.path,
                                  "auth": self.headers.get("Authorization"), "body": body}) + "\n")
            log.flush()

    def send_body(self, status, text, content_type="application/json"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, value): self.send_body(status, json.dumps(value))

    def error(self, status, code, message, audit=None):
        body = {"error": {"code": code, "message": message}}
        if audit: body["error"]["audit"] = audit
        self.send_json(status, body)

    def identity(self):
        auth = self.headers.get("Authorization", "")
        return TOKENS.get(auth[7:]) if auth.startswith("Bearer ") else None

    def do_GET(self):
        self.record()
        who = self.identity()
        if who is None:
            return self.error(401, "unauthorized", "missing or unknown bearer token")
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/v1/status":
            return self.send_json(200, {
                "instance": "shop-1", "uptime_s": 3725.5, "frozen": state["frozen"],
                "scripts": {"loaded": 2, "failed": 0, "suspended": 0, "paused": 1},
                "trials": {"running": 1, "total": 3}, "audit": {"entries": len(AUDIT), "failing": False, "dropped": 0},
                "state_file": None})
        if url.path == "/v1/params":
            return self.send_json(200, KNOBS)
        if url.path == "/v1/fleet":
            return self.send_body(200, FLEET)
        if url.path == "/v1/audit":
            try:
                since, until = times(q, "since"), times(q, "until")
                limit = int(q.get("limit", ["100"])[0])
            except ValueError as error:
                return self.error(400, "bad_request", f"bad query parameter: {error}")
            with lock:
                found = [e for e in AUDIT
                         if all(matches(q[f][0], e.get(f)) for f in ("actor", "action") if f in q)
                         and ("outcome" not in q or e["outcome"] == q["outcome"][0])
                         and (since is None or times({"t": [e["time"]]}, "t") >= since)
                         and (until is None or times({"t": [e["time"]]}, "t") < until)]
            return self.send_json(200, {"entries": found[-limit:], "source": "memory"})
        if url.path == "/v1/events":
            return self.events()
        self.error(404, "not_found", f"no such path {url.path}")

    def events(self):
        with lock:
            state["events"] += 1
            number = state["events"]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        def send(text):
            self.wfile.write(text.encode())
            self.wfile.flush()
        def publish(e):
            with lock: AUDIT.append(e)
            return json.dumps(e)
        try:
            if number == 1:
                send(": keepalive\n\n")
                send('event: alert\ndata: {"time":"2026-12-04T10:00:02.000Z","source":"x","severity":"info","message":"ALERT-IGNORED"}\n\n')
                send("event: audit\ndata: " + publish(entry("2026-12-04T10:00:03.000Z", "operator:alice", "param.set",
                                                             target="shop.retry.max_attempts", reason="A streamed")) + "\n\n")
                send("event: audit\ndata: " + publish(entry("2026-12-04T10:00:04.000Z", "sentinel", "script.reload",
                                                             target="tuner", reason="X-FILTERED-OUT")) + "\n\n")
                time.sleep(0.3)
                # Written while the follower is away: it must read it from the audit when it is back.
                publish(entry("2026-12-04T10:00:05.000Z", "script:tuner", "param.set", target="shop.retry.max_attempts",
                              reason="B while disconnected"))
                return
            # Later connections: an event with CR LF line ends, split across writes, then keepalives.
            text = "event: audit\r\ndata: " + publish(entry("2026-12-04T10:00:06.000Z", "operator:bob", "param.set",
                                                              target="shop.timeout.duration", reason="C after reconnecting")) + "\r\n\r\n"
            send(text[:10]); time.sleep(0.05); send(text[10:-3]); time.sleep(0.05); send(text[-3:])
            for _ in range(200):
                time.sleep(0.1)
                send(": keepalive\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.record(body)
        who = self.identity()
        if who is None:
            return self.error(401, "unauthorized", "missing or unknown bearer token")
        if self.path != "/v1/commands":
            return self.error(404, "not_found", "no such path")
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self.error(415, "unsupported_media_type", "expected application/json")
        if not isinstance(body, dict) or "command" not in body:
            return self.error(400, "bad_request", "malformed body")
        command, args, reason = body["command"], body.get("args", {}), body.get("reason")
        target = args.get("param") or args.get("name") or args.get("gate")
        audit = entry("2026-12-04T11:00:00.000Z", who, command, target=target, reason=reason, args=args)
        if who == "operator:viewer":
            audit["outcome"] = "denied"
            return self.error(403, "denied", f"no role of {who} (viewer) grants {command} on {target}", audit)
        if command == "param.set":
            if args.get("param") not in KNOBS:
                return self.error(400, "invalid_argument", f"{args.get('param')}: no such knob")
            value = args.get("value")
            if isinstance(value, (int, float)) and value > 100:
                audit["outcome"] = "rejected"
                return self.error(409, "rejected", f"{args['param']}: count {value} is outside 1...100", audit)
        elif command == "test.drop":
            key = body.get("idempotency_key")
            with lock:
                first = key not in state["seen_keys"]
                state["seen_keys"].add(key)
            if first:
                # The command "was applied" but the answer is lost: reset the connection.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
        elif command == "test.fail":
            audit["outcome"] = "failed"
            return self.error(500, "failed", "the handler failed: disk full", audit)
        elif command.startswith("test.") and command[5:].isdigit():
            status = int(command[5:])
            return self.error(status, "test", f"status {status} as asked")
        elif command == "automation.freeze":
            state["frozen"] = {"by": who, "reason": reason, "since": "2026-12-04T11:00:00.000Z"}
        elif command == "automation.unfreeze":
            state["frozen"] = None
        elif command not in ("script.pause", "script.resume", "trial.abort", "state.get"):
            return self.error(404, "unknown_command", f"unknown command '{command}'")
        outcome = "dry_run" if body.get("dry_run") else "applied"
        audit["outcome"] = outcome
        self.send_json(200, {"outcome": outcome, "result": {"ok": True, "command": command}, "audit": audit})

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if len(sys.argv) > 4:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
PYTHON

python3 "$work/fake_admin.py" "$work/fake.port" "$work/requests.jsonl" 2>"$work/fake.err" &
pids+=($!)
if ! wait_for 10 test -s "$work/fake.port"; then
  echo "FAIL the stand-in admin API did not start"; cat "$work/fake.err"; exit 1
fi
fake="http://127.0.0.1:$(cat "$work/fake.port")"
printf 'alice-token\n' > "$work/alice.token"
printf '  viewer-token  \n\n' > "$work/viewer.token"
printf 'wrong-token\n' > "$work/wrong.token"
ops=(--server "$fake" --token-file "$work/alice.token")
last_request() { tail -1 "$work/requests.jsonl"; }

# Reading
out=$("$bin" status "${ops[@]}" 2>&1); expect "status" 0 $? "$out" "^sentinel +shop-1 at $fake, up 1h 2m$"
expect "status: automation running" 0 0 "$out" "^automation +running$"
expect "status: scripts" 0 0 "$out" "^scripts +2 loaded, 0 failed, 0 suspended, 1 paused$"
expect "status: trials, audit, state file" 0 0 "$out" "^state file +none$"
expect "the token goes in the Authorization header" 0 0 "$(last_request)" '"auth": "Bearer alice-token"'
out=$("$bin" status "${ops[@]}" --json 2>&1); expect "status --json" 0 $? "$out" '^\{"instance": "shop-1", "uptime_s": 3725.5'
out=$("$bin" params "${ops[@]}" 2>&1); expect "params" 0 $? "$out" "^NAME +VALUE +SHADOW +MIN +MAX +LAST CHANGE$"
expect "params: one aligned line per knob, sorted" 0 0 "$(sed -n 2p <<<"$out")" "^other.timeout.duration   2      -       0.001  3600  -$"
expect "params: the last change (actor, how long ago, reason)" 0 0 "$out" "^shop.retry.max_attempts  +3 +- +1 +100 +script:tuner [0-9a-z ]+: errors low$"
expect "params: a shadow" 0 0 "$out" "^shop.timeout.duration +0.25 +0.5 "
out=$("$bin" params 'shop.*' "${ops[@]}" 2>&1); expect "params PATTERN" 0 $? "$out"
refute "params PATTERN filters" "$out" "other.timeout"
out=$("$bin" params '*.timeout.duration' "${ops[@]}" 2>&1); expect "params: * matches across dots" 0 $? "$out" "^other.timeout.duration"
expect "params: ... both pipelines" 0 0 "$(grep -c timeout.duration <<<"$out")" "^2$"
out=$("$bin" params 'shop.*' "${ops[@]}" --json 2>&1); expect "params PATTERN --json" 0 $? "$out" '^\{"shop.retry.max_attempts":\{.*"shop.timeout.duration":\{'
out=$("$bin" params 'nope.*' "${ops[@]}" 2>&1); expect "params: no knob matches" 0 $? "$out" "no knob matches nope.\*"
out=$("$bin" params "${ops[@]}" --json 2>&1); expect "params --json: the body as received" 0 $? "$out" '^\{"shop.retry.max_attempts": \{"value": 3'
out=$("$bin" fleet status "${ops[@]}" 2>&1); expect "fleet status" 0 $? "$out" "^leader i-1, term 7, 1 instance$"
expect "fleet status: the instances" 0 0 "$out" "^i-1 +leader +12 +0s +[0-9a-z ]+ +a1b2c3d4e5f60718 +0000000000000000$"
out=$("$bin" fleet status "${ops[@]}" --json 2>&1); expect "fleet status --json: the body byte for byte" 0 $? "$out" \
  '^\{"leader": "i-1",  "term": 7, "instances": \[\{"id": "i-1", "applied_version": 12,'

# The audit: filters go to the server percent-encoded (a + in an offset stays a plus).
out=$("$bin" audit "${ops[@]}" 2>&1); expect "audit" 0 $? "$out" \
  "^2026-12-04T10:00:00.000Z  script:tuner      param.set             shop.retry.max_attempts         applied   E0 errors low$"
expect "audit: an entry without a reason or a long target" 0 0 "$out" "^2026-12-04T10:00:01.000Z  sentinel +script.load +tuner +applied$"
out=$("$bin" audit "${ops[@]}" --since 2026-12-04T10:59:59.5+01:00 --until 2026-12-04T10:00:01Z --action 'param.*' --limit 5 --json 2>&1)
expect "audit with filters" 0 $? "$out" '^\{"action":"param.set","actor":"script:tuner",.*"reason":"E0 errors low"'
expect "audit: the query as sent" 0 0 "$(last_request)" \
  'since=2026-12-04T10%3A59%3A59.5%2B01%3A00&until=2026-12-04T10%3A00%3A01Z&action=param.%2A&limit=5"'
out=$("$bin" audit "${ops[@]}" --actor operator:nobody 2>&1); expect "audit: nothing matches" 0 $? "$out" "no audit entries match"

# Commands: the body, the answer line, the idempotency key.
out=$("$bin" set shop.retry.max_attempts 2 --reason "errors high" "${ops[@]}" 2>&1)
expect "set" 0 $? "$out" "^applied: param.set shop.retry.max_attempts = 2 \(operator:alice\): errors high$"
expect "set sends param.set {param, value} with a random idempotency key" 0 0 "$(last_request)" \
  '"body": \{"args": \{"param": "shop.retry.max_attempts", "value": 2\}, "command": "param.set", "dry_run": false, "idempotency_key": "[0-9a-f]{32}", "reason": "errors high"\}'
"$bin" set shop.retry.max_attempts 2 --reason r "${ops[@]}" >/dev/null 2>&1
key1=$(tail -2 "$work/requests.jsonl" | head -1 | grep -oE '"idempotency_key": "[0-9a-f]+"'); key2=$(last_request | grep -oE '"idempotency_key": "[0-9a-f]+"')
refute "each command has its own key" "$key1" "^$key2$"
out=$("$bin" set shop.timeout.duration 250ms --reason "p99 180ms" --idempotency-key deploy-42 --dry-run "${ops[@]}" 2>&1)
expect "set a duration, dry run, with a key" 0 $? "$out" "^dry_run: param.set shop.timeout.duration = 250ms \(operator:alice\): p99 180ms$"
expect "a duration stays a string; the key and dry_run are sent" 0 0 "$(last_request)" \
  '"value": "250ms"\}, "command": "param.set", "dry_run": true, "idempotency_key": "deploy-42"'
out=$("$bin" set shop.timeout.duration 1e-3 --reason r "${ops[@]}" 2>&1); expect "set a number in exponent form" 0 $? "$out"
expect "it is sent as a number" 0 0 "$(last_request)" '"value": 0.001\}'
out=$("$bin" set --reason r "${ops[@]}" -- shop.retry.max_attempts -1 2>&1); expect "set a negative value after --" 0 $? "$out"
expect "it is sent as a negative number" 0 0 "$(last_request)" '"value": -1\}'
out=$("$bin" set shop.retry.max_attempts 2 --reason r "${ops[@]}" --json 2>&1); expect "set --json: the answer as received" 0 $? "$out" '^\{"outcome": "applied", "result": \{"ok": true'
out=$("$bin" freeze --reason "incident 4711" "${ops[@]}" 2>&1); expect "freeze" 0 $? "$out" "^applied: automation.freeze \(operator:alice\): incident 4711$"
expect "freeze: the reason as the argument and the request's reason" 0 0 "$(last_request)" \
  '"body": \{"args": \{"reason": "incident 4711"\}, "command": "automation.freeze", .*"reason": "incident 4711"\}'
out=$("$bin" status "${ops[@]}" 2>&1); expect "status shows the freeze" 0 $? "$out" "^automation +FROZEN by operator:alice [0-9a-z ]+ \(2026-12-04T11:00:00.000Z\): incident 4711$"
out=$("$bin" unfreeze "${ops[@]}" 2>&1); expect "unfreeze (no reason needed)" 0 $? "$out" "^applied: automation.unfreeze \(operator:alice\)$"
expect "unfreeze sends no reason" 0 0 "$(last_request)" '"body": \{"args": \{\}, "command": "automation.unfreeze", "dry_run": false, "idempotency_key": "[0-9a-f]{32}"\}'
out=$("$bin" pause tuner --reason "migration" "${ops[@]}" 2>&1); expect "pause" 0 $? "$out" "^applied: script.pause tuner \(operator:alice\): migration$"
expect "pause sends script.pause {name}" 0 0 "$(last_request)" '"args": \{"name": "tuner"\}, "command": "script.pause"'
out=$("$bin" resume tuner "${ops[@]}" 2>&1); expect "resume" 0 $? "$out" "^applied: script.resume tuner \(operator:alice\)$"
out=$("$bin" trial abort shop-timeout --reason "regression" "${ops[@]}" 2>&1); expect "trial abort" 0 $? "$out" "^applied: trial.abort shop-timeout \(operator:alice\): regression$"
expect "trial abort sends trial.abort {name}" 0 0 "$(last_request)" '"args": \{"name": "shop-timeout"\}, "command": "trial.abort"'
out=$("$bin" approve gate-1 "${ops[@]}" 2>&1); expect "approve on a server without approvals: 404 unknown_command" 2 $? "$out" "unknown_command: unknown command 'approval.grant' \(HTTP 404\)"
expect "approve sends approval.grant {gate}" 0 0 "$(last_request)" '"args": \{"gate": "gate-1"\}, "command": "approval.grant"'
out=$("$bin" deny gate-1 --reason "not now" "${ops[@]}" 2>&1); expect "deny" 2 $? "$out" "approval.deny"
expect "deny sends approval.deny {gate} and the reason" 0 0 "$(last_request)" '"args": \{"gate": "gate-1"\}, "command": "approval.deny", .*"reason": "not now"'
out=$("$bin" command state.get --arg n=3 --arg f=0.5 --arg b=true --arg z=null --arg l='[1,"a"]' --arg o='{"k":1}' \
  --arg s=checkout.timeout.duration --arg d=250ms --arg q='"42"' --arg e= --arg eq=a=b "${ops[@]}" 2>&1)
expect "command with --arg" 0 $? "$out" "^applied: state.get \(operator:alice\)$"
expect "command prints the result" 0 0 "$out" '^result: \{"command":"state.get","ok":true\}$'
expect "--arg values: JSON when they parse, else strings" 0 0 "$(last_request)" \
  '"args": \{"b": true, "d": "250ms", "e": "", "eq": "a=b", "f": 0.5, "l": \[1, "a"\], "n": 3, "o": \{"k": 1\}, "q": "42", "s": "checkout.timeout.duration", "z": null\}'

# Every status's exit code, and the server's message on standard error.
out=$("$bin" set shop.retry.max_attempts 2 --reason r --server "$fake" --token-file "$work/viewer.token" 2>&1)
expect "403 denied: exit 1" 1 $? "$out" "^denied: no role of operator:viewer \(viewer\) grants param.set on shop.retry.max_attempts \(HTTP 403\)$"
out=$("$bin" status --server "$fake" --token-file "$work/viewer.token" 2>&1); expect "any valid token may read (whitespace around it ignored)" 0 $? "$out"
out=$("$bin" set shop.retry.max_attempts 500 --reason r "${ops[@]}" 2>/dev/null); expect "409 rejected: exit 1, nothing on standard output" 1 $? "$out" "^$"
out=$("$bin" set shop.retry.max_attempts 500 --reason r "${ops[@]}" 2>&1); expect "409: the reason" 1 $? "$out" "rejected: shop.retry.max_attempts: count 500 is outside 1...100 \(HTTP 409\)"
out=$("$bin" set shop.retry.max_attempts 500 --reason r "${ops[@]}" --json 2>/dev/null); expect "409 --json: the error body on standard output" 1 $? "$out" '"error": \{"code": "rejected".*"audit": \{'
out=$("$bin" command test.fail "${ops[@]}" 2>&1); expect "500 failed: exit 1" 1 $? "$out" "failed: the handler failed: disk full \(HTTP 500\)"
out=$("$bin" set nope.retry.max_attempts 2 --reason r "${ops[@]}" 2>&1); expect "400 invalid_argument: exit 2" 2 $? "$out" "invalid_argument: nope.retry.max_attempts: no such knob"
out=$("$bin" command no.such "${ops[@]}" 2>&1); expect "404 unknown_command: exit 2" 2 $? "$out" "unknown command 'no.such'"
for status in 400 404 405 413 415 422; do
  out=$("$bin" command "test.$status" "${ops[@]}" 2>&1); expect "$status: exit 2" 2 $? "$out" "status $status as asked \(HTTP $status\)"
done
out=$("$bin" command test.307 "${ops[@]}" 2>&1); expect "a redirect: not followed, exit 2" 2 $? "$out" "answered with a redirect \(HTTP 307\); give the admin API's own URL with --server"
for status in 502 503 504; do
  out=$("$bin" command "test.$status" "${ops[@]}" 2>&1); expect "$status: exit 3" 3 $? "$out" "\(HTTP $status\)"
done
out=$("$bin" status --server "$fake" --token-file "$work/wrong.token" 2>&1); expect "401 unauthorized: exit 3" 3 $? "$out" "unauthorized: missing or unknown bearer token \(HTTP 401\)"
out=$("$bin" freeze --reason r --server "$fake" --token-file "$work/wrong.token" 2>&1); expect "401 on a command: exit 3" 3 $? "$out" "HTTP 401"
out=$("$bin" audit --follow --server "$fake" --token-file "$work/wrong.token" 2>&1); expect "401 on audit --follow: exit 3" 3 $? "$out" "HTTP 401"
out=$("$bin" status --server "$fake/nothing-here" --token-file "$work/alice.token" 2>&1); expect "a wrong path prefix: 404, exit 2" 2 $? "$out" "not_found"

# A lost answer: the command is sent once more with the same idempotency key.
before=$(wc -l < "$work/requests.jsonl")
out=$("$bin" command test.drop "${ops[@]}" 2>&1); expect "a connection reset before the answer: retried once" 0 $? "$out" "sending the command once more with the same idempotency key"
expect "and then answered" 0 0 "$out" "^applied: test.drop \(operator:alice\)$"
keys=$(tail -n +"$((before + 1))" "$work/requests.jsonl" | grep -oE '"idempotency_key": "[0-9a-f]{32}"' | sort | uniq -c)
expect "both attempts carry the same key" 0 0 "$keys" "^ +2 \"idempotency_key\""

# Resolution order: --token-file, else $SENTINEL_TOKEN_FILE, else $SENTINEL_TOKEN; --server, else $SENTINEL_SERVER.
SENTINEL_TOKEN=alice-token "$bin" status --server "$fake" >/dev/null 2>&1
expect "\$SENTINEL_TOKEN" 0 0 "$(last_request)" '"auth": "Bearer alice-token"'
SENTINEL_TOKEN=alice-token SENTINEL_TOKEN_FILE="$work/viewer.token" "$bin" status --server "$fake" >/dev/null 2>&1
expect "\$SENTINEL_TOKEN_FILE before \$SENTINEL_TOKEN" 0 0 "$(last_request)" '"auth": "Bearer viewer-token"'
SENTINEL_TOKEN_FILE="$work/viewer.token" "$bin" status --server "$fake" --token-file "$work/alice.token" >/dev/null 2>&1
expect "--token-file before \$SENTINEL_TOKEN_FILE" 0 0 "$(last_request)" '"auth": "Bearer alice-token"'
out=$(SENTINEL_SERVER="$fake" SENTINEL_TOKEN=alice-token "$bin" status 2>&1); expect "\$SENTINEL_SERVER" 0 $? "$out" "shop-1"
out=$(SENTINEL_SERVER=http://127.0.0.1:1 SENTINEL_TOKEN=alice-token "$bin" status --server "$fake/" 2>&1); expect "--server before \$SENTINEL_SERVER (a trailing / is fine)" 0 $? "$out" "shop-1"

# audit --follow: the entries, then the stream; a drop is said and mended, nothing printed twice.
"$bin" audit --follow --action param.set --json "${ops[@]}" >"$work/follow.out" 2>"$work/follow.err" &
follow=$!; pids+=($follow)
wait_for 10 grep -q "C after reconnecting" "$work/follow.out"
kill -INT $follow
for _ in $(seq 1 50); do kill -0 $follow 2>/dev/null || break; sleep 0.1; done
if kill -0 $follow 2>/dev/null; then code=running; else wait $follow; code=$?; fi
expect "audit --follow exits 0 on SIGINT" 0 "$code" "$(cat "$work/follow.out" "$work/follow.err")"
out=$(cat "$work/follow.out")
expect "follow: the entries before" 0 0 "$(sed -n 1p <<<"$out")" '"reason":"E0 errors low"'
expect "follow: a streamed entry" 0 0 "$(sed -n 2p <<<"$out")" '^\{"action":"param.set","actor":"operator:alice",.*"reason":"A streamed"'
expect "follow: the entry written while disconnected, from the audit" 0 0 "$(sed -n 3p <<<"$out")" '"reason":"B while disconnected"'
expect "follow: an event split across reads, CR LF line ends" 0 0 "$(sed -n 4p <<<"$out")" '"reason":"C after reconnecting"'
expect "follow: each entry once" 0 0 "$(wc -l <<<"$out" | tr -d ' ')" "^4$"
refute "follow: other actions and alerts are filtered out" "$out" "X-FILTERED-OUT|ALERT-IGNORED"
expect "follow: the drop is said on standard error" 0 0 "$(cat "$work/follow.err")" "event stream lost \(the server ended the event stream\); reconnecting in 1 s"
expect "follow: and the reconnection" 0 0 "$(cat "$work/follow.err")" "reconnected to $fake/v1/events"
"$bin" audit --follow --actor operator:bob "${ops[@]}" >"$work/follow2.out" 2>"$work/follow2.err" &
follow=$!; pids+=($follow)
wait_for 10 grep -q "C after" "$work/follow2.out"
kill -TERM $follow
for _ in $(seq 1 50); do kill -0 $follow 2>/dev/null || break; sleep 0.1; done
if kill -0 $follow 2>/dev/null; then code=running; else wait $follow; code=$?; fi
expect "audit --follow, readable, exits 0 on SIGTERM" 0 "$code" "$(cat "$work/follow2.out" "$work/follow2.err")"
expect "follow, readable: one line per entry" 0 0 "$(cat "$work/follow2.out")" \
  "^2026-12-04T10:00:06.000Z  operator:bob      param.set             shop.timeout.duration           applied   C after reconnecting$"

# HTTPS: the system's trust store by default, --ca-file for a private CA.
if command -v openssl >/dev/null 2>&1; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Test CA" -keyout "$work/ca.key" -out "$work/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$work/server.key" -out "$work/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1\n' > "$work/san.ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/san.ext" -out "$work/server.pem" >/dev/null 2>&1
  python3 "$work/fake_admin.py" "$work/tls.port" "$work/tls-requests.jsonl" "$work/server.pem" "$work/server.key" 2>"$work/tls.err" &
  pids+=($!)
  if wait_for 10 test -s "$work/tls.port"; then
    tls="https://127.0.0.1:$(cat "$work/tls.port")"
    out=$("$bin" status --server "$tls" --token-file "$work/alice.token" --ca-file "$work/ca.pem" 2>&1); expect "https with --ca-file" 0 $? "$out" "shop-1"
    out=$("$bin" status --server "$tls" --token-file "$work/alice.token" 2>&1); expect "https with an untrusted certificate: exit 3" 3 $? "$out" "cannot reach"
    out=$("$bin" status --server "$tls" --token-file "$work/alice.token" --ca-file "$work/alice.token" 2>&1); expect "--ca-file that is not PEM: exit 2" 2 $? "$out" "--ca-file"
  else
    echo "FAIL the HTTPS stand-in did not start"; cat "$work/tls.err"; failures=$((failures + 1))
  fi
else
  echo "SKIP https: no openssl"
fi

# ---------------------------------------------------------------------------------------------
# 3. End to end against `sentinel run --admin`
# ---------------------------------------------------------------------------------------------

if ! "$bin" run --help 2>&1 | grep -q -- "--admin"; then
  echo "SKIP end-to-end: the server has no --admin yet"
else
  mkdir -p "$work/e2e/policies"
  cat > "$work/e2e/policies/watcher.lua" <<'LUA'
return { interval = "1s", evaluate = function(state) end }
LUA
  cat > "$work/e2e/workload.yaml" <<'YAML'
name: operator-cli
duration: 1h
seed: 1
pipelines:
  shop:
    policies:
      - timeout: { duration: 2s }
      - retry: { max_attempts: 3 }
    backend: { latency: 5ms, error_rate: 0.01 }
    traffic: { rate: 5 }
YAML
  tokens_file "$work/e2e" alice viewer
  cat > "$work/e2e/config.yaml" <<'YAML'
roles:
  reader:
    - commands: [param.get]
  admin:
    - commands: ["*"]
assignments:
  "operator:viewer": [reader]
  "operator:alice": [admin]
  "sentinel": [admin]
YAML
  "$bin" run --policies "$work/e2e/policies" --workload "$work/e2e/workload.yaml" --config "$work/e2e/config.yaml" \
    --admin 127.0.0.1:0 --admin-tokens "$work/e2e/tokens.yaml" --audit-log "$work/e2e/audit.jsonl" \
    >"$work/e2e/run.out" 2>"$work/e2e/run.err" &
  server=$!; pids+=($server)
  if ! url=$(admin_url 10 "$work/e2e/run.out"); then
    echo "FAIL end-to-end: no 'admin listening on' line within 10 s"; cat "$work/e2e/run.out" "$work/e2e/run.err" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    e2e=(--server "$url" --token-file "$work/e2e/alice.token")
    wait_for 10 "$bin" status "${e2e[@]}" >/dev/null 2>&1
    out=$("$bin" status "${e2e[@]}" 2>&1); expect "e2e: status" 0 $? "$out" "^automation +running$"
    out=$("$bin" params "${e2e[@]}" 2>&1); expect "e2e: params" 0 $? "$out" "^shop.retry.max_attempts +3 "
    out=$("$bin" params 'shop.retry.*' "${e2e[@]}" --json 2>&1); expect "e2e: params PATTERN --json" 0 $? "$out" '"shop.retry.max_attempts"'
    out=$("$bin" set shop.retry.max_attempts 2 --reason "e2e set" "${e2e[@]}" 2>&1)
    expect "e2e: set" 0 $? "$out" "^applied: param.set shop.retry.max_attempts = 2 \(operator:alice\): e2e set$"
    out=$("$bin" params 'shop.retry.max_attempts' "${e2e[@]}" 2>&1); expect "e2e: params shows the change" 0 $? "$out" "^shop.retry.max_attempts +2 .* operator:alice [0-9a-z ]+: e2e set$"
    out=$("$bin" set shop.retry.max_attempts 1000 --reason "too much" "${e2e[@]}" 2>&1); expect "e2e: set out of bounds: 409, exit 1" 1 $? "$out" "HTTP 409"
    out=$("$bin" set nope.retry.max_attempts 2 --reason r "${e2e[@]}" 2>&1); expect "e2e: set an unknown knob: exit 2" 2 $? "$out" "nope.retry.max_attempts"
    for _ in 1 2; do "$bin" set shop.retry.max_attempts 3 --reason "e2e idempotent" --idempotency-key e2e-key-1 "${e2e[@]}" >/dev/null 2>&1; done
    out=$("$bin" audit --action param.set --json "${e2e[@]}" 2>&1)
    expect "e2e: a repeated idempotency key applies once" 0 0 "$(grep -c '"reason":"e2e idempotent"' <<<"$out")" "^1$"
    out=$("$bin" freeze --reason "incident 42" "${e2e[@]}" 2>&1); expect "e2e: freeze" 0 $? "$out" "^applied: automation.freeze \(operator:alice\): incident 42$"
    out=$("$bin" status "${e2e[@]}" 2>&1); expect "e2e: status shows the freeze" 0 $? "$out" "FROZEN by operator:alice .*: incident 42"
    out=$("$bin" audit --action automation.freeze --json "${e2e[@]}" 2>&1)
    expect "e2e: the freeze's audit entry names the operator" 0 $? "$out" '"actor":"operator:alice".*"outcome":"applied","reason":"incident 42"'
    out=$("$bin" unfreeze "${e2e[@]}" 2>&1); expect "e2e: unfreeze" 0 $? "$out" "^applied: automation.unfreeze"
    out=$("$bin" pause watcher --reason "e2e" "${e2e[@]}" 2>&1); expect "e2e: pause" 0 $? "$out" "^applied: script.pause watcher"
    out=$("$bin" resume watcher --reason "e2e" "${e2e[@]}" 2>&1); expect "e2e: resume" 0 $? "$out" "^applied: script.resume watcher"
    out=$("$bin" pause nosuch --reason "e2e" "${e2e[@]}" 2>&1); code=$?; expect "e2e: pause an unknown script is refused (exit 1 or 2)" 0 $([ $code = 1 ] || [ $code = 2 ]; echo $?) "$out"
    out=$("$bin" trial abort nosuch --reason "e2e" "${e2e[@]}" 2>&1); expect "e2e: trial abort of an unknown trial: exit 2" 2 $? "$out" "nosuch"
    out=$("$bin" command param.get --arg param=shop.retry.max_attempts "${e2e[@]}" 2>&1); expect "e2e: command with --arg" 0 $? "$out" "^result: "
    out=$("$bin" command no.such.command "${e2e[@]}" 2>&1); expect "e2e: an unknown command: exit 2" 2 $? "$out" "HTTP 404"
    out=$("$bin" approve e2e-gate "${e2e[@]}" 2>&1); code=$?; expect "e2e: approve (applied, or 2 while approvals are missing)" 0 $([ $code = 0 ] || [ $code = 2 ]; echo $?) "$out"
    out=$("$bin" fleet status --json "${e2e[@]}" 2>&1); expect "e2e: fleet status --json" 0 $? "$out" '"instances"'
    out=$("$bin" fleet status "${e2e[@]}" 2>&1); expect "e2e: fleet status" 0 $? "$out" "^leader "
    out=$("$bin" set shop.retry.max_attempts 2 --reason r --server "$url" --token-file "$work/e2e/viewer.token" 2>&1)
    expect "e2e: a role without the grant: 403, exit 1" 1 $? "$out" "HTTP 403"
    out=$("$bin" command param.get --arg param=shop.retry.max_attempts --server "$url" --token-file "$work/e2e/viewer.token" 2>&1)
    expect "e2e: the viewer's one grant works" 0 $? "$out" "^applied: param.get"
    out=$("$bin" status --server "$url" --token-file "$work/e2e/viewer.token" 2>&1); expect "e2e: any valid token may read" 0 $? "$out"
    out=$("$bin" status --server "$url" --token-file "$work/wrong.token" 2>&1); expect "e2e: a wrong token: 401, exit 3" 3 $? "$out" "HTTP 401"
    out=$("$bin" audit --actor operator:viewer --outcome denied "${e2e[@]}" 2>&1); expect "e2e: the denial is audited" 0 $? "$out" "operator:viewer +param.set .* denied"
    "$bin" audit --follow --action param.set "${e2e[@]}" >"$work/e2e/follow.out" 2>"$work/e2e/follow.err" &
    follow=$!; pids+=($follow)
    wait_for 10 grep -q "e2e set" "$work/e2e/follow.out"
    "$bin" set shop.retry.max_attempts 4 --reason "e2e while following" "${e2e[@]}" >/dev/null 2>&1
    wait_for 10 grep -q "e2e while following" "$work/e2e/follow.out"
    kill -INT $follow
    for _ in $(seq 1 50); do kill -0 $follow 2>/dev/null || break; sleep 0.1; done
    if kill -0 $follow 2>/dev/null; then code=running; else wait $follow; code=$?; fi
    expect "e2e: audit --follow exits 0 on SIGINT" 0 "$code" "$(cat "$work/e2e/follow.out" "$work/e2e/follow.err")"
    expect "e2e: audit --follow caught the new entry" 0 0 "$(cat "$work/e2e/follow.out")" "operator:alice +param.set +shop.retry.max_attempts +applied +e2e while following$"
    kill -TERM $server; for _ in $(seq 1 100); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
    out=$("$bin" status "${e2e[@]}" 2>&1); expect "e2e: the server stopped: exit 3" 3 $? "$out" "cannot reach"
  fi
fi

# ---------------------------------------------------------------------------------------------
# 4. End to end: `sentinel freeze` holds a running shadow trial
# ---------------------------------------------------------------------------------------------
# A script starts a trial of a tighter timeout that promotes after a 4 s window (evaluated every
# 500 ms; the backend never fails, so every evaluation passes). The freeze comes right after the
# start: the trial holds (audited trial.hold, naming operator:alice), nothing is promoted while
# frozen, and after the unfreeze its window starts again, so the promotion comes a whole window
# after the unfreeze: time under the freeze never counts. About 12 s.

if "$bin" run --help 2>&1 | grep -q -- "--admin"; then
  mkdir -p "$work/trial/policies"
  cat > "$work/trial/policies/tighten.lua" <<'LUA'
-- Starts one shadow trial of a tighter timeout; without a freeze it promotes about 4 s later.
return {
  interval = "500ms",
  evaluate = function(state)
    if state.trials["shop-tighter-timeout"] == nil then
      sentinel.trial({
        name = "shop-tighter-timeout",
        params = { ["shop.timeout.duration"] = "1s" },
        window = "4s", interval = "500ms", min_samples = 5, watch = 0,
        criteria = { p99 = false, latency_shift = false },
      }, "e2e: try a tighter timeout")
    end
  end,
}
LUA
  cat > "$work/trial/workload.yaml" <<'YAML'
name: operator-cli-trial
duration: 1h
seed: 1
pipelines:
  shop:
    policies:
      - timeout: { duration: 2s }
    backend: { latency: 5ms, error_rate: 0 }
    traffic: { rate: 50 }
YAML
  tokens_file "$work/trial" bob
  "$bin" run --policies "$work/trial/policies" --workload "$work/trial/workload.yaml" \
    --admin 127.0.0.1:0 --admin-tokens "$work/trial/tokens.yaml" --audit-log "$work/trial/audit.jsonl" \
    >"$work/trial/run.out" 2>"$work/trial/run.err" &
  trial_server=$!; pids+=($trial_server)
  if ! turl=$(admin_url 10 "$work/trial/run.out"); then
    echo "FAIL trial: no 'admin listening on' line within 10 s"; cat "$work/trial/run.out" "$work/trial/run.err" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    tops=(--server "$turl" --token-file "$work/trial/bob.token")
    started() { "$bin" audit --action trial.start --outcome applied --json "${tops[@]}" 2>/dev/null | grep -q shop-tighter-timeout; }
    wait_for 10 started
    expect "trial: the script started the trial" 0 $? "$(cat "$work/trial/run.err" | tail -5)"
    out=$("$bin" freeze --reason "e2e: incident during a trial" "${tops[@]}" 2>&1)
    expect "trial: freeze from the CLI" 0 $? "$out" "^applied: automation.freeze \(operator:bob\): e2e: incident during a trial$"
    held() { "$bin" audit --action trial.hold --json "${tops[@]}" 2>/dev/null | grep -q shop-tighter-timeout; }
    wait_for 5 held
    out=$("$bin" audit --action trial.hold --json "${tops[@]}" 2>&1)
    expect "trial: the trial holds, audited trial.hold by the sentinel, naming the operator" 0 $? "$out" \
      '"actor":"sentinel".*"reason":"automation is frozen by operator:bob: e2e: incident during a trial'
    expect "trial: held once" 0 0 "$(grep -c '"action":"trial.hold"' <<<"$out")" "^1$"
    # The window (4 s) has long passed since the start: without the freeze it would have promoted.
    sleep 5
    out=$("$bin" audit --action trial.promote "${tops[@]}" 2>&1); expect "trial: no promotion while frozen" 0 $? "$out" "no audit entries match"
    out=$("$bin" params shop.timeout.duration "${tops[@]}" 2>&1)
    expect "trial: the live value is unchanged, the candidate still a shadow" 0 $? "$out" "^shop.timeout.duration +2 +1 "
    out=$(curl -s -H "Authorization: Bearer $(cat "$work/trial/bob.token")" "$turl/v1/trials")
    expect "trial: /v1/trials says held" 0 0 "$out" '"held":true'
    expect "trial: ... and holding" 0 0 "$out" '"status":"holding"'
    out=$("$bin" audit --action automation.freeze --json "${tops[@]}" 2>&1)
    expect "trial: the freeze's audit entry names operator:bob" 0 $? "$out" '"actor":"operator:bob".*"outcome":"applied"'
    out=$("$bin" unfreeze --reason "e2e: incident over" "${tops[@]}" 2>&1); expect "trial: unfreeze from the CLI" 0 $? "$out" "^applied: automation.unfreeze"
    promoted() { "$bin" audit --action trial.promote --json "${tops[@]}" 2>/dev/null | grep -q '"outcome":"applied"'; }
    wait_for 10 promoted
    out=$("$bin" audit --action trial.promote --json "${tops[@]}" 2>&1)
    expect "trial: after the unfreeze it promotes" 0 $? "$out" '"actor":"sentinel".*"outcome":"applied"'
    out=$("$bin" params shop.timeout.duration "${tops[@]}" 2>&1); expect "trial: the candidate is live" 0 $? "$out" "^shop.timeout.duration +1 +- "
    unfrozen=$("$bin" audit --action automation.unfreeze --json "${tops[@]}" 2>/dev/null | grep -oE '"time":"[^"]+"' | tail -1 | cut -d'"' -f4)
    promotion=$("$bin" audit --action trial.promote --json "${tops[@]}" 2>/dev/null | grep -oE '"time":"[^"]+"' | tail -1 | cut -d'"' -f4)
    gap=$(python3 -c 'import sys; from datetime import datetime as d; t = lambda s: d.fromisoformat(s.replace("Z", "+00:00")).timestamp(); print(f"{t(sys.argv[2]) - t(sys.argv[1]):.2f}")' "$unfrozen" "$promotion" 2>&1)
    expect "trial: a whole window (4 s) after the unfreeze, not at once (took ${gap} s)" 0 \
      "$(python3 -c 'import sys; print(0 if float(sys.argv[1]) >= 3.9 else 1)' "$gap" 2>&1)"
    kill -TERM $trial_server; for _ in $(seq 1 100); do kill -0 $trial_server 2>/dev/null || break; sleep 0.1; done
  fi
else
  echo "SKIP trial: the server has no --admin yet"
fi

echo "$passed passed, $failures failed"
if [ $failures -gt 0 ]; then exit 1; fi
