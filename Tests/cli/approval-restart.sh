#!/usr/bin/env bash
# Approval gates across a restart of `sentinel run --admin`: a gate a script
# opened stays pending through SIGTERM and a restart (state file), is not
# requested again, and is answered through the CLI (approve) and the API (deny).
# Usage: Tests/cli/approval-restart.sh PATH_TO_SENTINEL      (loopback only)
set -u
bin=${1:?usage: $0 PATH_TO_SENTINEL}
work=$(mktemp -d /tmp/sentinel-approvals-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
failures=0; passed=0

source "$(dirname "$0")/checks.sh"

mkdir -p "$work/policies"
# Two gates: "release" is approved through the CLI, "rollout" denied through the API.
# Each answer is acted on once, with a knob change the test can read.
cat > "$work/policies/gated.lua" <<'LUA'
return {
  interval = "200ms",
  evaluate = function(state, memory)
    local release = sentinel.approval("release", { message = "canary healthy, release?" })
    if release == "approved" and not memory.released then
      memory.released = true
      sentinel.set("shop.retry.max_attempts", 2, "release approved")
    end
    local rollout = sentinel.approval("rollout", { message = "widen the rollout?" })
    if rollout == "denied" and not memory.held then
      memory.held = true
      sentinel.set("shop.retry.max_attempts", 4, "rollout denied")
    end
  end,
}
LUA
cat > "$work/workload.yaml" <<'YAML'
name: approvals-restart
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
tokens_file "$work" alice

start() { # starts the server, sets url
  : > "$work/run.out"
  "$bin" run --policies "$work/policies" --workload "$work/workload.yaml" --state-file "$work/state.json" \
    --admin 127.0.0.1:0 --admin-tokens "$work/tokens.yaml" --audit-log "$work/audit.jsonl" \
    >"$work/run.out" 2>"$work/run.err" &
  pid=$!
  if ! url=$(admin_url 20 "$work/run.out"); then
    echo "FAIL the server did not start"; cat "$work/run.out" "$work/run.err" | sed 's/^/    /'; exit 1
  fi
}

approvals() { curl -s --max-time 5 -H "Authorization: Bearer $(cat "$work/alice.token")" "$url/v1/approvals"; }
requests() { grep -c '"action":"approval.request"' "$work/audit.jsonl"; }

start
wait_for 20 bash -c "[ \"\$(grep -c '\"action\":\"approval.request\"' '$work/audit.jsonl' 2>/dev/null)\" = 2 ]"
expect "the script opens both gates, each requested once" 0 0 "$(requests)" "^2$"
out=$(approvals); expect "GET /v1/approvals lists the pending gate, who asked and why" 0 $? "$out" '"release":\{[^}]*"canary healthy, release\?"'
expect "and its status" 0 0 "$out" '"release":\{[^}]*"status":"pending"'
expect "and who asked" 0 0 "$out" '"release":\{[^}]*"script:gated"'

kill -TERM $pid; wait $pid; code=$?; pid=""
expect "SIGTERM exits 0 with gates pending" 0 $code "$(cat "$work/run.err")"
start
sleep 1  # five evaluations of the restarted script
out=$(approvals); expect "after a restart the gate is still pending" 0 $? "$out" '"release":\{[^}]*"status":"pending"'
expect "and not requested again" 0 0 "$(requests)" "^2$"
out=$("$bin" params 'shop.retry.max_attempts' --server "$url" --token-file "$work/alice.token" 2>&1)
expect "nothing acted while pending" 0 $? "$out" "^shop.retry.max_attempts +3 "

out=$("$bin" approve release --reason "go" --server "$url" --token-file "$work/alice.token" 2>&1)
expect "approve through the CLI" 0 $? "$out" "^applied: approval.grant"
wait_for 10 bash -c "grep -q '\"reason\":\"release approved\"' '$work/audit.jsonl'"
out=$("$bin" params 'shop.retry.max_attempts' --server "$url" --token-file "$work/alice.token" 2>&1)
expect "the script sees the approval and acts" 0 $? "$out" "^shop.retry.max_attempts +2 .*script:gated"

out=$(curl -s --max-time 5 -X POST -H "Authorization: Bearer $(cat "$work/alice.token")" -H "Content-Type: application/json" \
  -d '{"command":"approval.deny","args":{"gate":"rollout"},"reason":"not during the sale"}' "$url/v1/commands")
expect "deny through the API" 0 $? "$out" '"outcome":"applied"'
wait_for 10 bash -c "grep -q '\"reason\":\"rollout denied\"' '$work/audit.jsonl'"
out=$(approvals); expect "the denial is listed with its reason" 0 $? "$out" '"rollout":\{[^}]*"status":"denied"'
expect "and who answered" 0 0 "$out" '"rollout":\{[^}]*"operator:alice"'
out=$("$bin" audit --action approval.deny --server "$url" --token-file "$work/alice.token" 2>&1)
expect "the denial is audited as operator:alice" 0 $? "$out" "operator:alice +approval.deny"

kill -TERM $pid; wait $pid; pid=""
if [ $failures -gt 0 ]; then echo "$failures approval checks failed ($passed passed)"; exit 1; fi
echo "all approval restart checks passed ($passed)"
