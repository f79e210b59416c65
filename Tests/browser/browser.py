"""Headless Chromium for Sentinel's browser tests.

Debian's `chromium` and `chromium-driver`, driven by Selenium pointed at
/usr/bin/chromedriver explicitly: no driver manager, no download, nothing
leaves the machine. `make browser-tools` installs them.

    import browser
    browser.require_tools()                 # missing: fail under CI=true, else skip
    with browser.chromium() as driver:
        driver.get("file:///tmp/report.html")
        assert not browser.console_errors(driver)

Everything a test starts is ended in `finally`: the driver quits, and any
Chromium process still running with this session's profile folder is killed
by its process id; the profile folder is removed.
"""
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
# As root Chromium needs --no-sandbox; /dev/shm is small in containers.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-breakpad",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1280,900",
)
PAGE_TIMEOUT = 30  # seconds for a page load or a script


class ToolsMissing(Exception):
    pass


def find_tools():
    """(chromium, chromedriver, selenium version), or ToolsMissing naming what is missing."""
    missing = []
    chromium_path = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if chromium_path is None:
        missing.append("chromium (apt-get install chromium)")
    if not os.access(CHROMEDRIVER, os.X_OK):
        missing.append("chromedriver (apt-get install chromium-driver)")
    try:
        import selenium
        version = selenium.__version__
    except ImportError:
        version = None
        missing.append(f"selenium for {sys.executable} (apt-get install python3-selenium, or pip install selenium)")
    if missing:
        raise ToolsMissing("missing: " + "; ".join(missing) + " — `make browser-tools` installs them")
    return chromium_path, CHROMEDRIVER, version


def require_tools():
    """The tools, or: under CI=true a failure (exit 1), elsewhere a skip (exit 0), both saying what is missing."""
    try:
        return find_tools()
    except ToolsMissing as missing:
        if os.environ.get("CI") == "true":
            print(f"FAIL browser tests: {missing}", file=sys.stderr)
            sys.exit(1)
        print(f"SKIPPED browser tests (not under CI): {missing}", file=sys.stderr)
        sys.exit(0)


def _processes_using(marker):
    """Process ids whose command line holds `marker` (this session's profile folder)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@contextlib.contextmanager
def chromium(window=(1280, 900)):
    """A headless Chromium WebDriver that records the console (`goog:loggingPrefs`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium_path, chromedriver_path, _ = find_tools()
    profile = tempfile.mkdtemp(prefix="sentinel-browser-")
    options = Options()
    options.binary_location = chromium_path
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={window[0]},{window[1]}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver_path)
    driver = None
    try:
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(PAGE_TIMEOUT)
        driver.set_script_timeout(PAGE_TIMEOUT)
        yield driver
    finally:
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
        with contextlib.suppress(Exception):
            service.stop()
        # Chromium's processes end shortly after quit; whatever outlives it (a hung
        # renderer) is killed: ours by the profile folder in its command line.
        deadline = time.monotonic() + 5
        while _processes_using(profile) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in _processes_using(profile):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(profile, ignore_errors=True)


def console_entries(driver):
    """The console's entries since the last call (each read empties the log)."""
    return driver.get_log("browser")


def console_errors(entries):
    """Errors (SEVERE), and anything the Content-Security-Policy refused at any level."""
    return [e for e in entries if e.get("level") == "SEVERE" or "Content Security Policy" in e.get("message", "")]


def wait_for(driver, condition, timeout=10, what="condition"):
    """Polls `condition(driver)` until it is truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition(driver)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class time_limit:
    """Raises TimeoutError in the main thread after `seconds`, so a hung driver call ends and cleanup runs."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        def expire(signum, frame):
            raise TimeoutError(f"browser test took more than {self.seconds} s")

        self.previous = signal.signal(signal.SIGALRM, expire)
        signal.alarm(self.seconds)
        return self

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.previous)
        return False


def main(case, label, usage):
    """A browser test script's command line: `SCRIPT PATH_TO_SENTINEL`; sets `case.sentinel` and runs the case."""
    if len(sys.argv) != 2:
        print(usage, file=sys.stderr)
        return 2
    _, _, selenium_version = require_tools()
    case.sentinel = os.path.abspath(sys.argv[1])
    print(f"Chromium headless through {CHROMEDRIVER}, Selenium {selenium_version}", flush=True)
    return run_tests(case, label)


def run_tests(case, label):
    """Runs a unittest.TestCase class; prints `LABEL: N passed, N failed` last; returns the exit code."""
    import unittest

    started = time.monotonic()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{label} took {time.monotonic() - started:.1f} s")
    print(f"{label}: {passed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun > 0 else 1
