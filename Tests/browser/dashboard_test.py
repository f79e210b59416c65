#!/usr/bin/env python3
"""The live dashboard in a real browser (headless Chromium).

Usage: Tests/browser/dashboard_test.py PATH_TO_SENTINEL   (from the repository's root)

Starts `sentinel run --admin --workload` on loopback with the fixture in
fixtures/dashboard and checks, in order: a wrong token gets a clear message;
the page shows the pipelines, knobs, trial, approval and scripts; a freeze
from the page (keyboard only) is audited as `operator:alice` and its
`<script>` reason shows as text; an event arrives without a reload; a gate is
approved from the page; a read-only token is offered no action; the page
says when the server goes away and catches up when it is back; and it fits
a laptop's width. No console errors anywhere (a refused inline script or
style would be one). Missing Chromium, chromedriver or Selenium fails under
CI=true and skips elsewhere.
"""
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # `make test` writes nothing into the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
import live_sentinel  # noqa: E402

TEST_TIMEOUT = 90  # seconds for one test
WAIT = 15  # seconds for something the page should show


class DashboardInBrowserTests(unittest.TestCase):
    sentinel = None

    @classmethod
    def setUpClass(cls):
        started = time.monotonic()
        live = live_sentinel.LiveSentinel(cls.sentinel)
        cls.live = live.__enter__()
        cls.addClassCleanup(live.__exit__, None, None, None)
        context = browser.chromium()
        cls.driver = context.__enter__()
        cls.addClassCleanup(context.__exit__, None, None, None)
        print(f"\nsentinel and Chromium started in {time.monotonic() - started:.1f} s", flush=True)

    # ---- helpers

    def by_css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def text(self, selector):
        # Read in the page in one call: the page re-renders parts of itself, and an element found
        # by one WebDriver call may be gone by the next (a stale element).
        return self.js("return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText.trim()).join(' ')",
                       selector)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, condition, what, timeout=WAIT):
        from selenium.common.exceptions import StaleElementReferenceException

        def attempt(_):
            try:
                return condition()
            except StaleElementReferenceException:
                return None  # re-rendered meanwhile: look again
        return browser.wait_for(self.driver, attempt, timeout=timeout, what=what)

    def sign_in(self, token):
        from selenium.webdriver.common.keys import Keys
        self.driver.get(self.live.url + "/")
        self.wait(lambda: self.js("return document.readyState") == "complete", "the page")
        self.js("sessionStorage.clear()")
        self.driver.get(self.live.url + "/")
        field = self.wait(lambda: next(iter(self.by_css("#token")), None), "the token field")
        field.send_keys(token + Keys.ENTER)

    def signed_in_as(self, identity):
        self.wait(lambda: self.text("#identity-name") == f"Signed in as {identity}", f"signed in as {identity}")
        self.wait(lambda: self.js("return document.getElementById('connection').dataset.state") == "live", "the live stream")

    def assert_no_console_errors(self, expected=()):
        """No console error but the browser's own network lines in `expected` (say, the 401 of a wrong token)."""
        errors = [e for e in browser.console_errors(browser.console_entries(self.driver))
                  if not (e.get("source") == "network" and any(text in e.get("message", "") for text in expected))]
        self.assertEqual(errors, [], "console errors")

    def press(self, selector):
        """Activates the visible control `selector` with the keyboard: focus, then Enter (found again if re-rendered)."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.keys import Keys
        for attempt in range(3):
            element = self.wait(lambda: next((e for e in self.by_css(selector) if e.is_displayed()), None), selector)
            try:
                self.js("arguments[0].focus()", element)
                self.assertTrue(self.js("return document.activeElement === arguments[0]", element), "focusable")
                element.send_keys(Keys.ENTER)
                return
            except StaleElementReferenceException:
                if attempt == 2:
                    raise

    def act(self, button, reason):
        """Presses an action button (a selector), types the reason in the dialog and confirms, all by keyboard."""
        from selenium.webdriver.common.keys import Keys
        self.press(button)
        self.wait(lambda: self.js("return document.getElementById('action-dialog').open"), "the reason dialog")
        self.assertTrue(self.js("return document.activeElement.id") == "action-reason", "the reason field has the focus")
        self.by_css("#action-reason")[0].send_keys(reason + Keys.ENTER)
        self.wait(lambda: not self.js("return document.getElementById('action-dialog').open"), "the dialog to close")

    # ---- tests, in order

    def test_1_a_wrong_token_gets_a_clear_message(self):
        with browser.time_limit(TEST_TIMEOUT):
            self.sign_in("not-a-token")
            message = self.wait(lambda: self.text("#sign-in-error"), "the sign-in error")
            self.assertIn("refused this token (401", message)
            self.assertFalse(self.js("return document.getElementById('dashboard').hidden === false"))
            self.assertIsNone(self.js("return sessionStorage.getItem('sentinel.token')"), "a refused token is not kept")
            self.assert_no_console_errors(expected=["/v1/whoami - Failed to load resource: the server responded with a status of 401"])

    def test_2_the_page_shows_what_the_sentinel_runs(self):
        with browser.time_limit(TEST_TIMEOUT):
            self.sign_in(self.live.alice)
            self.signed_in_as("operator:alice")
            self.assertEqual(self.js("return sessionStorage.getItem('sentinel.token')"), self.live.alice)
            # Filled from /v1/status, which may answer after the stream is live: waited for, not read at once.
            self.wait(lambda: self.text("#instance") == "dashboard-test", "the instance's name")
            self.wait(lambda: {"checkout", "search"} <= {e.get_attribute("data-pipeline") for e in self.by_css("[data-pipeline]")},
                      "both pipelines")
            checkout = self.text("[data-pipeline=checkout]")
            self.assertIn("canary", checkout)
            self.assertIn("stable", checkout)
            self.wait(lambda: len(self.by_css("[data-pipeline=checkout] svg.spark path.line")) >= 2, "the checkout sparklines")
            knobs = self.wait(lambda: self.text("#knobs"), "the knobs")
            for knob in ("checkout.split.canary_weight", "search.timeout.duration", "search.retry.max_attempts"):
                self.assertIn(knob, knobs)
            self.wait(lambda: "script:ramp" in self.text("#knobs"), "the canary weight's last change")
            trial = self.wait(lambda: self.text("[data-trial=tighter-search]"), "the trial")
            self.assertIn("search.timeout.duration: 0.5 → 0.3", trial)
            self.assertTrue(self.by_css("[data-trial=tighter-search] progress"), "its progress to promotion")
            self.assertIn("Abort tighter-search", trial)
            # The gate's message carries markup: shown as text, no element made from it.
            gate = self.wait(lambda: self.text("[data-gate=release-gate]"), "the approval gate")
            self.assertIn("(pending)", gate)
            self.assertIn("<img src=x id=injected> <b>bold</b>", gate)
            self.assertEqual(self.js("return document.querySelectorAll('#injected, main b').length"), 0)
            scripts = self.text("#scripts")
            for name in ("gate", "ramp", "tighten"):
                self.assertIn(f"policies/{name}.lua", scripts)
            self.assertIn("running", scripts)
            self.wait(lambda: "trial.start" in self.text("#timeline"), "the decisions")
            self.assertIn("search p99 leaves room", self.text("#timeline"))
            self.assert_no_console_errors()

    def test_3_a_freeze_from_the_page_is_audited_as_the_operator(self):
        reason = "<script>window.pwned = 1</script> incident 42"
        with browser.time_limit(TEST_TIMEOUT):
            self.act("#freeze", reason)
            banner = self.wait(lambda: self.by_css("#frozen-banner")[0].is_displayed() and self.text("#frozen-banner"), "the banner")
            self.assertIn("Frozen by operator:alice", banner)
            self.assertIn(reason, banner)
            self.assertIn("automation.freeze: applied", self.text("#action-result"))
            entries = self.live.get("/v1/audit?action=automation.freeze")["entries"]
            self.assertEqual([(e["actor"], e["reason"]) for e in entries], [("operator:alice", reason)])
            self.wait(lambda: reason in self.text("#timeline"), "the freeze in the decisions")
            # No element was made from the reason (the policy would also stop it from running).
            self.assertEqual(self.js("return document.scripts.length"), 1, "only the page's own script")
            self.assertIsNone(self.js("return window.pwned"))
            self.assertTrue(self.by_css("#unfreeze")[0].is_displayed())
            self.act("#unfreeze", "incident over")
            self.wait(lambda: not self.by_css("#frozen-banner")[0].is_displayed(), "the banner to go")
            self.assertIsNone(self.live.get("/v1/status")["frozen"])
            self.assert_no_console_errors()

    def test_4_an_event_arrives_without_a_reload(self):
        with browser.time_limit(TEST_TIMEOUT):
            self.js("window.sameDocument = true")
            marker = f"set from outside {time.monotonic_ns()}"
            status, body = self.live.command("param.set", {"param": "search.retry.max_attempts", "value": 3}, marker)
            self.assertEqual(status, 200, body)
            self.wait(lambda: marker in self.text("#timeline"), "the command in the decisions")
            self.assertTrue(self.js("return window.sameDocument === true"), "the page was reloaded")
            # The knobs table follows the event.
            self.wait(lambda: marker in self.text("#knobs"), "the knob's last change")
            self.assert_no_console_errors()

    def test_5_a_gate_is_approved_from_the_page(self):
        with browser.time_limit(TEST_TIMEOUT):
            self.act("[data-gate=release-gate] button[data-key^=approve]", "looked at the graphs")
            gate = self.wait(lambda: "(approved)" in self.text("[data-gate=release-gate]") and self.text("[data-gate=release-gate]"),
                             "the gate approved")
            self.assertIn("Approved by operator:alice", gate)
            self.assertIn("looked at the graphs", gate)
            self.assertEqual(self.live.get("/v1/approvals")["release-gate"]["answered_by"], "operator:alice")
            # The script sees the answer and raises an alert, which arrives live.
            self.wait(lambda: "release-gate approved" in self.text("#timeline .alert"), "the script's alert", timeout=20)
            self.assert_no_console_errors()

    def test_6_a_read_only_token_is_offered_no_action(self):
        with browser.time_limit(TEST_TIMEOUT):
            self.press("#sign-out")
            self.wait(lambda: self.by_css("#sign-in")[0].is_displayed(), "the sign-in form")
            self.assertIsNone(self.js("return sessionStorage.getItem('sentinel.token')"))
            self.sign_in(self.live.viewer)
            self.signed_in_as("operator:viewer")
            self.wait(lambda: self.text("[data-trial=tighter-search]"), "the trial")
            self.wait(lambda: self.text("#scripts tbody"), "the scripts")
            visible = self.js("return Array.from(document.querySelectorAll('main button'))"
                              ".filter(b => b.getClientRects().length > 0).map(b => b.innerText)")
            self.assertEqual(visible, [], "no action for a token without grants")
            self.assert_no_console_errors()

    def test_7_the_page_says_when_the_server_is_gone_and_catches_up(self):
        with browser.time_limit(TEST_TIMEOUT):
            self.sign_in(self.live.alice)
            self.signed_in_as("operator:alice")
            loads = "return Array.from(document.querySelectorAll('#timeline li.audit')).filter(li => li.textContent.includes('script.load')).length"
            self.wait(lambda: self.js(loads) == 3, "the three scripts' loads")
            self.live.stop()
            down = self.wait(lambda: self.js("return document.getElementById('connection').dataset.state") == "down"
                             and self.text("#connection"), "the page to notice")
            self.assertIn("Disconnected", down)
            self.assertIn("out of date", down)
            self.live.start()
            self.wait(lambda: "reconnected" in self.text("#connection"), "the page to reconnect", timeout=40)
            # The new process loaded its scripts before the page was back: caught up from the audit.
            self.wait(lambda: self.js(loads) == 6, "the loads audited while the page was disconnected")
            marker = f"after the restart {time.monotonic_ns()}"
            status, body = self.live.command("param.set", {"param": "search.retry.max_attempts", "value": 2}, marker)
            self.assertEqual(status, 200, body)
            self.wait(lambda: marker in self.text("#timeline"), "a command after the restart")
            # The browser logs each request the stopping or stopped server did not answer: those only.
            self.assert_no_console_errors(
                expected=["net::ERR_CONNECTION_REFUSED", "net::ERR_EMPTY_RESPONSE", "net::ERR_CONNECTION_RESET"])

    def test_8_it_fits_a_laptop_screen(self):
        with browser.time_limit(TEST_TIMEOUT):
            for width, height in ((1280, 800), (1024, 768)):
                self.driver.set_window_size(width, height)
                self.wait(lambda: self.js("return document.documentElement.scrollWidth <= window.innerWidth"),
                          f"no sideways scrolling at {width} px")
            self.driver.set_window_size(1280, 900)


def main():
    return browser.main(DashboardInBrowserTests, "browser dashboard tests", __doc__.split("\n\n")[1])


if __name__ == "__main__":
    sys.exit(main())
