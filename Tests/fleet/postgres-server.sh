#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests, in a folder the caller made
# (mktemp -d); Tests/fleet/with-postgres.sh runs a command under one.
# Usage: Tests/fleet/postgres-server.sh COMMAND DIR
#   start DIR        a fresh cluster in DIR/data on a free loopback port, a role
#                    and database `sentinel`; writes DIR/env (source it), prints the URL
#   stop DIR         fast shutdown, then removes DIR; never fails, also when already stopped
#   restart DIR      fast restart on the same port and data
#   stop-only DIR    fast shutdown, keeps DIR (start-again brings it back)
#   start-again DIR  starts DIR's cluster again on its port
#   bindir           prints the folder of the server binaries, fails when there are none
# PostgreSQL refuses to run as root: as root, DIR is handed to the `postgres`
# user and the server runs as it. Loopback only; every wait is bounded.
set -euo pipefail

self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
role=sentinel password=sentinel-test database=sentinel
ready_seconds=30
port_attempts=5
# Marks a folder as ours: `stop` removes only such folders (or empty ones).
marker=.sentinel-test-postgres
# The caller's libpq settings must not redirect the commands below.
unset PGDATA PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGOPTIONS PGSERVICE PGSERVICEFILE PGPASSFILE

die() { echo "postgres-server.sh: $*" >&2; exit 1; }

has_server() { [ -n "$1" ] && [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]; }

find_bindir() { # pg_config's, else the newest Debian install, else PATH's
  local dir newest=""
  # Debian's pg_config comes with libpq-dev too: its folder may hold no server.
  dir=$(pg_config --bindir 2>/dev/null) || dir=""
  if has_server "$dir"; then echo "$dir"; return 0; fi
  for dir in /usr/lib/postgresql/*/bin; do
    if has_server "$dir"; then newest=$(printf '%s\n%s\n' "$newest" "$dir" | sed '/^$/d' | sort -V | tail -1); fi
  done
  if [ -n "$newest" ]; then echo "$newest"; return 0; fi
  dir=$(command -v initdb 2>/dev/null) || return 1
  dir=$(dirname "$dir")
  has_server "$dir" || return 1
  echo "$dir"
}

tool() { # the client tool NAME next to the server binaries, else PATH's
  if [ -x "$bin/$1" ]; then echo "$bin/$1"; else echo "$1"; fi
}

as_owner() { # runs a command as the user the server runs as
  if [ "$(id -u)" != 0 ]; then "$@"
  elif command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"
  else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  fi
}

free_port() { # a port nothing listens on now; start retries if it is taken before the server binds it
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log_tail() { # DIR: the server's log, for a failure's message
  if [ -f "$1/postgres.log" ]; then echo "  last lines of $1/postgres.log:" >&2; tail -n 30 "$1/postgres.log" | sed 's/^/    /' >&2; fi
}

port_of() { # DIR
  [ -f "$1/port" ] || die "$1 holds no server of ours (no $1/port): was it made by \`$self start\`?"
  cat "$1/port"
}

is_running() { # DIR: pg_ctl status exits 0 while the postmaster runs
  [ -f "$1/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

wait_ready() { # DIR PORT DEADLINE: until the server accepts connections on 127.0.0.1:PORT
  local isready; isready=$(tool pg_isready)
  until "$isready" -q -h 127.0.0.1 -p "$2" -t 2; do
    if [ "$SECONDS" -ge "$3" ]; then
      echo "postgres-server.sh: the server in $1 did not accept connections on 127.0.0.1:$2 within $ready_seconds s" >&2
      log_tail "$1"; return 1
    fi
    sleep 0.2
  done
}

pg_start() { # DIR: pg_ctl start, waiting at most ready_seconds
  as_owner "$bin/pg_ctl" start -D "$1/data" -l "$1/postgres.log" -w -t "$ready_seconds" >>"$1/pg_ctl.log" 2>&1
}

halt() { # DIR: fast shutdown within the bound, else immediate, else SIGKILL of our postmaster
  local dir=$1 pid
  [ -f "$dir/data/postmaster.pid" ] || return 0
  if [ -n "$bin" ]; then
    is_running "$dir" || return 0
    as_owner "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -t "$ready_seconds" >>"$dir/pg_ctl.log" 2>&1 && return 0
    as_owner "$bin/pg_ctl" stop -D "$dir/data" -m immediate -w -t 10 >>"$dir/pg_ctl.log" 2>&1 && return 0
  fi
  pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
  # Only a postmaster of this data folder: the pid file may be stale and the pid reused.
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/data"; then
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    return 1
  fi
  return 0
}

start() {
  local dir=$1 port="" attempt deadline hba
  [ -d "$dir" ] || die "$dir is not a folder: make a fresh one (mktemp -d) and pass it"
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty: start wants a fresh folder"
  # DIR goes into postgresql.conf between single quotes.
  case $dir in *"'"* | *\\*) die "$dir: a folder without quotes or backslashes, please" ;; esac
  touch "$dir/$marker"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian's postgresql package makes it)"
    chown -R postgres: "$dir"
    as_owner test -w "$dir" 2>/dev/null \
      || die "the postgres user cannot write $dir (a parent folder closed to it?): make DIR under /tmp"
  fi
  cd "$dir"  # the server's tools as postgres must not start in a folder closed to it

  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
    echo "postgres-server.sh: initdb failed:" >&2; sed 's/^/    /' "$dir/initdb.log" >&2; exit 1
  fi
  # The superuser over the folder's socket only (to make the role), the tests'
  # role over loopback TCP with its password.
  hba="$dir/data/pg_hba.conf"
  {
    echo "# Written by Tests/fleet/postgres-server.sh"
    echo "local all postgres trust"
    echo "host all all 127.0.0.1/32 scram-sha-256"
  } >"$hba"
  # Our settings in a file of their own, included last, rewritten for each port tried.
  echo "include = 'sentinel-test.conf'" >>"$dir/data/postgresql.conf"

  for attempt in $(seq 1 "$port_attempts"); do
    port=$(free_port)
    cat >"$dir/data/sentinel-test.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 32MB
fsync = off
password_encryption = 'scram-sha-256'
CONF
    [ "$(id -u)" != 0 ] || chown postgres: "$dir/data/sentinel-test.conf"
    deadline=$((SECONDS + ready_seconds))
    # Each try's own messages: the retry below reads the log.
    : >"$dir/pg_ctl.log"
    [ ! -f "$dir/postgres.log" ] || : >"$dir/postgres.log"  # (made by the server, as its owner)
    if pg_start "$dir"; then break; fi
    halt "$dir" || true
    # Another process took the port between free_port and the bind: try another.
    if [ "$attempt" -lt "$port_attempts" ] && grep -q 'could not bind\|Address already in use' "$dir/postgres.log" 2>/dev/null; then
      continue
    fi
    echo "postgres-server.sh: the server in $dir did not start (port $port, try $attempt of $port_attempts):" >&2
    sed 's/^/    /' "$dir/pg_ctl.log" >&2; log_tail "$dir"; exit 1
  done
  echo "$port" >"$dir/port"
  wait_ready "$dir" "$port" "$deadline" || { halt "$dir" || true; exit 1; }

  if ! PGCONNECT_TIMEOUT=10 timeout 30 "$(tool psql)" -X -q -w -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE $role LOGIN PASSWORD '$password' NOSUPERUSER NOCREATEDB NOCREATEROLE" \
    -c "CREATE DATABASE $database OWNER $role" >"$dir/setup.log" 2>&1; then
    echo "postgres-server.sh: could not create the role and database:" >&2; sed 's/^/    /' "$dir/setup.log" >&2
    halt "$dir" || true; exit 1
  fi

  local url="postgres://$role@127.0.0.1:$port/$database"
  {
    printf 'export SENTINEL_TEST_POSTGRES_URL=%q\n' "$url"
    printf 'export PGPASSWORD=%q\n' "$password"
    printf 'export SENTINEL_TEST_POSTGRES_PASSWORD=%q\n' "$password"
    printf 'export SENTINEL_TEST_POSTGRES_DATA=%q\n' "$dir/data"
    printf 'export SENTINEL_TEST_POSTGRES_DIR=%q\n' "$dir"
    printf 'export SENTINEL_TEST_POSTGRES_CTL=%q\n' "$self"
  } >"$dir/env"
  echo "$url"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  cd /
  halt "$dir" || echo "postgres-server.sh: could not stop the server in $dir" >&2
  # Never a folder that is not ours: a wrong argument must not remove someone's files.
  if [ -e "$dir/$marker" ] || [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
    rm -rf "$dir" || echo "postgres-server.sh: could not remove $dir" >&2
  else
    echo "postgres-server.sh: $dir is not a folder of ours (no $marker): left in place" >&2
  fi
  return 0
}

restart() {
  local dir=$1 port deadline
  port=$(port_of "$dir"); cd "$dir"
  deadline=$((SECONDS + ready_seconds))
  if ! as_owner "$bin/pg_ctl" restart -D "$dir/data" -l "$dir/postgres.log" -m fast -w -t "$ready_seconds" >>"$dir/pg_ctl.log" 2>&1; then
    echo "postgres-server.sh: the server in $dir did not restart within $ready_seconds s" >&2; log_tail "$dir"; exit 1
  fi
  wait_ready "$dir" "$port" "$deadline"
}

stop_only() {
  local dir=$1
  port_of "$dir" >/dev/null; cd "$dir"
  halt "$dir" || { echo "postgres-server.sh: the server in $dir did not stop" >&2; log_tail "$dir"; exit 1; }
}

start_again() {
  local dir=$1 port deadline
  port=$(port_of "$dir"); cd "$dir"
  deadline=$((SECONDS + ready_seconds))
  if ! is_running "$dir" && ! pg_start "$dir"; then
    echo "postgres-server.sh: the server in $dir did not start again on port $port (taken meanwhile?)" >&2; log_tail "$dir"; exit 1
  fi
  wait_ready "$dir" "$port" "$deadline"
}

usage="usage: $0 start|stop|restart|stop-only|start-again DIR, or $0 bindir"
command=${1:-}
if [ "$command" = bindir ]; then find_bindir || exit 1; exit 0; fi
[ $# -eq 2 ] || die "$usage"
# Absolute: DIR goes into the env file and the server's settings.
case $2 in /*) dir=$2 ;; *) dir="$(pwd)/$2" ;; esac
dir=${dir%/}
if ! bin=$(find_bindir); then
  bin=""  # stop still removes DIR, and kills a postmaster of it left running
  [ "$command" = stop ] || die "no PostgreSQL server binaries (initdb, pg_ctl, postgres): apt-get install postgresql (make postgres-tools)"
fi
case $command in
  start) start "$dir" ;;
  stop) stop "$dir" ;;
  restart) restart "$dir" ;;
  stop-only) stop_only "$dir" ;;
  start-again) start_again "$dir" ;;
  *) die "$usage" ;;
esac
