#!/usr/bin/env bash
# Fleet mode end to end: three `sentinel run --fleet` instances (i1, i2, i3) on
# one PostgreSQL database, in a schema of their own (one per run), each with its
# admin API and audit file, a lease of 2 s.
#   1. they agree on one leader (/v1/fleet, /v1/status, /metrics, `fleet status`);
#   2. a command at one instance reaches all, audited once at each with its actor and reason;
#   3. kill -9 of the leader: a new leader within 10 s, and a canary release
#      (examples/recipes/canary with the demo's short waits) keeps its step and goes on;
#   4. the database stopped and started again in the middle of 30 commands at the
#      three instances: every command audited exactly once at every instance, the
#      knobs equal everywhere;
#   5. one instance's sessions ended (pg_terminate_backend): it reconnects and catches up;
#   6. a hung leader (SIGSTOP for longer than its lease) loses leadership to a higher
#      term and does not claim it back after SIGCONT.
# Needs SENTINEL_TEST_POSTGRES_URL and PGPASSWORD, and for 4
# SENTINEL_TEST_POSTGRES_CTL and SENTINEL_TEST_POSTGRES_DIR (Tests/fleet/with-postgres.sh
# sets them all). Without the URL it skips, except under CI=true, where it fails.
# Every wait is bounded, and so is the whole (6 minutes at worst; about two and a
# half on an idle 2-core machine). SENTINEL_FLEET_KEEP=DIR keeps the instances'
# logs (debug level) and audits there.
# Usage: Tests/fleet/with-postgres.sh Tests/cli/fleet.sh PATH_TO_SENTINEL      (loopback only)
# shellcheck disable=SC2046  # lists of URLs (no spaces in them) are split on purpose
set -u
bin=${1:?usage: $0 PATH_TO_SENTINEL}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
failures=0; passed=0

# shellcheck source=SCRIPTDIR/checks.sh
source "$here/checks.sh"

if [ -z "${SENTINEL_TEST_POSTGRES_URL:-}" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL SENTINEL_TEST_POSTGRES_URL is unset under CI=true: the fleet checks need PostgreSQL."
    echo "    Run them under Tests/fleet/with-postgres.sh (make test does); see docs/testing.md"
    exit 1
  fi
  echo "skip SENTINEL_TEST_POSTGRES_URL is unset: no fleet checks (Tests/fleet/with-postgres.sh $0 BINARY runs them)"
  exit 0
fi
# The environment must not choose a server or a token for the CLI.
unset SENTINEL_SERVER SENTINEL_TOKEN SENTINEL_TOKEN_FILE

lease=2
work=$(mktemp -d /tmp/sentinel-fleet-XXXXXX)
schema="fleet_test_$(date +%s)_$$"
sep='?sslmode=disable&'
[[ $SENTINEL_TEST_POSTGRES_URL == *\?* ]] && sep='&'
fleet_url="$SENTINEL_TEST_POSTGRES_URL${sep}schema=$schema"
pg_port=${SENTINEL_TEST_POSTGRES_URL#*://}; pg_port=${pg_port#*@}; pg_port=${pg_port%%/*}
[[ $pg_port == *:* ]] && pg_port=${pg_port##*:} || pg_port=5432
# psql from Debian's postgresql-client; else next to the server binaries.
psql=$(command -v psql || echo "$("$root/Tests/fleet/postgres-server.sh" bindir 2>/dev/null)/psql")
pid=() url=()  # by instance number, 1 to 3
timings=()

query() { # SQL: the rows, one a line, fields separated by |
  PGCONNECT_TIMEOUT=5 timeout 20 "$psql" "$SENTINEL_TEST_POSTGRES_URL" -X -w -A -t -q -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

cleanup() {
  local n
  [ -n "${watchdog:-}" ] && kill "$watchdog" 2>/dev/null
  for n in 1 2 3; do
    [ -n "${pid[n]:-}" ] || continue
    kill -CONT "${pid[n]}" 2>/dev/null; kill -KILL "${pid[n]}" 2>/dev/null
  done
  for n in 1 2 3; do [ -n "${pid[n]:-}" ] && wait "${pid[n]}" 2>/dev/null; done
  # Stopped in the middle of check 4: the server is given back running.
  [ "${db_stopped:-}" = 1 ] && "$SENTINEL_TEST_POSTGRES_CTL" start-again "$SENTINEL_TEST_POSTGRES_DIR" >/dev/null 2>&1
  # Nothing of this run stays in a developer's own server (a throw-away one goes anyway).
  query "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
  if [ -n "${SENTINEL_FLEET_KEEP:-}" ]; then
    mkdir -p "$SENTINEL_FLEET_KEEP" && cp -r "$work"/i[123] "$SENTINEL_FLEET_KEEP"/ && echo "logs and audits kept in $SENTINEL_FLEET_KEEP"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# A signal ends the script through its EXIT trap (bash skips it when a signal kills it).
trap 'exit 143' TERM INT HUP
# Each wait has its deadline; this bounds the whole, however many of them run out.
budget=360
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$budget" & sleeper=$!
  wait "$sleeper" && echo "FAIL the fleet checks did not end within $budget s: stopped" && kill -TERM $$
) &
watchdog=$!

since() { # T0 (an $EPOCHREALTIME): seconds since, one decimal
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}
numeric() { # A OP B: compares two numbers (OP <, <=, >, >=, ==)
  awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"
}
timing() { timings+=("$1"); echo "     $1"; }
# checks.sh's wait_for counts its polls, and a poll here reads three APIs: this
# one bounds the wall-clock time instead.
within() { # SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds, for at most SECONDS
  local deadline
  deadline=$(awk -v now="$EPOCHREALTIME" -v limit="$1" 'BEGIN { printf "%.6f", now + limit }'); shift
  until "$@"; do
    numeric "$EPOCHREALTIME" '<' "$deadline" || return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------
# The policies: the canary recipe with the demo's short waits
# (examples/checkout-service/demo.sh), each rewrite matching exactly one line.
mkdir -p "$work/policies"
recipe=$root/examples/recipes/canary/canary.lua
cp "$recipe" "$work/policies/canary.lua"
for rewrite in '^local MEASURE = 20 |local MEASURE = 3 ' '^local FIRST_STEP = 240 |local FIRST_STEP = 5 ' \
               '^local MIN_STEP = 60 |local MIN_STEP = 3 ' '^local BAKE = 300 |local BAKE = 10 ' \
               '^  interval = "10s",|  interval = "1s",'; do
  pattern=${rewrite%%|*} replacement=${rewrite#*|}
  matches=$(grep -c -- "$pattern" "$work/policies/canary.lua")
  if [ "$matches" != 1 ]; then
    echo "FAIL /$pattern/ matches $matches lines of $recipe, expected exactly one (did the recipe's constants move?)"; exit 1
  fi
  sed -i -e "s/$pattern/$replacement/" "$work/policies/canary.lua"
done

# A light workload: three debug builds share the machine. The canary's latency
# is tight and neither side fails, so that the recipe's FIT test passes within a
# minute at 100 canary calls/s; `shop` only holds the knobs the commands set.
cat > "$work/workload.yaml" <<'YAML'
name: fleet-canary
duration: 1h
seed: 1
pipelines:
  checkout:
    policies:
      - timeout: { duration: 2s }
      - split: { stable: 100, canary: 0 }
    backends:
      stable: { latency: { distribution: lognormal, p50: 20ms, p99: 30ms }, error_rate: 0 }
      canary: { latency: { distribution: lognormal, p50: 20ms, p99: 30ms }, error_rate: 0 }
    traffic: { rate: 200 }
  shop:
    policies:
      - timeout: { duration: 2s }
      - retry: { max_attempts: 3 }
    backend: { latency: 5ms }
    traffic: { rate: 2 }
YAML
tokens_file "$work" alice

# Reads the instances' admin APIs, one line per URL given ("down" when one does not answer).
cat > "$work/probe.py" <<'PY'
import json, sys, urllib.parse, urllib.request
token = open(sys.argv[1]).read().strip()
what, args = sys.argv[2], sys.argv[3:]

def get(url, path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return json.load(answer)
    except Exception:
        return None

def number(value):
    return "null" if value is None else "%g" % value

def audit(url, action):
    body = get(url, "/v1/audit?limit=1000&action=" + urllib.parse.quote(action))
    return None if body is None else body["entries"]

if what == "fleet":  # URL...: ROLE LEADER TERM CONNECTED APPLIED (role and connected from /v1/status, the rest from /v1/fleet)
    for url in args:
        status, fleet = get(url, "/v1/status"), get(url, "/v1/fleet")
        if status is None or fleet is None:
            print("down - - - -")
            continue
        mine = status.get("fleet") or {}
        print(mine.get("role"), fleet.get("leader"), fleet.get("term"), str(mine.get("connected")).lower(),
              mine.get("applied_version"))
elif what == "param":  # KNOB URL...: its value
    for url in args[1:]:
        params = get(url, "/v1/params")
        print("down" if params is None else number(params.get(args[0], {}).get("value")))
elif what == "audit":  # ACTION REASON URL...: COUNT ACTORS CORRELATIONS of the entries with this reason
    for url in args[2:]:
        entries = audit(url, args[0])
        if entries is None:
            print("down - -")
            continue
        found = [e for e in entries if e.get("reason") == args[1]]
        print(len(found), ",".join(e.get("actor", "?") for e in found) or "-",
              ",".join(str(e.get("correlation_id")) for e in found) or "-")
elif what == "count":  # ACTION URL...: how many entries of this action
    for url in args[1:]:
        entries = audit(url, args[0])
        print("down" if entries is None else len(entries))
elif what == "reasons":  # ACTION PREFIX N URL...: the reasons PREFIX1..PREFIXN not audited exactly once, as REASON×COUNT
    prefix, count = args[1], int(args[2])
    for url in args[3:]:
        entries = audit(url, args[0])
        if entries is None:
            print("down")
            continue
        counts = {}
        for e in entries:
            counts[e.get("reason")] = counts.get(e.get("reason"), 0) + 1
        wrong = ["%s×%d" % (k, counts.get(prefix + str(k), 0)) for k in range(1, count + 1)
                 if counts.get(prefix + str(k), 0) != 1]
        print(" ".join(wrong) or "ok")
PY
probe() { # WHAT ARG... INSTANCE...: probe.py's lines; its arguments are the instances' numbers after WHAT's own
  python3 "$work/probe.py" "$work/alice.token" "$@"
}
urls() { local n; for n in "$@"; do echo "${url[n]}"; done; }

# The sessions instance N holds with the database: the local ports of its TCP
# connections to the server's port (as pg_stat_activity.client_port shows them).
client_ports() {
  python3 - "${pid[$1]}" "$pg_port" <<'PY'
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
ports = []
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        rows = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        fields = row.split()
        if fields[9] in inodes and fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
            ports.append(int(fields[1].rsplit(":", 1)[1], 16))
print(",".join(map(str, sorted(ports))))
PY
}

start_instance() { # N: starts instance iN (its audit and logs in $work/iN), sets pid[N] and url[N]
  local n=$1 dir=$work/i$1
  mkdir -p "$dir"
  : > "$dir/out"
  echo "--- start $(date -u +%H:%M:%S.%N)" >> "$dir/err"
  "$bin" run --policies "$work/policies" --workload "$work/workload.yaml" \
    --admin 127.0.0.1:0 --admin-tokens "$work/tokens.yaml" --audit-log "$dir/audit.jsonl" \
    --fleet "$fleet_url" --instance "i$n" --fleet-lease "$lease" --log-level debug >"$dir/out" 2>>"$dir/err" &
  pid[n]=$!
  if ! url[n]=$(admin_url 30 "$dir/out"); then
    echo "FAIL instance i$n did not start within 30 s"; tail -n 20 "$dir/err" | sed 's/^/    /'; exit 1
  fi
}

# agree N...: instances N... all answer, are connected, name one leader and one
# term in /v1/fleet, and exactly one of them says role leader in /v1/status: the
# one named. Sets `leader` (its number) and `term`; `view` says what each said.
leader="" term="" view=""
agree() {
  local n i=0 role name t connected applied lines leaders=0 names="" terms="" says="" all_connected=1
  mapfile -t lines < <(probe fleet $(urls "$@"))
  view=""
  for n in "$@"; do
    read -r role name t connected applied <<<"${lines[i]:-down - - - -}"; i=$((i + 1))
    view+="i$n: role $role, fleet leader $name, term $t, connected $connected, applied $applied; "
    names+="$name " terms+="$t "
    [ "$role" = leader ] && { leaders=$((leaders + 1)); says=$n; }
    [ "$connected" = true ] || all_connected=0
  done
  [ "$all_connected" = 1 ] && [ "$leaders" = 1 ] || return 1
  [ "$(tr ' ' '\n' <<<"$names" | sed '/^$/d' | sort -u)" = "i$says" ] || return 1
  [ "$(tr ' ' '\n' <<<"$terms" | sed '/^$/d' | sort -u | wc -l)" = 1 ] || return 1
  leader=$says term=${terms%% *}
}
# new_leader OLD OLD_TERM N...: instances N... agree on a leader other than OLD, with a higher term.
new_leader() {
  local old=$1 old_term=$2; shift 2
  agree "$@" && [ "$leader" != "$old" ] && [ "$term" -gt "$old_term" ]
}
connected_all() { # true|false: every instance says so in /v1/status fleet.connected
  local c
  for c in $(probe fleet $(urls 1 2 3) | awk '{ print $4 }'); do [ "$c" = "$1" ] || return 1; done
}
stop_instance() { # N: SIGTERM, then SIGKILL after 3 s (said: a stop should not take that long)
  local n=$1 waited=0
  [ -n "${pid[n]:-}" ] || return 0
  kill -CONT "${pid[n]}" 2>/dev/null; kill -TERM "${pid[n]}" 2>/dev/null
  while kill -0 "${pid[n]}" 2>/dev/null && [ $waited -lt 30 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "${pid[n]}" 2>/dev/null; then
    echo "     note: i$n did not stop within 3 s of SIGTERM: killed"; kill -KILL "${pid[n]}"
  fi
  wait "${pid[n]}" 2>/dev/null; pid[n]=""
}
# whole: one leader, and every instance holds its three sessions with the
# database (its data, statistics and leadership sessions; candidates keep the last too).
whole() {
  local n ports
  agree 1 2 3 || return 1
  for n in 1 2 3; do
    ports=$(client_ports "$n")
    [[ $ports =~ ^[0-9]+,[0-9]+,[0-9]+$ ]] || { view+="i$n holds sessions from ports '$ports' only; "; return 1; }
  done
}
# Each check needs a whole fleet: when the last check left it otherwise (and
# failed for it), the three instances start again, so that the next check
# tests its own subject.
recover() {
  local n
  within 10 whole && return 0
  echo "     the fleet is not whole ($view): the three instances start again for the next check"
  for n in 1 2 3; do stop_instance "$n"; done
  for n in 1 2 3; do start_instance "$n"; done
  within 20 whole || echo "     and still not after a restart: $view"
}
others() { local n; for n in 1 2 3; do [ "$n" = "$1" ] || echo "$n"; done; }

all_show() { # KNOB VALUE N...: every one of instances N... has the knob at VALUE
  local knob=$1 value=$2 v; shift 2
  for v in $(probe param "$knob" $(urls "$@")); do [ "$v" = "$value" ] || return 1; done
}
values() { # KNOB N...: "iN=VALUE ..." for a message
  local knob=$1 n i=0 lines; shift
  mapfile -t lines < <(probe param "$knob" $(urls "$@"))
  for n in "$@"; do printf 'i%s=%s ' "$n" "${lines[i]}"; i=$((i + 1)); done
}
audited_once() { # ACTION REASON N...: every one of instances N... audited one entry with this reason
  local action=$1 reason=$2 line; shift 2
  while read -r line; do [ "${line%% *}" = 1 ] || return 1; done < <(probe audit "$action" "$reason" $(urls "$@"))
}
audit_lines() { # ACTION REASON N...: "iN: COUNT ACTORS CORRELATIONS; ..." for a message
  local action=$1 reason=$2 n i=0 lines; shift 2
  mapfile -t lines < <(probe audit "$action" "$reason" $(urls "$@"))
  for n in "$@"; do printf 'i%s: %s; ' "$n" "${lines[i]}"; i=$((i + 1)); done
}
metric() { # N NAME: the value of an unlabelled metric at instance N ("absent" without one)
  curl -s --max-time 3 -H "Authorization: Bearer $(cat "$work/alice.token")" "${url[$1]}/metrics" |
    awk -v name="$2" '$1 == name { value = $2 + 0; found = 1 } END { print found ? value : "absent" }'
}
command_via() { # N COMMAND ARGS_JSON REASON: POST /v1/commands at instance N; prints the HTTP status, the body in $work/answer
  curl -s --max-time 10 -o "$work/answer" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$work/alice.token")" \
    -H "Content-Type: application/json" \
    -d "{\"command\": \"$2\", \"args\": $3, \"reason\": \"$4\"}" "${url[$1]}/v1/commands"
}
set_via() { # N KNOB VALUE REASON: param.set at instance N; prints the HTTP status
  command_via "$1" param.set "{\"param\": \"$2\", \"value\": $3}" "$4"
}
logs() { # N: instance N's last log lines, for a failure's message
  echo "    last lines of i$1's log:"; grep -v -e '\[Simulation\] workload' -e '\[ServiceLifecycle\]' "$work/i$1/err" |
    tail -n "${2:-15}" | cut -c1-400 | sed 's/^/      /'
}

echo "fleet checks: schema $schema, lease ${lease}s, $(nproc 2>/dev/null || echo '?') cores"

# ---------------------------------------------------------------------------
echo "== 1. three instances agree on one leader"
began=$EPOCHREALTIME
for n in 1 2 3; do start_instance "$n"; done
if within 20 agree 1 2 3; then
  expect "all three name i$leader, term $term, as leader; exactly it says role leader (after $(since "$began") s)" 0 0
else
  expect "all three name one leader and term, exactly it says role leader (within 20 s)" 0 1 "$view"
  echo "the instances do not form a fleet: nothing else to check"; for n in 1 2 3; do logs "$n"; done; exit 1
fi
out=$(probe count fleet.lead "${url[leader]}")
expect "the leader audits fleet.lead" 0 "$(numeric "$out" '>=' 1; echo $?)" "i$leader has $out fleet.lead entries"
for n in 1 2 3; do
  role=follower want=0; [ "$n" = "$leader" ] && role=leader want=1
  out="connected $(metric "$n" sentinel_fleet_connected), leader $(metric "$n" sentinel_fleet_leader), term $(metric "$n" sentinel_fleet_term), applied $(metric "$n" sentinel_fleet_applied_version)"
  expect "/metrics of i$n ($role): sentinel_fleet_connected 1, _leader $want, _term $term, _applied_version" 0 0 "$out" \
    "^connected 1, leader $want, term $term, applied [0-9]+$"
done
out=$("$bin" fleet status --server "${url[3]}" --token-file "$work/alice.token" 2>&1)
expect "sentinel fleet status at i3 names the leader, its term and 3 instances" 0 $? "$out" "leader i$leader, term $term, 3 instances"

# ---------------------------------------------------------------------------
echo "== 2. a command at one instance reaches all"
reason="check 2 of $schema: through i2"
out=$("$bin" set shop.retry.max_attempts 7 --reason "$reason" --server "${url[2]}" --token-file "$work/alice.token" 2>&1)
code=$?; began=$EPOCHREALTIME
expect "sentinel set shop.retry.max_attempts 7 through i2 is applied" 0 $code "$out" "^applied"
if within 3 all_show shop.retry.max_attempts 7 1 2 3; then
  took=$(since "$began")
  expect "all three show 7 within 3 s ($took s)" 0 0; timing "check 2: a command at i2 shown by all three after $took s"
else
  expect "all three show shop.retry.max_attempts 7 within 3 s" 0 1 "$(values shop.retry.max_attempts 1 2 3)"
fi
within 3 audited_once param.set "$reason" 1 2 3
out=$(audit_lines param.set "$reason" 1 2 3)
expect "each instance audits the command exactly once, as operator:alice with its reason" 0 0 "$out" \
  "^i1: 1 operator:alice [^;]*; i2: 1 operator:alice [^;]*; i3: 1 operator:alice [^;]*; $"
expect "the copies at i1 and i3 carry a fleet: correlation_id" 0 0 "$out" \
  "^i1: 1 operator:alice fleet:[^;]*; i2: [^;]*; i3: 1 operator:alice fleet:[^;]*; $"
refute "i2's own entry does not" "$out" "i2: [0-9]+ [^ ]+ fleet:"

# ---------------------------------------------------------------------------
echo "== 3. kill -9 of the leader during a canary release"
weight=""
canary_step() { # every instance holds the same canary weight, strictly between 0 and 100: sets `weight`
  local values
  values=$(probe param checkout.split.canary_weight $(urls 1 2 3) | sort -u)
  [ "$(wc -l <<<"$values")" = 1 ] && numeric "$values" '>' 0 && numeric "$values" '<' 100 && weight=$values
}
if ! within 40 canary_step; then
  expect "the canary reaches a step between 0 and 100 % at every instance within 40 s" 0 1 \
    "$(values checkout.split.canary_weight 1 2 3)"
  logs "$leader" 25
else
  within 5 agree 1 2 3
  old=$leader old_term=$term
  expect "the canary is at $weight % on all three (leader i$old, term $old_term)" 0 0
  kill -KILL "${pid[old]}"; wait "${pid[old]}" 2>/dev/null; pid[old]=""
  began=$EPOCHREALTIME
  mapfile -t survivors < <(others "$old")
  if within 10 new_leader "$old" "$old_term" "${survivors[@]}"; then
    took=$(since "$began")
    expect "a new leader within 10 s of kill -9: i$leader, term $term, after $took s" 0 0
    timing "check 3: failover after kill -9 of the leader: $took s"
  else
    expect "a new leader with a higher term within 10 s of kill -9 of i$old" 0 1 "$view"
  fi
  new=$leader
  out=$(values checkout.split.canary_weight "${survivors[@]}")
  expect "the survivors still hold the canary at $weight % after the failover" 0 0 "$out" \
    "^i[0-9]=$weight i[0-9]=$weight $"
  # It must go on from its step (never below it) to a higher step or to 100 %.
  lowest=$weight moved="" seen=""
  deadline=$((SECONDS + 90))
  while [ $SECONDS -lt $deadline ]; do
    mapfile -t now < <(probe param checkout.split.canary_weight $(urls "${survivors[@]}"))
    seen="${now[*]}"
    for w in "${now[@]}"; do numeric "$w" '<' "$lowest" 2>/dev/null && lowest=$w; done
    if numeric "${now[0]}" '>' "$weight" 2>/dev/null && [ "${now[0]}" = "${now[1]}" ]; then moved=${now[0]}; break; fi
    sleep 0.5
  done
  if [ -n "$moved" ]; then
    took=$(since "$began")
    expect "the release goes on after the failover: $weight % → $moved % at both survivors, $took s after the kill" 0 0
    timing "check 3: the canary moved on from $weight % to $moved % $took s after the kill"
  else
    expect "the release goes on after the failover (a higher step or 100 %) within 90 s" 0 1 \
      "still at $seen after $(since "$began") s; the new leader i$new's canary says:
$(grep -E 'canary' "$work/i$new/err" | tail -n 8)"
  fi
  expect "and never fell below its step meanwhile (lowest seen: $lowest %)" 0 0 "$lowest" "^$weight$"
  # The killed instance comes back under its name, as a follower, with the fleet's values.
  start_instance "$old"
  same_weight() { # the restarted instance has the new leader's canary weight
    fleet_weight=$(probe param checkout.split.canary_weight "${url[new]}")
    [ "$(probe param checkout.split.canary_weight "${url[old]}")" = "$fleet_weight" ]
  }
  if within 20 same_weight && within 10 agree 1 2 3; then
    expect "restarted, i$old follows (i$leader leads) and takes the fleet's canary weight ($fleet_weight %)" 0 0 "$leader" "^[^$old]$"
  else
    expect "restarted, i$old follows and takes the fleet's canary weight within 30 s" 0 1 \
      "$view $(values checkout.split.canary_weight 1 2 3)"
  fi
fi

# ---------------------------------------------------------------------------
echo "== 4. the database stopped and started again during 30 commands"
recover
if [ -z "${SENTINEL_TEST_POSTGRES_CTL:-}" ] || [ -z "${SENTINEL_TEST_POSTGRES_DIR:-}" ]; then
  if [ "${CI:-}" = true ]; then
    expect "SENTINEL_TEST_POSTGRES_CTL and SENTINEL_TEST_POSTGRES_DIR are set (the restart needs them)" 0 1
  else
    echo "skip SENTINEL_TEST_POSTGRES_CTL or _DIR unset (your own server): no restart check"
  fi
else
  knobs=(shop.retry.max_attempts shop.retry.max_delay shop.timeout.duration)
  prefix="check 4 of $schema: command "
  declare -A last=()
  bad_answers="" down_answers=0
  for k in $(seq 1 30); do
    n=$(( (k - 1) % 3 + 1 )) knob=${knobs[$(( (k - 1) / 3 % 3 ))]}
    value=$((k + 10)); [ "$knob" != shop.retry.max_attempts ] && value=$((k + 100))
    if [ "$k" = 11 ]; then
      db_stopped=1
      "$SENTINEL_TEST_POSTGRES_CTL" stop-only "$SENTINEL_TEST_POSTGRES_DIR" >/dev/null || echo "     (stop-only failed)"
      stopped=$EPOCHREALTIME
      within 10 connected_all false
      expect "with the database stopped, all three say fleet.connected false ($(since "$stopped") s)" 0 $? \
        "$(probe fleet $(urls 1 2 3))"
    fi
    if [ "$k" = 21 ]; then
      "$SENTINEL_TEST_POSTGRES_CTL" start-again "$SENTINEL_TEST_POSTGRES_DIR" >/dev/null || echo "     (start-again failed)"
      db_stopped=""
      restarted=$EPOCHREALTIME
    fi
    code=$(set_via "$n" "$knob" "$value" "$prefix$k")
    if [ "$code" != 200 ] || ! grep -q '"outcome":"applied"' "$work/answer"; then
      bad_answers+="command $k at i$n: $code $(head -c 300 "$work/answer"); "
    elif [ "$k" -gt 10 ] && [ "$k" -le 20 ]; then
      down_answers=$((down_answers + 1))
    fi
    last[$knob]=$value
    sleep 0.1
  done
  expect "the 30 commands are applied where they were sent, the 10 while the database was down too" 0 0 \
    "${bad_answers}while down: $down_answers applied" "^while down: 10 applied$"
  within 20 connected_all true
  expect "all three connected again after the start ($(since "$restarted") s after it)" 0 $? "$(probe fleet $(urls 1 2 3))"
  settled() { local line; for line in $(probe reasons param.set "$prefix" 30 $(urls 1 2 3)); do [ "$line" = ok ] || return 1; done; }
  if within 20 settled; then
    timing "check 4: every instance audited all 30 commands once, $(since "$restarted") s after the database was back"
  fi
  out=$(probe reasons param.set "$prefix" 30 $(urls 1 2 3) | paste -sd '|')
  expect "every instance audits each of the 30 commands exactly once (per instance, the commands audited otherwise than once)" \
    0 0 "$out" "^ok\|ok\|ok$"
  # The values settle once everyone has applied the newest version.
  caught_up() { agree 1 2 3 && [ "$(probe fleet $(urls 1 2 3) | awk '{ print $5 }' | sort -u | wc -l)" = 1 ]; }
  within 10 caught_up
  for knob in "${knobs[@]}"; do
    out=$(probe param "$knob" $(urls 1 2 3) | sort -u)
    expect "the three agree on $knob (${out//$'\n'/ / })" 0 0 "$(values "$knob" 1 2 3)" "^i1=([^ ]+) i2=\1 i3=\1 $"
    if [ "$(wc -l <<<"$out")" = 1 ] && [ "$out" != "${last[$knob]}" ]; then
      echo "     note: $knob is $out everywhere, the last command sent for it set ${last[$knob]} (the later write to the database wins)"
    fi
  done
  agree 1 2 3
  expect "after the restart the fleet has one leader (i$leader, term $term)" 0 $? "$view"
fi

# ---------------------------------------------------------------------------
echo "== 5. one instance's sessions ended with pg_terminate_backend"
recover
target="" sender=$leader
for n in 1 2 3; do [ "$n" != "$leader" ] && [ -z "$target" ] && target=$n; done
ports=$(client_ports "$target")
again_before=$(grep -c "connected to the database again" "$work/i$target/err")
sessions=$(query "SELECT pid FROM pg_stat_activity WHERE client_port IN (${ports:-0}) ORDER BY pid" | paste -sd ' ')
expect "i$target (a follower) holds 3 sessions (client ports $ports: backends $sessions)" 0 0 "$sessions" "^[0-9]+ [0-9]+ [0-9]+$"
ended=$(query "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE client_port IN (${ports:-0})")
began=$EPOCHREALTIME
expect "pg_terminate_backend ends them (as the role sentinel, no superuser)" 0 0 "$ended" "^3$"
reason="check 5 of $schema: through i$sender while i$target reconnects"
code=$(set_via "$sender" shop.retry.base_delay 7 "$reason")
expect "meanwhile a command through i$sender is applied" 0 0 "$code $(cat "$work/answer")" '^200 .*"outcome":"applied"'
caught() {
  all_show shop.retry.base_delay 7 "$target" && audited_once param.set "$reason" "$target" &&
    [ "$(probe fleet "${url[target]}" | awk '{ print $4 }')" = true ]
}
if within 15 caught; then
  took=$(since "$began")
  expect "i$target reconnects, is connected again and catches up with it ($took s)" 0 0
  timing "check 5: i$target reconnected and caught up $took s after its sessions were ended"
else
  expect "i$target reconnects and catches up within 15 s (its value, its audit, fleet.connected)" 0 1 \
    "$(values shop.retry.base_delay "$target") $(audit_lines param.set "$reason" "$target") $(probe fleet "${url[target]}")"
  logs "$target"
fi
new_sessions() { # instance $target holds 3 sessions again, not the ended ones
  now_ports=$(client_ports "$target")
  now_sessions=$(query "SELECT pid FROM pg_stat_activity WHERE client_port IN (${now_ports:-0}) ORDER BY pid" | paste -sd ' ')
  [[ $now_sessions =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] && [ "$now_sessions" != "$sessions" ]
}
within 10 new_sessions
expect "i$target holds 3 new sessions again, its data, statistics and leadership sessions (backends $now_sessions, were $sessions)" \
  0 $? "$now_sessions"
again=$(grep -c "connected to the database again" "$work/i$target/err")
expect "i$target logs that it connected again" 0 0 "$again" "^$((again_before + 1))$"

# ---------------------------------------------------------------------------
echo "== 6. a hung leader (SIGSTOP longer than its lease) loses leadership"
recover
if ! agree 1 2 3; then
  expect "the fleet has one leader before the SIGSTOP" 0 1 "$view"
else
  old=$leader old_term=$term
  follows_before=$(probe count fleet.follow "${url[old]}")
  mapfile -t rest < <(others "$old")
  kill -STOP "${pid[old]}"
  began=$EPOCHREALTIME
  if within $((lease + 5)) new_leader "$old" "$old_term" "${rest[@]}"; then
    took=$(since "$began")
    expect "another instance leads within lease + 5 s: i$leader, term $term > $old_term, after $took s" 0 0
    timing "check 6: a new leader $took s after SIGSTOP of the leader (lease ${lease}s)"
  else
    expect "another instance leads with a higher term within lease + 5 s of SIGSTOP of i$old" 0 1 "$view"
  fi
  new=$leader new_term=$term
  # Stopped for longer than the lease in any case.
  while numeric "$(since "$began")" '<' $((lease + 1)); do sleep 0.2; done
  kill -CONT "${pid[old]}"
  resumed=$EPOCHREALTIME
  # From SIGCONT on, the old leader never says it leads, and the fleet stays with the new one.
  claims="" deadline=$((SECONDS + 4))
  while [ $SECONDS -lt $deadline ]; do
    line=$(probe fleet "${url[old]}")
    [ "${line%% *}" = leader ] && claims+="[$(since "$resumed") s: $line] "
    sleep 0.2
  done
  expect "after SIGCONT i$old does not claim leadership (its /v1/status fleet.role, sampled for 4 s)" 0 0 "${claims:-none}" "^none$"
  noticed() {
    [ "$(probe fleet "${url[old]}" | awk '{ print $1 }')" = follower ] &&
      numeric "$(probe count fleet.follow "${url[old]}")" '>' "$follows_before"
  }
  within 10 noticed
  expect "i$old says role follower and audits fleet.follow" 0 $? \
    "$(probe fleet "${url[old]}"); fleet.follow entries: $follows_before before, $(probe count fleet.follow "${url[old]}") now"
  if within 10 agree 1 2 3; then
    expect "the fleet has exactly one leader: i$leader, term $term" 0 0 "$leader $term" "^$new $new_term$"
  else
    expect "the fleet has exactly one leader after SIGCONT (within 10 s)" 0 1 "$view"
  fi
  out="old i$old: $(metric "$old" sentinel_fleet_leader), new i$new: $(metric "$new" sentinel_fleet_leader)"
  expect "sentinel_fleet_leader follows: 0 at the old leader, 1 at the new" 0 0 "$out" "^old i$old: 0, new i$new: 1$"
  # The deposed leader's own commands still reach the fleet.
  reason="check 6 of $schema: through the deposed i$old"
  code=$(set_via "$old" shop.retry.max_attempts 9 "$reason")
  expect "a command through the deposed i$old is applied there" 0 0 "$code $(cat "$work/answer")" '^200 .*"outcome":"applied"'
  within 5 all_show shop.retry.max_attempts 9 1 2 3 && within 3 audited_once param.set "$reason" 1 2 3
  expect "and reaches all three, audited once at each, within 5 s" 0 $? \
    "$(values shop.retry.max_attempts 1 2 3)$(audit_lines param.set "$reason" 1 2 3)"
fi

echo "timings:"; for line in "${timings[@]}"; do echo "  $line"; done
if [ $failures -gt 0 ]; then
  for n in 1 2 3; do logs "$n" 30; done
  echo "$failures fleet checks failed ($passed passed)"; exit 1
fi
echo "all fleet checks passed ($passed)"
