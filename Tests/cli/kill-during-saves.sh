#!/usr/bin/env bash
# kill -9 of `sentinel run` while it saves its state and writes its audit, many
# times: after every kill the state file is whole JSON (or absent before the
# first save), the audit holds whole lines but for at most one torn line per
# kill, and the next start restores the state and runs.
# Usage: Tests/cli/kill-during-saves.sh PATH_TO_SENTINEL [KILLS]
set -u
bin=${1:?usage: $0 PATH_TO_SENTINEL [KILLS]}
kills=${2:-12}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sentinel-kill-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
state="$work/state.json" audit="$work/audit.jsonl"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

start() {
  "$bin" run --policies "$here/kill/policies" --workload "$here/kill/workload.yaml" \
    --state-file "$state" --audit-log "$audit" --log-level error >>"$work/run.log" 2>&1 &
  pid=$!
}

lines() { if [ -f "$audit" ]; then wc -l <"$audit"; else echo 0; fi; }

# Waits (at most 10 s) until the audit has grown past $1 lines.
wait_for_lines() {
  for _ in $(seq 1 200); do
    [ "$(lines)" -gt "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

check_files() { # round
  if [ -e "$state" ] && ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$state" 2>/dev/null; then
    fail "kill $1: the state file is not whole JSON"; cp "$state" "$work/../sentinel-kill-bad-state.json" 2>/dev/null
  fi
  bad=$(python3 - "$audit" <<'PY'
import json, sys
bad = 0
for line in open(sys.argv[1], 'rb').read().split(b'\n'):
    if not line.strip():
        continue
    try:
        json.loads(line)
    except Exception:
        bad += 1
print(bad)
PY
)
  [ "$bad" -le "$1" ] || fail "kill $1: $bad malformed audit lines after $1 kills"
}

for round in $(seq 1 "$kills"); do
  before=$(lines)
  start
  wait_for_lines $((before + 3)) || fail "kill $round: the sentinel wrote nothing within 10 s"
  # A varying moment inside the save-and-audit cycle (10 per second).
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
  check_files "$round"
done

# A last start after the kills: it restores the state and stops cleanly.
start
wait_for_lines $(( $(lines) + 3 )) || fail "the start after $kills kills wrote nothing"
kill -TERM "$pid"; wait "$pid"; code=$?; pid=
[ "$code" = 0 ] || fail "the start after $kills kills exited $code on SIGTERM"
[ -e "$state.unreadable" ] && fail "a start could not read the state file: $(grep -m1 'state' "$work/run.log")"
check_files "$kills"

if [ "$failures" -gt 0 ]; then echo "$failures kill -9 checks failed"; exit 1; fi
echo "ok   $kills kill -9 during saves and audit writes: state whole, audit lines whole, restarts restore"
