#!/usr/bin/env python3
"""What one open dashboard costs the server at idle (docs/performance.md).

Usage: Benchmarks/DashboardIdle/dashboard_idle.py PATH_TO_SENTINEL [--seconds N] [--pages N]

Starts the dashboard fixture (Tests/browser/fixtures/dashboard) on loopback,
opens N pages in headless Chromium (one tab each, signed in), and counts
the admin server's requests over the measured seconds from its own counter,
`sentinel_admin_requests_total` (the harness's two reads of /metrics are
taken out), plus the process's CPU time. The pages stay visible: a hidden
tab stops polling and costs only its event stream.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "browser"))
import browser  # noqa: E402
import live_sentinel  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sentinel")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=10)
    options = parser.parse_args()
    browser.require_tools()
    from selenium.webdriver.common.by import By

    with live_sentinel.LiveSentinel(options.sentinel) as live, browser.chromium() as driver:
        # Without pages: the workload and scripts alone, for the baseline of CPU.
        time.sleep(options.warmup)
        cpu_before = cpu_seconds(live.process.pid)
        time.sleep(options.seconds)
        baseline_cpu = cpu_seconds(live.process.pid) - cpu_before

        for page in range(options.pages):
            if page:
                # A window of its own: a background tab would be hidden and stop polling.
                driver.switch_to.new_window("window")
            driver.get(live.url + "/")
            driver.find_element(By.ID, "token").send_keys(live.alice + "\n")
            browser.wait_for(driver, lambda d: d.execute_script(
                "return document.getElementById('connection').dataset.state === 'live'"), what="a live page")
        time.sleep(options.warmup)
        requests_before = live.metric("sentinel_admin_requests_total")
        cpu_before = cpu_seconds(live.process.pid)
        time.sleep(options.seconds)
        cpu = cpu_seconds(live.process.pid) - cpu_before
        requests = live.metric("sentinel_admin_requests_total") - requests_before - 1
        print(f"{options.pages} page(s) open for {options.seconds} s: {requests:.0f} requests, "
              f"{requests / options.seconds:.2f} requests/s; "
              f"server CPU {cpu:.2f} s with the page(s), {baseline_cpu:.2f} s without "
              f"({(cpu - baseline_cpu) / options.seconds * 100:.2f} % of a core for the page(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
