#!/usr/bin/env bash
# `sentinel run --admin` on loopback, driven with curl: start-up checks, TLS,
# revoking a token with SIGHUP, the metrics, a freeze that stops a running
# script, and no token in any log line. Every wait is bounded.
# Usage: Tests/cli/admin-api.sh PATH_TO_SENTINEL
set -u
bin=${1:?usage: $0 PATH_TO_SENTINEL}
work=$(mktemp -d /tmp/sentinel-admin-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; rm -rf "$work"' EXIT
failures=0
expect() { # name expected actual [output] [pattern]
  local name=$1 expected=$2 actual=$3 output=${4:-} pattern=${5:-}
  if [ "$actual" != "$expected" ]; then
    echo "FAIL $name: got $actual, expected $expected"; echo "$output" | head -20 | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$output"; then
    echo "FAIL $name: output does not match /$pattern/"; echo "$output" | head -20 | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

token=$("$bin" token create alice 2>/dev/null | head -1)
if [ -z "$token" ]; then
  token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
viewer=viewer-token-$RANDOM$RANDOM
printf 'tokens:\n  - { id: alice, sha256: %s }\n  - { id: viewer, sha256: %s }\n' "$(hash "$token")" "$(hash "$viewer")" > "$work/tokens.yaml"
mkdir "$work/policies"
cat > "$work/policies/nudge.lua" <<'LUA'
-- Moves the canary weight every second: what a freeze must stop.
return {
  interval = "1s",
  evaluate = function(state, memory)
    memory.n = (memory.n or 0) + 1
    sentinel.set("checkout.split.canary_weight", memory.n % 2 == 0 and 2 or 1, "nudge " .. memory.n)
  end,
}
LUA
cat > "$work/workload.yaml" <<'YAML'
duration: 1h
pipelines:
  checkout:
    policies:
      - split: { stable: 100, canary: 0 }
    backends:
      stable: { latency: 5ms }
      canary: { latency: 5ms }
    traffic: { rate: 20 }
YAML

# Start-up refusals: exit 2 with a message.
out=$("$bin" run --policies "$work/policies" --admin 127.0.0.1:0 2>&1); expect "--admin without --admin-tokens" 2 $? "$out" "--admin needs --admin-tokens"
out=$("$bin" run --policies "$work/policies" --admin 0.0.0.0:0 --admin-tokens "$work/tokens.yaml" 2>&1); expect "a non-loopback address without TLS" 2 $? "$out" "needs --admin-tls-cert"
out=$("$bin" run --policies "$work/policies" --admin nonsense --admin-tokens "$work/tokens.yaml" 2>&1); expect "a malformed address" 2 $? "$out" "expected HOST:PORT"
printf 'tokens:\n  - { id: x, sha256: nothex }\n' > "$work/bad-tokens.yaml"
out=$("$bin" run --policies "$work/policies" --admin 127.0.0.1:0 --admin-tokens "$work/bad-tokens.yaml" 2>&1); expect "a bad tokens file names its line" 2 $? "$out" "bad-tokens.yaml:2: tokens\[1\].sha256"

# start NAME ARGS...: runs sentinel in the background, waits (10 s at most) for its URL.
start() {
  local name=$1; shift
  "$bin" run "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  for _ in $(seq 1 100); do grep -q "admin listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  eval "${name}_url=\$(sed -n 's/admin listening on //p' \"$work/$name.out\")"
}

start main --policies "$work/policies" --workload "$work/workload.yaml" --audit-log "$work/audit.jsonl" \
  --admin 127.0.0.1:0 --admin-tokens "$work/tokens.yaml" --log-level debug
expect "prints one line: admin listening on http://HOST:PORT" 0 0 "$(cat "$work/main.out")" "^admin listening on http://127\.0\.0\.1:[0-9]+$"
auth=(-H "Authorization: Bearer $token")
status=$(curl -s -o /dev/null -w '%{http_code}' "$main_url/healthz"); expect "healthz without a token" 200 "$status"
status=$(curl -s -o /dev/null -w '%{http_code}' "$main_url/v1/status"); expect "status without a token" 401 "$status"
body=$(curl -s "${auth[@]}" "$main_url/v1/status"); expect "status with a token" 0 $? "$body" '"scripts":\{"failed":0,"loaded":1'
for _ in $(seq 1 50); do grep -q '"actor":"script:nudge"' "$work/audit.jsonl" 2>/dev/null && break; sleep 0.1; done
body=$(curl -s "${auth[@]}" -H 'Content-Type: application/json' -d '{"command":"automation.freeze","reason":"incident 4711"}' "$main_url/v1/commands")
expect "a freeze through the API" 0 $? "$body" '"actor":"operator:alice".*"outcome":"applied"'
before=$(grep -c '"action":"param.set","actor":"script:nudge".*"outcome":"applied"' "$work/audit.jsonl")
sleep 2.5
after=$(grep -c '"action":"param.set","actor":"script:nudge".*"outcome":"applied"' "$work/audit.jsonl")
expect "the freeze stops the running script's changes" "$before" "$after"
expect "its commands are audited as denied" 0 0 "$(cat "$work/audit.jsonl")" '"actor":"script:nudge".*"outcome":"denied","reason":"automation is frozen by operator:alice: incident 4711"'
metrics=$(curl -s "${auth[@]}" "$main_url/metrics")
for metric in sentinel_audit_entries_total sentinel_admin_requests_total sentinel_script_evaluation_seconds sentinel_knob_value sentinel_pipeline_calls; do
  expect "metrics: $metric" 0 0 "$metrics" "^$metric"
done
# Revoke: the viewer's token works, is removed from the file, SIGHUP, then 401.
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $viewer" "$main_url/v1/params"); expect "a second token works" 200 "$status"
printf 'tokens:\n  - { id: alice, sha256: %s }\n' "$(hash "$token")" > "$work/tokens.yaml"
kill -HUP "$main_pid"
for _ in $(seq 1 50); do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $viewer" "$main_url/v1/params"); [ "$status" = 401 ] && break; sleep 0.1
done
expect "a token removed from the file is refused after SIGHUP" 401 "$status"
status=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$main_url/v1/params"); expect "the other token still works" 200 "$status"
kill -0 "$main_pid" 2>/dev/null; expect "SIGHUP does not end the process" 0 $?
kill -TERM "$main_pid"; wait "$main_pid"; code=$?
expect "exit 0 on SIGTERM" 0 $code "$(tail -5 "$work/main.err")"
leaks=$(cat "$work/main.out" "$work/main.err" | grep -cF -e "$token" -e "$viewer")
expect "no token in any log line (debug level)" 0 "$leaks"

# TLS with a certificate of our own.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1
start tls --policies "$work/policies" --admin 127.0.0.1:0 --admin-tokens "$work/tokens.yaml" \
  --admin-tls-cert "$work/cert.pem" --admin-tls-key "$work/key.pem"
expect "TLS: the line says https" 0 0 "$(cat "$work/tls.out")" "^admin listening on https://127\.0\.0\.1:[0-9]+$"
body=$(curl -s --cacert "$work/cert.pem" "${auth[@]}" "$tls_url/v1/whoami"); expect "TLS: a request over https" 0 $? "$body" '"identity":"operator:alice"'
kill -TERM "$tls_pid"; wait "$tls_pid"

if [ $failures -gt 0 ]; then echo "$failures admin API checks failed"; exit 1; fi
echo "all admin API checks passed"
