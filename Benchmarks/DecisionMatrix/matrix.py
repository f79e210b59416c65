#!/usr/bin/env python3
"""The decision matrix: how canary rules decide across traffic levels and regressions.

Usage: Benchmarks/DecisionMatrix/matrix.py PATH_TO_SENTINEL [--seeds N] [--rates 10,100]
           [--classes healthy,errors+2,...] [--rules canary,flagger] [--jobs 2] [--minutes 45]
           [--instances N]

For every rule, class, traffic level and seed it writes a scenario (a
`checkout` pipeline whose split has `stable` and `canary`, stable at 0.5 %
errors and a log-normal latency of p50 40 ms / p99 200 ms unless the class
says otherwise, the canary as the class says: CLASSES below), runs
`sentinel simulate --json` with the rule alone in a policies folder, and
reads what happened to `checkout.split.canary_weight`:

- promoted: it reached 100; rolled back: it went back to 0 after being above
  it; undecided: neither within the run;
- time to the decision (minutes);
- exposure: canary calls served before the decision (from the 10 s `stats`
  events, so to within 10 s);
- excess failures: canary failures before the decision beyond what stable's
  rate over the same time would have given.

With `--instances N` the service is a simulated fleet of N instances that
share the rate (the scenario's `fleet`): the leader judges on the calls
merged from every instance's 10 s slices.

It prints one row per rule, class and rate, with 95 % Wilson intervals on
the shares, then, per regressed class and rate, the canary recipe's median
time to rollback and median exposure against the Flagger-default
analysis's, and for a regression that starts late the same timed from when
it began (time and canary calls after it). Rules: `canary`
(examples/recipes/canary/canary.lua, as shipped) and `flagger` (flagger_canary.lua, a Flagger-default analysis). `--json`
keeps every run's result; `--results` prints the tables of saved results.
Not part of `make test`: `make decision-matrix` runs the published plan
(published.sh) with a release build.
"""
import argparse
import concurrent.futures
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RULES = {
    "canary": os.path.join(ROOT, "examples", "recipes", "canary", "canary.lua"),
    "flagger": os.path.join(HERE, "flagger_canary.lua"),
}
BASE_ERRORS = 0.005
LOGNORMAL = "{ distribution: lognormal, p50: 40ms, p99: 200ms }"
# A noisy service: 3 % of its calls take the slow path (a cache miss, a cold shard).
BIMODAL = ("{ distribution: bimodal, fast: { distribution: lognormal, p50: 40ms, p99: 200ms }, "
           "slow: { distribution: lognormal, p50: 600ms, p99: 1500ms }, slow_fraction: 0.03 }")
DIURNAL = "pattern: diurnal, period: 1h, amplitude: 0.8"
LATE = 300  # seconds: when a late regression starts


def canary_class(stable_errors=BASE_ERRORS, extra_errors=0.0, canary_p99=200, latency=LOGNORMAL,
                 traffic="", late=False):
    """A class of canary: the backends, the traffic shape and, for a late
    regression, the event that makes the canary worse at LATE seconds."""
    canary_latency = latency if canary_p99 == 200 else f"{{ distribution: lognormal, p50: 40ms, p99: {canary_p99}ms }}"
    return {
        "stable": f"{{ latency: {latency}, error_rate: {stable_errors} }}",
        "canary": f"{{ latency: {canary_latency}, error_rate: {stable_errors + (0 if late else extra_errors)} }}",
        "traffic": traffic,
        "events": (f"events:\n  - at: {LATE}s\n    backend: checkout.canary\n"
                   f"    set: {{ error_rate: {stable_errors + extra_errors} }}\n") if late else "",
        "regressed": extra_errors >= 0.02 or canary_p99 >= 600,
        "onset": LATE if late else None,
    }


# Every run: a `checkout` pipeline split stable / canary, stable at 0.5 % errors and
# p50 40 ms / p99 200 ms unless the class says otherwise.
CLASSES = {
    "healthy": canary_class(),
    "errors+1": canary_class(extra_errors=0.01),
    "errors+2": canary_class(extra_errors=0.02),
    "errors+5": canary_class(extra_errors=0.05),
    "p99x1.3": canary_class(canary_p99=260),
    "p99x3": canary_class(canary_p99=600),
    "late-errors+2": canary_class(extra_errors=0.02, late=True),
    "noisy-healthy": canary_class(stable_errors=0.02, latency=BIMODAL),
    "diurnal-healthy": canary_class(traffic=DIURNAL),
    "diurnal-errors+2": canary_class(extra_errors=0.02, traffic=DIURNAL),
}
CANARY = "checkout.split.canary_weight"
RUN_TIMEOUT = 1800  # seconds for one simulation


def scenario(cls, rate, seed, minutes, instances=None):
    spec = CLASSES[cls]
    traffic = f"{{ rate: {rate}{', ' + spec['traffic'] if spec['traffic'] else ''} }}"
    fleet = f"fleet:\n  instances: {instances}\n" if instances else ""
    return f"""name: matrix-{cls}-{rate}-{seed}
duration: {minutes}m
seed: {seed}
sample: 10s
{fleet}pipelines:
  checkout:
    policies:
      - timeout: {{ duration: 2s }}
      - split: {{ stable: 100, canary: 0 }}
    backends:
      stable: {spec['stable']}
      canary: {spec['canary']}
    traffic: {traffic}
{spec['events']}"""


def run_one(sentinel, rule, cls, rate, seed, minutes, folder, instances=None):
    policies = os.path.join(folder, f"{rule}-{cls}-{rate}-{seed}")
    os.makedirs(policies)
    shutil.copy(RULES[rule], policies)
    path = os.path.join(policies, "scenario.yaml")
    with open(path, "w") as f:
        f.write(scenario(cls, rate, seed, minutes, instances))
    done = subprocess.run([sentinel, "simulate", path, "--json", "--policies", policies],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{rule} {cls} {rate} {seed}: exit {done.returncode}: {done.stderr[-2000:]}")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    decision, at, raised = None, None, False
    for event in events:
        if event["type"] != "command" or event.get("target") != CANARY or event.get("outcome") != "applied":
            continue
        to = event.get("to")
        if to == 100:
            decision, at = "promoted", event["t"]
            break
        if to == 0 and raised:
            decision, at = "rolled back", event["t"]
            break
        if to and to > 0:
            raised = True
    end = at if at is not None else minutes * 60
    canary_calls = canary_failures = stable_calls = stable_failures = 0
    for event in events:
        if event["type"] != "stats" or event["t"] > end + 1e-9:
            continue
        if event.get("variant") == "canary":
            canary_calls += event["calls"]
            canary_failures += event["failures"]
        elif event.get("variant") == "stable":
            stable_calls += event["calls"]
            stable_failures += event["failures"]
    stable_rate = stable_failures / stable_calls if stable_calls else 0
    result = {
        "decision": decision or "undecided", "minutes": at / 60 if at is not None else None,
        "exposure": canary_calls, "excess": canary_failures - canary_calls * stable_rate,
    }
    onset = CLASSES[cls]["onset"]
    if onset is not None:
        # A late regression: the canary calls served after it began (the 10 s samples that end after it).
        result["exposure_after_onset"] = sum(e["calls"] for e in events if e["type"] == "stats"
                                             and e.get("variant") == "canary" and onset < e["t"] <= end + 1e-9)
    return result


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rows_of(results, rule, cls, rate):
    return [v for (r, c, q, _), v in results.items() if (r, c, q) == (rule, cls, rate)]


def comparison_row(cls, rate, canary, flagger):
    """A row of canary against flagger: each (median minutes to rollback, median calls), either may be None."""
    (ct, ce), (ft, fe) = canary, flagger
    show = lambda v, form: format(v, form) if v is not None else "–"
    ratio = lambda a, b: f"{a / b:.2f}" if a is not None and b else "–"
    return (f"| {cls} | {rate} | {show(ct, '.1f')} / {show(ft, '.1f')} | {ratio(ct, ft)} "
            f"| {show(ce, '.0f')} / {show(fe, '.0f')} | {ratio(ce, fe)} |")


def print_tables(results, rules, classes, rates, options):
    print("Shares with 95 % Wilson intervals; n seeds per row as the shares say")
    print("| rule | class | req/s | promoted | rolled back | undecided | decision min (median / p90) "
          "| exposure calls (median) | excess failures (median) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rule in rules:
        for cls in classes:
            for rate in rates:
                rows = rows_of(results, rule, cls, rate)
                n = len(rows)
                if n == 0:
                    continue

                def share(kind):
                    k = sum(1 for r in rows if r["decision"] == kind)
                    low, high = wilson(k, n)
                    return f"{k}/{n} ({100 * low:.1f}–{100 * high:.1f} %)"

                times = [r["minutes"] for r in rows if r["minutes"] is not None]
                median = f"{statistics.median(times):.1f} / {percentile(times, 0.9):.1f}" if times else "–"
                exposure = statistics.median(r["exposure"] for r in rows)
                excess = statistics.median(r["excess"] for r in rows)
                print(f"| {rule} | {cls} | {rate} | {share('promoted')} | {share('rolled back')} | {share('undecided')} "
                      f"| {median} | {exposure:.0f} | {excess:.1f} |")
    if "canary" not in rules or "flagger" not in rules:
        return
    # The goal: on regressions, the canary recipe's median time to rollback and
    # median exposure at most a third of the Flagger-default analysis's.
    print()
    print("| class | req/s | rollback min, canary / flagger (median) | ratio | exposure, canary / flagger (median) | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for cls in classes:
        if not CLASSES[cls]["regressed"]:
            continue
        for rate in rates:
            figures = []
            for rule in ("canary", "flagger"):
                rows = rows_of(results, rule, cls, rate) or [{"decision": None, "minutes": None, "exposure": 0}]
                times = [r["minutes"] for r in rows if r["decision"] == "rolled back"]
                figures.append((statistics.median(times) if times else None,
                                statistics.median(r["exposure"] for r in rows)))
            print(comparison_row(cls, rate, *figures))
    late = [cls for cls in classes if CLASSES[cls]["regressed"] and CLASSES[cls]["onset"] is not None]
    if not late:
        return
    # A late regression timed from when it began: the time and calls before it
    # measure how far the release had got, not how fast the regression was caught.
    print()
    print("| class | req/s | rollback min after it began, canary / flagger (median) | ratio "
          "| canary calls after it began, canary / flagger (median) | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for cls in late:
        onset = CLASSES[cls]["onset"] / 60
        for rate in rates:
            figures = []
            for rule in ("canary", "flagger"):
                # Runs decided before the regression began (a false rollback, an early promotion) are left out.
                rows = [r for r in rows_of(results, rule, cls, rate) if "exposure_after_onset" in r
                        and (r["minutes"] is None or r["minutes"] > onset)]
                times = [r["minutes"] - onset for r in rows if r["decision"] == "rolled back"]
                figures.append((statistics.median(times) if times else None,
                                statistics.median(r["exposure_after_onset"] for r in rows) if rows else None))
            print(comparison_row(cls, rate, *figures))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sentinel")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rates", default="10,100")
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--rules", default="canary,flagger")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--minutes", type=int, default=45)
    parser.add_argument("--instances", type=int, help="run each scenario as a fleet of this many instances")
    parser.add_argument("--json", help="also write every run's result to this file")
    parser.add_argument("--results", nargs="+", metavar="FILE",
                        help="run nothing: print the tables of results written earlier with --json")
    options = parser.parse_args()
    if options.results:
        results = {}
        for path in options.results:
            with open(path) as f:
                for row in json.load(f):
                    results[(row["rule"], row["class"], row["rate"], row["seed"])] = row
        present = lambda index: sorted({key[index] for key in results}, key=lambda v: (str(type(v)), v))
        rules = [r for r in RULES if r in present(0)]
        classes = [c for c in CLASSES if c in present(1)]
        print_tables(results, rules, classes, present(2), options)
        return 0
    sentinel = os.path.abspath(options.sentinel)
    rates = [int(r) for r in options.rates.split(",")]
    classes = options.classes.split(",")
    rules = options.rules.split(",")
    for name in classes:
        if name not in CLASSES:
            parser.error(f"unknown class {name} (known: {', '.join(CLASSES)})")
    for name in rules:
        if name not in RULES:
            parser.error(f"unknown rule {name} (known: {', '.join(RULES)})")
    folder = tempfile.mkdtemp(prefix="sentinel-matrix-")
    try:
        jobs = [(rule, cls, rate, seed) for rule in rules for cls in classes for rate in rates
                for seed in range(1, options.seeds + 1)]
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
            futures = {pool.submit(run_one, sentinel, *job, options.minutes, folder, options.instances): job for job in jobs}
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if options.json:
        with open(options.json, "w") as f:
            json.dump([{"rule": r, "class": c, "rate": q, "seed": d, **v} for (r, c, q, d), v in sorted(results.items())],
                      f, indent=1)
    print_tables(results, rules, classes, rates, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
