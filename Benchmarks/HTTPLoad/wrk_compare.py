#!/usr/bin/env python3
"""A route behind PipelineMiddleware against the bare route, under wrk on loopback.

Starts one HTTPLoadServer (Benchmarks/HTTPLoad, release build) on 127.0.0.1, warms
both routes up, then runs wrk against /bare and /guarded in alternation, ROUNDS
rounds of SECONDS each, the order flipped every round (bare first in odd rounds,
guarded first in even ones) so that a drift of the machine's load falls on both
routes alike. wrk runs with --latency and fixed threads and connections. Prints
each run and a summary:

  - requests/s of each route (median, min-max over the rounds);
  - the throughput ratio guarded/bare: the median of the per-round ratios and
    their min-max (the goal of issue 22: at least 0.97);
  - p50 and p99 latency of each route (median, min-max);
  - the server's CPU time per request on each route (from /proc, utime + stime
    over the run divided by the requests wrk counted), which the two processes
    sharing the cores disturb less than throughput does.

Any non-2xx answer or socket error fails the run (exit 1): a refusal would make
the guarded route look cheaper than it is.

Usage:
  Benchmarks/HTTPLoad/wrk_compare.py [--server PATH] [--rounds 7] [--seconds 10]
      [--warmup 5] [--threads 1] [--connections 32] [--route /guarded] [--pin]
      [--json FILE]

Without --server it builds the server first (swift build -c release --product
HTTPLoadServer in Benchmarks/). Needs wrk (Debian: apt-get install -y wrk).
The server is stopped at the end, on an error and on Ctrl-C.
"""
import argparse
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

BENCHMARKS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def build_server():
    print("building HTTPLoadServer (release)...", flush=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "HTTPLoadServer"], cwd=BENCHMARKS, check=True)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=BENCHMARKS, check=True,
                              capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_path, "HTTPLoadServer")


def start_server(path, port, pin):
    command = ([shutil.which("taskset"), "-c", "0"] if pin else []) + [path, "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline and server.poll() is None:
        ready, _, _ = select.select([server.stdout], [], [], 0.5)
        if ready:
            line = server.stdout.readline()
            if line.startswith("ready "):
                return server, line.split()[1]
    stop_server(server)
    sys.exit(f"the server did not start (last line: {line.strip()!r})")


def stop_server(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def cpu_seconds(pid):
    """utime + stime of the process, in seconds (every thread's)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def microseconds(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unexpected wrk time {text!r}")
    return float(match.group(1)) * TIME_UNITS[match.group(2)]


def parse_wrk(output):
    def find(pattern):
        match = re.search(pattern, output, re.M)
        if not match:
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return match
    result = {
        "requests": int(find(r"^\s*(\d+) requests in ").group(1)),
        "rps": float(find(r"^Requests/sec:\s*([\d.]+)").group(1)),
        "p50_us": microseconds(find(r"^\s*50%\s+(\S+)").group(1)),
        "p99_us": microseconds(find(r"^\s*99%\s+(\S+)").group(1)),
        "non2xx": 0,
        "socket_errors": 0,
    }
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non2xx:
        result["non2xx"] = int(non2xx.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        result["socket_errors"] = sum(int(n) for n in errors.groups())
    return result


def run_wrk(args, url, seconds, server):
    command = ([shutil.which("taskset"), "-c", "1"] if args.pin else []) + [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency", url]
    cpu_before = cpu_seconds(server.pid)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu_after = cpu_seconds(server.pid)
    result = parse_wrk(output)
    result["server_cpu_us_per_request"] = (cpu_after - cpu_before) * 1e6 / max(1, result["requests"])
    return result


def check_routes(base, routes):
    for route in routes:
        with urllib.request.urlopen(base + route, timeout=5) as response:
            body = response.read()
            if response.status != 200 or body != b"ok\n":
                sys.exit(f"{route}: {response.status} {body!r}, expected 200 'ok\\n'")


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def text(summary, unit="", digits=0):
    def number(value):
        return f"{value:,.{digits}f}"
    return f"{number(summary['median'])}{unit} ({number(summary['min'])}-{number(summary['max'])})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", help="the HTTPLoadServer binary (default: build it in release)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=10, help="each measured wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk on each route before the rounds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--route", default="/guarded", help="the route compared with /bare (/guarded or /guarded-fields)")
    parser.add_argument("--port", type=int, default=0, help="the server's port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, wrk on CPU 1 (taskset)")
    parser.add_argument("--json", help="write the runs and the summary to this file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    if args.pin and not shutil.which("taskset"):
        sys.exit("--pin needs taskset (util-linux)")
    if args.rounds < 1 or args.seconds < 1:
        sys.exit("--rounds and --seconds must be at least 1")

    path = args.server or build_server()
    # SIGTERM (and SIGHUP) end the script as Ctrl-C does, through the `finally` that stops the server.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: sys.exit(130))
    server, base = start_server(path, args.port, args.pin)
    routes = {"bare": "/bare", "guarded": args.route}
    runs = []
    load_before = os.getloadavg()
    try:
        check_routes(base, routes.values())
        print(f"server {base} (pid {server.pid}); wrk -t{args.threads} -c{args.connections} --latency, "
              f"{args.rounds} rounds of {args.seconds} s, warm-up {args.warmup} s per route"
              f"{', pinned: server CPU 0, wrk CPU 1' if args.pin else ''}")
        print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
        if args.warmup > 0:
            for route in routes.values():
                run_wrk(args, base + route, args.warmup, server)
        print(f"{'round':>5} {'route':<8} {'req/s':>10} {'p50':>9} {'p99':>9} {'CPU/req':>9}  load")
        failed = False
        for round_number in range(1, args.rounds + 1):
            order = ["bare", "guarded"] if round_number % 2 else ["guarded", "bare"]
            results = {}
            for name in order:
                result = run_wrk(args, base + routes[name], args.seconds, server)
                result.update(round=round_number, route=name, path=routes[name], load=os.getloadavg()[0])
                results[name] = result
                runs.append(result)
                flag = ""
                if result["non2xx"] or result["socket_errors"]:
                    failed = True
                    flag = f"  FAILED: {result['non2xx']} non-2xx, {result['socket_errors']} socket errors"
                print(f"{round_number:>5} {name:<8} {result['rps']:>10,.0f} {result['p50_us']:>7.0f}us "
                      f"{result['p99_us']:>7.0f}us {result['server_cpu_us_per_request']:>7.2f}us  "
                      f"{result['load']:.2f}{flag}", flush=True)
            ratio = results["guarded"]["rps"] / results["bare"]["rps"]
            results["guarded"]["ratio"] = ratio
            print(f"{round_number:>5} ratio guarded/bare {ratio:.3f}", flush=True)
    finally:
        stop_server(server)
    load_after = os.getloadavg()

    def of(name, key):
        return [run[key] for run in runs if run["route"] == name]
    summary = {
        "ratio": spread([run["ratio"] for run in runs if "ratio" in run]),
        "load_before": load_before, "load_after": load_after,
    }
    for name in routes:
        summary[name] = {key: spread(of(name, key)) for key in ("rps", "p50_us", "p99_us", "server_cpu_us_per_request")}
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"\nsummary over {args.rounds} rounds: median (min-max)")
    for name in routes:
        figures = summary[name]
        print(f"  {name:<8} ({routes[name]}): {text(figures['rps'])} req/s, p50 {text(figures['p50_us'], ' us')}, "
              f"p99 {text(figures['p99_us'], ' us')}, server CPU {text(figures['server_cpu_us_per_request'], ' us', 2)}"
              " per request")
    print(f"  throughput ratio guarded/bare: {text(summary['ratio'], digits=3)} (goal: at least 0.97)")
    added = statistics.median(of("guarded", "server_cpu_us_per_request")) - statistics.median(
        of("bare", "server_cpu_us_per_request"))
    print(f"  server CPU added per request (difference of the medians): {added:+.2f} us")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        setup = {key: getattr(args, key) for key in ("rounds", "seconds", "warmup", "threads", "connections", "route", "pin")}
        with open(args.json, "w") as out:
            json.dump({"setup": setup, "runs": runs, "summary": summary}, out, indent=2)
        print(f"results: {args.json}")
    if failed:
        sys.exit("some runs had non-2xx answers or socket errors")


if __name__ == "__main__":
    main()
