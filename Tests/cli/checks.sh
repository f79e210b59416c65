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

tokens_file() { # dir id...: `sentinel token create` for each id: DIR/ID.token, and DIR/tokens.yaml listing them
  local dir=$1 id made; shift
  echo "tokens:" > "$dir/tokens.yaml"
  for id in "$@"; do
    made=$("$bin" token create "$id")
    sed -n 1p <<<"$made" > "$dir/$id.token"
    sed -n 2p <<<"$made" | sed 's/^/  /' >> "$dir/tokens.yaml"
  done
}

admin_url() { # seconds file: waits for `admin listening on URL` in the file (a server's output), prints the URL
  wait_for "$1" grep -qE "admin listening on https?://" "$2" || return 1
  grep -oE "admin listening on https?://[^ ]+" "$2" | head -1 | sed 's/^admin listening on //'
}
