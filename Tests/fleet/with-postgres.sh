#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL server (postgres-server.sh),
# with SENTINEL_TEST_POSTGRES_URL, PGPASSWORD and the rest of the server's env
# file exported, and stops the server and removes its folder afterwards, also
# when the command fails or this script gets SIGINT, SIGTERM or SIGHUP.
# Exits with the command's status. With SENTINEL_TEST_POSTGRES_URL already set
# (a developer's own server) it just runs the command.
# Usage: Tests/fleet/with-postgres.sh COMMAND [ARG...]      (loopback only)
# shellcheck disable=SC2317  # cleanup and tree run from the EXIT trap
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
if [ -n "${SENTINEL_TEST_POSTGRES_URL:-}" ]; then exec "$@"; fi

server="$(cd "$(dirname "$0")" && pwd)/postgres-server.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-postgres-XXXXXX")
child=""

tree() { # PID: it and its descendants, from /proc (procps may be missing)
  local stat line fields pid ppid list=" $1 " grew=1
  declare -A parent=()
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$stat" || continue  # gone meanwhile
    pid=${line%% *}; read -r -a fields <<<"${line##*) }"; parent[$pid]=${fields[1]}
  done
  while [ "$grew" = 1 ]; do
    grew=0
    for pid in "${!parent[@]}"; do
      ppid=${parent[$pid]}
      if [[ $list == *" $ppid "* && $list != *" $pid "* ]]; then list="$list$pid "; grew=1; fi
    done
  done
  echo "${list# }"
}

cleanup() {
  # A signal to this script alone (a CI timeout, kill PID) must not leave the
  # command, nor what it started, running against a server that is going away.
  local pids
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    pids=$(tree "$child")
    # shellcheck disable=SC2086  # a list of pids
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    # shellcheck disable=SC2086
    if kill -0 "$child" 2>/dev/null; then kill -KILL $pids 2>/dev/null || true; fi
  fi
  "$server" stop "$dir" || true
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

url=$("$server" start "$dir")
echo "with-postgres.sh: PostgreSQL for the tests at $url (folder $dir)" >&2
# shellcheck source=/dev/null
source "$dir/env"

# In the background so that a signal runs the traps at once (bash runs them
# only after a foreground command ends). Without job control bash would give
# the command SIGINT and SIGQUIT ignored and /dev/null for input: the subshell
# puts both signals back (Ctrl-C must still stop make and the tests), and the
# command keeps this script's input.
(
  trap - INT QUIT
  exec "$@"
) <&0 &
child=$!
status=0
wait "$child" || status=$?
child=""
exit "$status"
