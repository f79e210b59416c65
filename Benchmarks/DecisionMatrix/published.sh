#!/bin/bash
# The decision matrix as published in docs/decisions.md ("Evaluation"): the
# canary recipe over 300 seeds per class at 10 and 100 req/s, 100 at 1,000
# and 10 at 10,000 (shorter runs there: decisions come within minutes; a run
# of 20 minutes at 10,000 req/s takes about 20 s), the
# Flagger-default analysis over fewer (its medians are what is compared).
# Usage: published.sh PATH_TO_SENTINEL OUTPUT_FOLDER [JOBS] [SCALE_PERCENT]
# SCALE_PERCENT scales every seed count (10: a tenth, for a quick look).
set -euo pipefail
sentinel=$1 out=$2 jobs=${3:-2} scale=${4:-100}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
seeds() { echo $(( ($1 * scale + 99) / 100 )); }
run() { # name rule seeds rates minutes [classes]
  local name=$1 rule=$2 n=$3 rates=$4 minutes=$5 classes=${6:-}
  echo "$(date -u +%H:%M:%S) $name: $rule, $(seeds "$n") seeds at $rates req/s, $minutes-minute runs" >&2
  python3 "$here/matrix.py" "$sentinel" --rules "$rule" --seeds "$(seeds "$n")" --rates "$rates" --minutes "$minutes" \
    --jobs "$jobs" ${classes:+--classes "$classes"} --json "$out/$name.json" > /dev/null
}
run canary-low canary 300 10,100 45
run flagger-low flagger 100 10,100 45
run canary-1k canary 100 1000 25
run flagger-1k flagger 30 1000 25
run canary-10k canary 10 10000 20
run flagger-10k flagger 5 10000 20 healthy,errors+2,errors+5,p99x3,late-errors+2,noisy-healthy
python3 "$here/matrix.py" "$sentinel" --results "$out"/*.json
