#!/usr/bin/env bash
# The PostgreSQL server the tests are given (make test starts one through
# Tests/fleet/with-postgres.sh, or a developer's own): reachable at
# SENTINEL_TEST_POSTGRES_URL with PGPASSWORD, the role no superuser (the tests
# must not pass on privileges production will not have), room for 300
# connections. Without a server it skips, except under CI=true, where the
# fleet tests would otherwise skip unnoticed.
# Usage: Tests/fleet/postgres-server-check.sh      (from the repository's root)
set -u
failures=0; passed=0

# shellcheck source=SCRIPTDIR/../cli/checks.sh
source "$(dirname "$0")/../cli/checks.sh"

if [ -z "${SENTINEL_TEST_POSTGRES_URL:-}" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL SENTINEL_TEST_POSTGRES_URL is unset under CI=true: the fleet tests need PostgreSQL."
    echo "    make test starts a server (Tests/fleet/with-postgres.sh); see docs/testing.md"
    exit 1
  fi
  echo "skip SENTINEL_TEST_POSTGRES_URL is unset: no PostgreSQL checks (make test starts a server)"
  exit 0
fi
# psql from Debian's postgresql-client; else next to the server binaries.
psql=$(command -v psql || echo "$("$(dirname "$0")/postgres-server.sh" bindir 2>/dev/null)/psql")

query() { # SQL: one value; -w: no password prompt when PGPASSWORD is missing, a failure instead
  PGCONNECT_TIMEOUT=5 timeout 20 "$psql" "$SENTINEL_TEST_POSTGRES_URL" -X -w -A -t -q -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

out=$(query 'select 1'); expect "psql connects to \$SENTINEL_TEST_POSTGRES_URL with \$PGPASSWORD" 0 $? "$out" '^1$'
out=$(query 'select rolsuper from pg_roles where rolname = current_user'); expect "the role is not a superuser" 0 $? "$out" '^f$'
out=$(query "select has_schema_privilege('public', 'CREATE')"); expect "the role may create tables in its database" 0 $? "$out" '^t$'
out=$(query 'show max_connections'); code=$?
expect "SHOW max_connections answers" 0 $code "$out" '^[0-9]+$'
if [ $code = 0 ] && [[ $out =~ ^[0-9]+$ ]]; then
  expect "max_connections is at least 300 (it is $out)" 0 "$([ "$out" -ge 300 ] && echo 0 || echo 1)" "$out"
fi

if [ $failures -gt 0 ]; then echo "$failures PostgreSQL server checks failed ($passed passed)"; exit 1; fi
echo "all PostgreSQL server checks passed ($passed)"
