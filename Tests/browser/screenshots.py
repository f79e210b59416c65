#!/usr/bin/env python3
"""Refreshes the screenshots in docs/images: the live dashboard and a simulation report.

Usage: Tests/browser/screenshots.py PATH_TO_SENTINEL   (from the repository's root; `make screenshots`)

The dashboard: the browser test's fixture (fixtures/dashboard) after about
40 seconds, so that the sparklines have points, the ramp has made its steps
and the trial is running. The report: the canary recipe whose canary fails
(examples/recipes/canary/errors.yaml). Both at 1280 px wide.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
import live_sentinel  # noqa: E402

IMAGES = "docs/images"
SETTLE_SECONDS = 40


def full_page(driver, path, width=1280, height=None):
    """A screenshot of the whole page (or its top `height` pixels) at `width`."""
    total = height or driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, total + 120)  # the window's frame is not part of the page
    time.sleep(0.5)
    driver.save_screenshot(path)
    print(f"wrote {path}")


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    browser.require_tools()
    sentinel = os.path.abspath(sys.argv[1])
    os.makedirs(IMAGES, exist_ok=True)
    from selenium.webdriver.common.by import By

    with browser.chromium() as driver:
        with live_sentinel.LiveSentinel(sentinel, instance="checkout-1") as live:
            driver.get(live.url + "/")
            driver.find_element(By.ID, "token").send_keys(live.alice + "\n")
            print(f"waiting {SETTLE_SECONDS} s for the page to fill", flush=True)
            time.sleep(SETTLE_SECONDS)
            full_page(driver, os.path.join(IMAGES, "dashboard.png"), height=1500)

        with tempfile.TemporaryDirectory(prefix="sentinel-screenshots-") as folder:
            report = os.path.join(folder, "canary-errors.html")
            subprocess.run([sentinel, "simulate", "examples/recipes/canary/errors.yaml", "--report", report],
                           check=True, capture_output=True, timeout=120)
            driver.get("file://" + report)
            browser.wait_for(driver, lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))
            full_page(driver, os.path.join(IMAGES, "report.png"), height=1500)
    return 0


if __name__ == "__main__":
    sys.exit(main())
