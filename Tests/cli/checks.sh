# Shared by the end-to-end scripts (source it): checks that count into
# `failures` and `passed`, and bounded polling.

expect() { # name expected_exit actual_exit [output] [pattern]
  local name=$1 expected=$2 actual=$3 output=${4:-} pattern=${5:-}
  if [ "$actual" != "$expected" ]; then
    echo "FAIL $name: exit $actual, expected $expected"; echo "$output" | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$output"; then
    echo "FAIL $name: output does not match /$pattern/"; echo "$output" | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  passed=$((passed + 1))
  echo "ok   $name"
}

refute() { # name output pattern: the output must NOT match
  local name=$1 output=$2 pattern=$3
  if grep -qE -- "$pattern" <<<"$output"; then
    echo "FAIL $name: output matches /$pattern/"; echo "$output" | sed 's/^/    /'; failures=$((failures + 1)); return
  fi
  passed=$((passed + 1))
  echo "ok   $name"
}

wait_for() { # seconds command...: polls every 0.1 s until the command succeeds
  local tenths=$(($1 * 10)); shift
  for _ in $(seq 1 "$tenths"); do "$@" && return 0; sleep 0.1; done
  return 1
}
