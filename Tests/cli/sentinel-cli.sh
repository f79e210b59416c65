#!/usr/bin/env bash
# The `sentinel` command as users and CI call it: exit codes and output formats.
# Usage: Tests/cli/sentinel-cli.sh PATH_TO_SENTINEL
set -u
bin=${1:?usage: $0 PATH_TO_SENTINEL}
work=$(mktemp -d /tmp/sentinel-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0; passed=0
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

out=$("$bin" check policies 2>&1); expect "check shipped policies" 0 $? "$out" "^ok policies/retry_tuning.lua"
out=$("$bin" check "$work/missing" 2>&1); expect "check a missing path" 2 $? "$out" "no such file or folder"
out=$("$bin" check --frobnicate policies 2>&1); expect "check with an unknown option" 2 $? "$out"
out=$("$bin" check 2>&1); expect "check with no path" 2 $? "$out"
mkdir "$work/empty"
out=$("$bin" check "$work/empty" 2>&1); expect "check a folder with no scripts" 1 $? "$out" "no scripts"
mkdir "$work/bad"
printf 'return {\n  interval = "5s",\n  evaluate = function(state)\n    if state then\n  end,\n}\n' > "$work/bad/broken.lua"
printf 'return { interval = "5s", evaluate = function(state) return state.pipelines.x.windows["1m"].nope.y end }\n' > "$work/bad/runtime.lua"
printf 'return { evaluate = function() end }\n' > "$work/bad/nointerval.lua"
cp policies/anomaly_alerts.lua "$work/bad/"
out=$("$bin" check "$work/bad" 2>&1); expect "check broken scripts" 1 $? "$out" "broken.lua:[0-9]+: "
expect "runtime error has path:line" 1 1 "$out" "runtime.lua:1: attempt to index a nil value"
expect "missing interval is named" 1 1 "$out" "nointerval.lua: field 'interval' is required"
expect "the good one still passes" 1 1 "$out" "^ok .*anomaly_alerts.lua"
out=$("$bin" check "$work/bad/anomaly_alerts.lua" 2>&1); expect "check one file" 0 $? "$out"
out=$("$bin" check --help 2>&1); expect "check --help explains itself" 0 $? "$out" "Example"
out=$("$bin" run --help 2>&1); expect "run --help explains itself" 0 $? "$out" "Example"
out=$("$bin" run --policies "$work/missing" 2>&1); expect "run with a missing folder" 2 $? "$out" "not a folder"
printf 'gaurds: []\n' > "$work/bad.yaml"
out=$("$bin" run --policies policies --config "$work/bad.yaml" 2>&1); expect "run with a bad config" 2 $? "$out" "bad.yaml:1: gaurds: unknown field"

# run: SIGTERM finishes, flushes, saves, exits 0.
mkdir "$work/live"; cp policies/retry_tuning.lua "$work/live/"
"$bin" run --policies "$work/live" --audit-log "$work/audit.jsonl" --state-file "$work/state.json" >"$work/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q '"script.load"' "$work/audit.jsonl" 2>/dev/null && break; sleep 0.1; done
printf 'return {' > "$work/live/broken.lua"
for _ in $(seq 1 100); do grep -q '"outcome":"failed"' "$work/audit.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid; wait $pid; code=$?
expect "run exits 0 on SIGTERM" 0 $code "$(cat "$work/run.log")"
expect "run audits loads" 0 0 "$(cat "$work/audit.jsonl")" '"action":"script.load","actor":"sentinel".*"outcome":"applied"'
expect "run audits a broken edit" 0 0 "$(cat "$work/audit.jsonl")" '"outcome":"failed","reason":"[^"]*broken.lua:1: '
expect "run saves its state" 0 $([ -s "$work/state.json" ]; echo $?)

# simulate: the timeline, JSON Lines, exit codes 0/1/2, --seed and --policies.
out=$("$bin" simulate examples/recipes/blue-green/switch.yaml 2>&1); expect "simulate a passing scenario" 0 $? "$out" "PASSED all 3 expectations"
expect "simulate prints the timeline" 0 0 "$out" "shop.split.green_weight 2 → 100 +blue-green: green passed its smoke window"
out=$("$bin" simulate examples/recipes/blue-green/switch.yaml --json 2>&1); expect "simulate --json" 0 $? "$out" '^\{.*"type":"start"'
expect "every line is an object with type and t" 0 $(grep -vc '^{.*"t":[0-9.]*.*"type":"[a-z]*"' <<<"$out") 
expect "the last line is the summary" 0 0 "$(tail -1 <<<"$out")" '^\{.*"knobs":\{.*"shop.split.green_weight":100.*"passed":true.*"type":"summary"'
a=$("$bin" simulate examples/recipes/blue-green/switch.yaml --json --seed 9); b=$("$bin" simulate examples/recipes/blue-green/switch.yaml --json --seed 9)
expect "one seed, one result, byte for byte" 0 $([ "$a" = "$b" ]; echo $?)
expect "--seed overrides the scenario's seed" 0 0 "$(tail -1 <<<"$a")" '"seed":9'
sed 's/equals: 100/equals: 50/' examples/recipes/blue-green/switch.yaml > "$work/fails.yaml"
out=$("$bin" simulate "$work/fails.yaml" --policies examples/recipes/blue-green 2>&1); expect "a failed expectation exits 1" 1 $? "$out" "✗ param shop.split.green_weight equals 50 \(actual 100\)"
mkdir "$work/bg"; cp examples/recipes/blue-green/blue_green.lua examples/recipes/blue-green/switch.yaml "$work/bg/"
out=$("$bin" simulate "$work/bg/switch.yaml" 2>&1); expect "policies default to the scenario's folder" 0 $? "$out" "scripts: blue-green"
printf 'duration: 1m\npipelines:\n  a:\n    backend: { latency: 1ms, error_rate: 1.5 }\n    traffic: { rate: 1 }\n' > "$work/malformed.yaml"
out=$("$bin" simulate "$work/malformed.yaml" 2>&1); expect "a malformed scenario exits 2" 2 $? "$out" "malformed.yaml:4: pipelines.a.backend.error_rate: expected a number between 0 and 1, got 1.5"
out=$("$bin" simulate "$work/nothing.yaml" 2>&1); expect "a missing scenario exits 2" 2 $? "$out" "nothing.yaml"
out=$("$bin" simulate examples/recipes/blue-green/switch.yaml --policies "$work/missing" 2>&1); expect "a missing policies folder exits 2" 2 $? "$out" "missing"
out=$("$bin" simulate --help 2>&1); expect "simulate --help explains itself" 0 $? "$out" "Example"
# Every shipped scenario passes its expectations in RecipeTests; here the CLI runs one end to end.
out=$("$bin" simulate examples/recipes/canary/errors.yaml 2>&1); expect "a recipe through the CLI" 0 $? "$out" "PASSED"

# Approval gates: a scenario event answers one; one nobody answers is in the summary, text and JSON.
out=$("$bin" simulate examples/recipes/canary/approval.yaml 2>&1); expect "the canary waits for the grant" 0 $? "$out" "checkout.split.canary_weight 50 → 100 +canary: approval checkout-canary approved by operator:scenario"
expect "the gate-on scenario shows its constant" 0 0 "$out" "constant canary.lua: REQUIRE_APPROVAL = true"
expect "nothing is left waiting once answered" 0 $(grep -c "Waiting for approval" <<<"$out")
sed '/^events:/,/^expect:/{/^expect:/!d}' examples/recipes/canary/approval.yaml | sed '/^expect:/,$d' > "$work/unanswered.yaml"
out=$("$bin" simulate "$work/unanswered.yaml" --policies examples/recipes/canary 2>&1); expect "an unanswered gate" 0 $? "$out" "^Waiting for approval"
expect "the summary names the gate, when and why" 0 0 "$out" "^  \? checkout-canary  asked at [0-9]+:[0-9]{2} by canary: canary at 50% is as good as stable"
out=$("$bin" simulate "$work/unanswered.yaml" --policies examples/recipes/canary --json 2>&1)
expect "--json: pending_approvals in the summary" 0 $? "$(tail -1 <<<"$out")" '"pending_approvals":\[\{"gate":"checkout-canary","message":"canary at 50% is as good as stable[^"]*","requested_by":"script:canary","t":[0-9.]+,"time":"2026-01-01T00:[0-9:.]+Z"\}\]'
sed 's/REQUIRE_APPROVAL: true/REQUIRE_APPROVAL: "yes"/' examples/recipes/canary/approval.yaml > "$work/badconstant.yaml"
out=$("$bin" simulate "$work/badconstant.yaml" --policies examples/recipes/canary 2>&1); expect "a constant of the wrong kind exits 2" 2 $? "$out" "badconstant.yaml:7: constants.canary.lua.REQUIRE_APPROVAL: examples/recipes/canary/canary.lua:46: REQUIRE_APPROVAL is a boolean"

# simulate --report: one HTML page, written whatever the verdict; a path that cannot be written exits 2 naming it.
out=$("$bin" simulate examples/recipes/canary/errors.yaml --report "$work/errors.html" 2>&1); expect "simulate --report" 0 $? "$out" "PASSED"
expect "the report is a page with charts" 0 0 "$(head -c 100000 "$work/errors.html")" '<svg class="plot"'
a=$("$bin" simulate examples/recipes/canary/errors.yaml --json); b=$("$bin" simulate examples/recipes/canary/errors.yaml --json --report "$work/errors2.html")
expect "--report changes nothing in the run's output" 0 $([ "$a" = "$b" ]; echo $?)
expect "one seed, one report, byte for byte" 0 $(cmp -s "$work/errors.html" "$work/errors2.html"; echo $?)
out=$("$bin" simulate "$work/fails.yaml" --policies examples/recipes/blue-green --report "$work/fails.html" 2>&1); expect "a failed run still writes its report" 1 $? "$out"
expect "and the report says it failed" 0 0 "$(grep -o 'verdict fail[^<]*' "$work/fails.html")" "Failed: 1 of 3 expectations"
out=$("$bin" simulate examples/recipes/canary/errors.yaml --report "$work/no/such/r.html" 2>&1); expect "--report into a missing folder exits 2" 2 $? "$out" "cannot write the report to $work/no/such/r.html: the folder $work/no/such does not exist"
out=$("$bin" simulate examples/recipes/canary/errors.yaml --report "$work" 2>&1); expect "--report naming a folder exits 2" 2 $? "$out" "cannot write the report to $work: it is a folder"

# run --workload: the scenario's traffic on the real clock, the rules act on it.
# The recipe counts the traffic for 20 s before its first step: a copy counts for a second.
mkdir -p "$work/canary"
sed 's/^local MEASURE = 20 /local MEASURE = 1 /' examples/recipes/canary/canary.lua > "$work/canary/canary.lua"
grep -q '^local MEASURE = 1 ' "$work/canary/canary.lua" || { echo "FAIL: canary.lua has no 'local MEASURE = 20'"; exit 1; }
"$bin" run --policies "$work/canary" --workload examples/recipes/canary/healthy.yaml --audit-log "$work/workload.jsonl" >"$work/workload.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q '"actor":"script:canary","args":{"param":"checkout.split.canary_weight"' "$work/workload.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid; wait $pid; code=$?
expect "run --workload exits 0 on SIGTERM" 0 $code "$(cat "$work/workload.log")"
expect "the canary rule acts on the workload" 0 0 "$(cat "$work/workload.jsonl")" '"action":"param.set","actor":"script:canary","args":\{"param":"checkout.split.canary_weight","value":(1|2|5|10)\}'
out=$("$bin" run --policies policies --workload "$work/malformed.yaml" 2>&1); expect "run --workload with a malformed scenario" 2 $? "$out" "malformed.yaml:4: pipelines.a.backend.error_rate"

# Hardening: bad input is refused promptly with file:line: field, never a trap.
out=$("$bin" check Tests/Corpus/script/interval-1e10.lua 2>&1); expect "check: an interval of 1e10 s is refused" 1 $? "$out" "interval-1e10.lua:3: field 'interval' is 1e10 s, above the maximum of 24h"
out=$(timeout 20 "$bin" run --policies policies --config Tests/Corpus/config/billion-laughs.yaml 2>&1); expect "run: billion laughs refused at once" 2 $? "$out" "billion-laughs.yaml:1: the document expands to more than 100000 nodes"
out=$("$bin" run --policies policies --config Tests/Corpus/config/memory-inf.yaml 2>&1); expect "run: limits.memory infGiB" 2 $? "$out" "memory-inf.yaml:2: limits.memory: inf is not a finite number"
out=$("$bin" run --policies policies --config Tests/Corpus/config/guard-params-null.yaml 2>&1); expect "run: a guard with params: ~" 2 $? "$out" "guard-params-null.yaml:2: guards\[1\].params"
out=$(timeout 20 "$bin" simulate Tests/Corpus/scenario/doubling-aliases.yaml 2>&1); expect "simulate: too many aliases" 2 $? "$out" "doubling-aliases.yaml:2: the document has 118 alias references"
out=$("$bin" simulate Tests/Corpus/scenario/latency-p99-huge.yaml 2>&1); expect "simulate: p99 300000h" 2 $? "$out" "latency-p99-huge.yaml:6: pipelines.checkout.backend.latency.p99: 1.08e9 s is out of range"
out=$("$bin" run --policies policies --workload Tests/Corpus/scenario/timeout-1.79e308.yaml 2>&1); expect "run --workload: a timeout of 1.79e308" 2 $? "$out" "timeout-1.79e308.yaml:5: pipelines.checkout.policies\[1\].timeout.duration: 1.79e308 s is out of range"

# A running sentinel survives a bad edit: the interval that used to trap is refused, the last good version runs on.
mkdir "$work/edit"; cp policies/retry_tuning.lua "$work/edit/"
"$bin" run --policies "$work/edit" --audit-log "$work/edit.jsonl" >"$work/edit.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q '"script.load"' "$work/edit.jsonl" 2>/dev/null && break; sleep 0.1; done
sed 's/interval = "[^"]*"/interval = 1e10/' policies/retry_tuning.lua > "$work/edit/retry_tuning.lua"
for _ in $(seq 1 100); do grep -q '"outcome":"failed"' "$work/edit.jsonl" 2>/dev/null && break; sleep 0.1; done
expect "a bad edit is audited as a failed reload" 0 0 "$(cat "$work/edit.jsonl")" '"action":"script.reload".*"outcome":"failed","reason":"[^"]*retry_tuning.lua:[0-9]+: field .interval. is 1e10 s, above the maximum of 24h'
kill -0 $pid 2>/dev/null; expect "the sentinel is still running after the bad edit" 0 $?
kill -TERM $pid; wait $pid; code=$?
expect "and exits 0 on SIGTERM" 0 $code "$(cat "$work/edit.log")"

# SIGTERM while it starts (reading a large config) exits 0, never by the signal.
# (15,000 guards: within the limits, about a second to read in a debug build; the
# signal comes after start-up, while or after the file is read: exit 0 either way.)
python3 -c "print('guards:'); [print(f'  - {{ params: \"p{i}.*\", max_step_up: {i} }}') for i in range(15000)]" > "$work/large.yaml"
"$bin" run --policies policies --config "$work/large.yaml" >"$work/large.log" 2>&1 &
pid=$!
sleep 0.3
kill -TERM $pid; wait $pid; code=$?
expect "SIGTERM during start exits 0" 0 $code "$(cat "$work/large.log")"

# --fleet: a password in the URL is refused before anything can print it; --instance is required; no --state-file.
out=$("$bin" run --policies policies --fleet 'postgres://sentinel:hunter2@127.0.0.1:1/sentinel' --instance a 2>&1); code=$?
expect "a password in --fleet's URL is a usage error" 2 $code "$out" "the URL carries a password; remove it and give it in PGPASSWORD or --fleet-password-file"
refute "the refused password is not printed" "$out" "hunter2"
out=$("$bin" run --policies policies --fleet 'postgres://sentinel@127.0.0.1:1/sentinel' 2>&1); code=$?
expect "--fleet needs --instance" 2 $code "$out" "--fleet needs --instance ID"
out=$("$bin" run --policies policies --fleet 'postgres://sentinel@127.0.0.1:1/sentinel' --instance a --state-file "$work/s.json" 2>&1); code=$?
expect "--fleet and --state-file do not go together" 2 $code "$out" "--state-file and --fleet do not go together"
out=$("$bin" run --policies policies --fleet 'postgres://sentinel@127.0.0.1:1/sentinel' --instance 'a b' 2>&1); code=$?
expect "a bad instance name is named" 2 $code "$out" "--instance a b: expected 1 to 64 letters"
out=$("$bin" run --policies policies --fleet 'postgres://sentinel@127.0.0.1:1/sentinel' --instance a --fleet-password-file "$work/none" 2>&1); code=$?
expect "a missing password file is named" 2 $code "$out" "--fleet-password-file: $work/none"

if [ $failures -gt 0 ]; then echo "$failures CLI checks failed"; exit 1; fi
echo "all CLI checks passed"
