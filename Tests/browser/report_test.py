#!/usr/bin/env python3
"""The simulation report in a real browser (headless Chromium).

Usage: Tests/browser/report_test.py PATH_TO_SENTINEL   (from the repository's root)

Writes the report of a recipe scenario and of a fixture whose script writes
markup into its reasons, opens each from file://, and checks: no console
errors (a refused inline script or style would be one), the charts and the
decision marks are there, the page's script runs (hover readout), a mark
leads to its decision, and `<script>` in a reason shows as text. Missing
Chromium, chromedriver or Selenium fails under CI=true and skips elsewhere.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # `make test` writes nothing into the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = "examples/recipes/canary/errors.yaml"
HOSTILE = os.path.join(HERE, "fixtures", "hostile-report", "hostile.yaml")
SIMULATE_TIMEOUT = 120  # seconds for one `sentinel simulate`
TEST_TIMEOUT = 120  # seconds for one test, browser start included


class ReportInBrowserTests(unittest.TestCase):
    sentinel = None

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="sentinel-report-browser-")
        cls.addClassCleanup(shutil.rmtree, cls.folder, True)
        started = time.monotonic()
        cls.recipe = cls.write_report(RECIPE, "recipe.html")
        cls.hostile = cls.write_report(HOSTILE, "hostile.html")
        print(f"\nreports written in {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        browser_context = browser.chromium()
        cls.driver = browser_context.__enter__()
        cls.addClassCleanup(browser_context.__exit__, None, None, None)
        print(f"Chromium started in {time.monotonic() - started:.1f} s", flush=True)

    @classmethod
    def write_report(cls, scenario, name):
        path = os.path.join(cls.folder, name)
        run = subprocess.run(
            [cls.sentinel, "simulate", scenario, "--report", path],
            capture_output=True, text=True, timeout=SIMULATE_TIMEOUT)
        if run.returncode != 0:
            raise AssertionError(f"sentinel simulate {scenario} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
        return path

    def open(self, path):
        """Loads a report, waits for its script to have run, and returns the console entries of the load."""
        browser.console_entries(self.driver)  # drop what came before
        self.driver.get("file://" + path)
        browser.wait_for(
            self.driver, lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"),
            what="the page's script (refused by the page's policy?)")
        return browser.console_entries(self.driver)

    def test_recipe_report_opens_without_errors_and_shows_its_charts_and_decisions(self):
        with browser.time_limit(TEST_TIMEOUT):
            entries = self.open(self.recipe)
            self.assertEqual(browser.console_errors(entries), [], "console errors")
            d = self.driver
            self.assertGreaterEqual(d.execute_script("return document.querySelectorAll('figure.chart svg.plot').length"), 3)
            self.assertGreaterEqual(d.execute_script("return document.querySelectorAll('svg.plot path.line').length"), 3)
            marks = d.execute_script("return document.querySelectorAll('a.mark').length")
            self.assertGreater(marks, 0, "no decision marks")
            self.assertGreater(d.execute_script("return document.querySelectorAll('tr.decision').length"), 0)
            # The canary's rollback is drawn as a lowered knob.
            self.assertGreater(d.execute_script("return document.querySelectorAll('a.mark.mark-lowered').length"), 0)
            # Every mark leads to a decision in the list.
            dangling = d.execute_script(
                "return Array.from(document.querySelectorAll('a.mark'))"
                ".filter(a => !document.getElementById(a.getAttribute('href').slice(1))).length")
            self.assertEqual(dangling, 0)

            # Hovering a chart shows the values under the pointer (the page's script runs).
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.by import By
            plot = d.find_element(By.CSS_SELECTOR, "figure.chart svg.plot")
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
            ActionChains(d).move_to_element(plot).perform()
            readout = browser.wait_for(
                d, lambda d: d.find_element(By.CSS_SELECTOR, "figure.chart .readout").text, what="the hover readout")
            self.assertIn("stable", readout)
            self.assertEqual(
                d.execute_script("return document.querySelector('figure.chart .crosshair').getAttribute('visibility')"),
                "visible")

            # Following a mark selects its row.
            mark = d.find_element(By.CSS_SELECTOR, "a.mark.mark-lowered")
            target = d.execute_script("return arguments[0].getAttribute('href')", mark).split("#", 1)[1]
            d.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", mark)
            browser.wait_for(d, lambda d: d.execute_script("return location.hash") == "#" + target, what="the mark's link")
            self.assertEqual(d.execute_script("return document.querySelector(':target').id"), target)
            self.assertEqual(browser.console_errors(browser.console_entries(d)), [])

    def test_markup_in_a_reason_shows_as_text(self):
        from selenium.common.exceptions import NoAlertPresentException
        from selenium.webdriver.common.by import By

        with browser.time_limit(TEST_TIMEOUT):
            entries = self.open(self.hostile)
            self.assertEqual(browser.console_errors(entries), [], "console errors")
            d = self.driver
            with self.assertRaises(NoAlertPresentException):
                d.switch_to.alert.text
            reasons = [e.text for e in d.find_elements(By.CSS_SELECTOR, "tr.decision .reason")]
            self.assertIn("<script>alert(1)</script>", reasons)
            self.assertIn("</script><script>alert(3)</script>", reasons)
            self.assertIn("<script>alert('description')</script>", d.find_element(By.CSS_SELECTOR, "header").text)
            # Only the page's own two scripts exist; no element came from the script's text.
            self.assertEqual(d.execute_script("return document.scripts.length"), 2)
            self.assertEqual(d.execute_script("return document.querySelectorAll('img, iframe, b, main script').length"), 0)
            # The evidence, opened, is text too.
            for details in d.find_elements(By.CSS_SELECTOR, "details.evidence"):
                d.execute_script("arguments[0].open = true", details)
            evidence = " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, "dl.evidence"))
            self.assertIn("<img src=x onerror=alert(2)>", evidence)
            self.assertIn("<b>bold key</b>", evidence)
            self.assertIn("<iframe src=x></iframe>", evidence)
            # A mark's tooltip carries the reason as text as well.
            titles = d.execute_script("return Array.from(document.querySelectorAll('a.mark title')).map(t => t.textContent)")
            self.assertTrue(any("<script>alert(1)</script>" in t for t in titles), titles)
            self.assertEqual(browser.console_errors(browser.console_entries(d)), [])


def main():
    return browser.main(ReportInBrowserTests, "browser report tests", __doc__.split("\n\n")[1])


if __name__ == "__main__":
    sys.exit(main())
