#!/usr/bin/env bash
# The checkout service on loopback under load: a healthy canary promoted, a
# bad one rolled back, by the canary recipe, with the audit to show it.
#
# Usage: examples/checkout-service/demo.sh [--bin DIR] [--rate R] [--timeout S]
#                                          [--timings fast|recipe] [healthy|bad|slow|both|all]
#   --bin DIR      where checkout-service and sentinel are (default: build them, debug)
#   --rate R       requests per second of the load (default 200)
#   --timeout S    seconds each release may take to be decided (default 120)
#   --timings      fast (default): the recipe with its waits shortened for a demo
#                  (MEASURE 3 s, FIRST_STEP 5 s, MIN_STEP 3 s, BAKE 10 s, a look every
#                  second); recipe: examples/recipes/canary/canary.lua unchanged (a
#                  release takes 10 minutes or more; give --timeout 1200)
#
# Each release runs on fresh processes: two inventory servers (stable, and a
# canary that is healthy, answers 5 % errors (bad), or answers 5 % of its
# requests 300 ms late (slow)), the checkout service with
# the Sentinel and its admin API, and the load generator. Exit 0 when every
# release ended as expected and no request was lost to the middleware (every
# request sent was answered, none with a status only the middleware gives:
# 429, 503 or 504); 1 otherwise. Everything listens on 127.0.0.1, on ports
# the system picks.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="" rate=200 timeout=120 timings=fast scenarios=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --timings) timings=$2; shift 2 ;;
    healthy|bad|slow) scenarios+=("$1"); shift ;;
    both) scenarios+=(healthy bad); shift ;;
    all) scenarios+=(healthy bad slow); shift ;;
    *) echo "demo.sh: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(healthy bad)
case $timings in fast|recipe) ;; *) echo "demo.sh: --timings $timings: expected fast or recipe" >&2; exit 2 ;; esac
if [ -z "$bin" ]; then
  (cd "$root" && swift build --product checkout-service && swift build --product sentinel) || exit 1
  bin=$(cd "$root" && swift build --show-bin-path)
fi
for tool in "$bin/checkout-service" "$bin/sentinel"; do
  [ -x "$tool" ] || { echo "demo.sh: $tool is missing (build it, or give --bin)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/checkout-demo-XXXXXX)
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.5; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; pids=(); }
trap 'stop_all; rm -rf "$work"' EXIT
# A signal ends the script through its EXIT trap (bash skips it when a signal kills it).
trap 'exit 143' TERM INT HUP

# The recipe, unchanged or with its waits shortened. Each rewrite must match
# exactly one line: a recipe whose constants moved fails here, not silently.
policies=$work/policies
mkdir -p "$policies"
recipe=$root/examples/recipes/canary/canary.lua
cp "$recipe" "$policies/canary.lua"
if [ "$timings" = fast ]; then
  # pattern|replacement: the pattern must match exactly one line of the recipe.
  for rewrite in '^local MEASURE = 20 |local MEASURE = 3 ' '^local FIRST_STEP = 240 |local FIRST_STEP = 5 ' \
                 '^local MIN_STEP = 60 |local MIN_STEP = 3 ' '^local BAKE = 300 |local BAKE = 10 ' \
                 '^  interval = "10s",|  interval = "1s",'; do
    pattern=${rewrite%%|*} replacement=${rewrite#*|}
    matches=$(grep -c -- "$pattern" "$policies/canary.lua")
    if [ "$matches" != 1 ]; then
      echo "demo.sh: /$pattern/ matches $matches lines of $recipe, expected exactly one" >&2; exit 1
    fi
    sed -i -e "s/$pattern/$replacement/" "$policies/canary.lua"
  done
fi

token=$("$bin/sentinel" token create demo | head -1)
printf '%s\n' "$token" > "$work/token"
printf 'tokens:\n  - { id: demo, sha256: %s }\n' "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" > "$work/tokens.yaml"

# start NAME LOG COMMAND...: runs COMMAND in the background and waits (20 s at most) for "NAME listening on URL".
started_url=""
start() {
  local name=$1 log=$2; shift 2
  "$@" > "$log" 2> "$log.err" &
  pids+=($!)
  for _ in $(seq 200); do
    started_url=$(grep -m1 "^$name listening on " "$log" 2>/dev/null | sed 's/.* on //')
    [ -n "$started_url" ] && return 0
    sleep 0.1
  done
  echo "demo.sh: $name did not start within 20 s:" >&2; tail -5 "$log.err" >&2; return 1
}

# decision ADMIN_URL: prints promoted, rolled-back or nothing, from the audit of the canary weight.
decision() {
  "$bin/sentinel" audit --server "$1" --token-file "$work/token" --action param.set --limit 1000 --json 2>/dev/null |
    python3 -c '
import json, sys
raised = False
for line in sys.stdin:
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("target") != "checkout.split.canary_weight" or entry.get("outcome") != "applied":
        continue
    value = (entry.get("args") or {}).get("value")
    if value == 100:
        print("promoted"); break
    if value and value > 0:
        raised = True
    elif raised and value == 0:
        print("rolled-back"); break
'
}

failures=0
run_release() { # healthy|bad|slow
  local kind=$1 canary_flags=() expected=rolled-back what
  case $kind in
    healthy) expected=promoted; what="as good as stable" ;;
    bad) canary_flags=(--error-rate 0.05); what="5 % errors" ;;
    slow) canary_flags=(--slow-rate 0.05 --slow-ms 300); what="5 % of its requests 300 ms late" ;;
  esac
  echo
  echo "== release: a $kind canary ($what), $rate req/s, timings $timings"
  rm -f "$work/audit.jsonl"
  start "inventory stable" "$work/stable.log" "$bin/checkout-service" inventory --name stable --seed 1 || { stop_all; return 1; }
  local stable_url=$started_url
  start "inventory canary" "$work/canary.log" "$bin/checkout-service" inventory --name canary --seed 2 "${canary_flags[@]}" ||
    { stop_all; return 1; }
  local canary_url=$started_url
  start checkout "$work/checkout.log" "$bin/checkout-service" serve --stable "$stable_url" --canary "$canary_url" \
    --policies "$policies" --admin-tokens "$work/tokens.yaml" --audit-log "$work/audit.jsonl" || { stop_all; return 1; }
  local checkout_url=$started_url admin_url=""
  for _ in $(seq 100); do
    admin_url=$(grep -m1 "^admin listening on " "$work/checkout.log" | sed 's/.* on //'); [ -n "$admin_url" ] && break; sleep 0.1
  done
  if [ -z "$admin_url" ]; then
    echo "demo.sh: the checkout service's admin API did not start within 10 s:" >&2; tail -5 "$work/checkout.log.err" >&2
    stop_all; return 1
  fi
  echo "   stable $stable_url, canary $canary_url, checkout $checkout_url, admin $admin_url"
  "$bin/checkout-service" load --url "$checkout_url/checkout" --rate "$rate" --seed 7 > "$work/load.json" 2> "$work/load.err" &
  local load=$!
  pids+=($load)
  local outcome="" waited=0
  while [ $waited -lt "$timeout" ]; do
    sleep 1; waited=$((waited + 1))
    outcome=$(decision "$admin_url")
    [ -n "$outcome" ] && break
  done
  # A little more traffic after the decision: it must all be answered too.
  sleep 2
  kill -TERM $load; wait $load
  echo "   the audit (sentinel audit --action param.set):"
  "$bin/sentinel" audit --server "$admin_url" --token-file "$work/token" --action param.set | sed 's/^/     /'
  echo "   the load: $(cat "$work/load.json")"
  stop_all
  local ok=1
  if [ "$outcome" != "$expected" ]; then
    echo "FAIL $kind canary: ${outcome:-undecided} after ${waited}s, expected $expected"; ok=0
    tail -20 "$work/checkout.log.err" | sed 's/^/     /'
  else
    echo "ok   $kind canary $outcome after ${waited}s"
  fi
  if ! python3 - "$work/load.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
problems = []
if report["sent"] == 0: problems.append("no request was sent")
if report["unanswered"]: problems.append(f'{report["unanswered"]} requests unanswered')
if report["transport_errors"]: problems.append(f'transport errors: {report["transport_errors"]}')
if report["refused_by_middleware"]: problems.append(f'{report["refused_by_middleware"]} answered 429, 503 or 504')
if problems:
    print("FAIL no request lost to the middleware: " + "; ".join(problems)); sys.exit(1)
print(f'ok   no request lost to the middleware: {report["answered"]} of {report["sent"]} answered, none refused by it')
PY
  then ok=0; fi
  [ $ok = 1 ] || failures=$((failures + 1))
}

for scenario in "${scenarios[@]}"; do run_release "$scenario" || failures=$((failures + 1)); done
echo
if [ $failures -gt 0 ]; then echo "demo: $failures release(s) failed"; exit 1; fi
echo "demo: every release ended as expected"
