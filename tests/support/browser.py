"""Harness for browser tests of the demo (a pytest plugin: fixtures and steps).

Runs ``manage.py rundemo`` of the example project as a separate process (the
built Next.js export served by Django, the real API, the Stripe emulator's
hosted checkout page and its signed webhooks) against this session's MongoDB
server, and drives Debian's Chromium through it with Playwright.  Screenshots
of every step land in ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from django_skillswap_payments.testing.mongo import with_database

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PROJECT = REPO_ROOT / "example_project"
FRONTEND_EXPORT = EXAMPLE_PROJECT / "frontend" / "out"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
PASSWORD = "skillswap-demo"
TIMEOUT_MS = 20_000


def _missing_prerequisites() -> list[str]:
    missing = []
    if not (FRONTEND_EXPORT / "index.html").is_file():
        missing.append(f"front-end export ({FRONTEND_EXPORT}); build it with scripts/demo or scripts/test")
    if not os.path.exists(CHROMIUM):
        missing.append(f"Debian chromium at {CHROMIUM}")
    try:
        import playwright  # noqa: F401
        import rest_framework_simplejwt  # noqa: F401
        import whitenoise  # noqa: F401
    except ImportError as exc:
        missing.append(f"Python package {exc.name}")
    return missing


@pytest.fixture(scope="module")
def prerequisites():
    missing = _missing_prerequisites()
    if missing:
        message = "browser test prerequisites missing: " + "; ".join(missing)
        # The project's test command installs everything; there a gap is a failure, not a skip.
        if os.environ.get("SKILLSWAP_REQUIRE_E2E") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Demo:
    """``manage.py rundemo`` in a child process, restartable on the same data."""

    def __init__(self, env: dict, var_dir: Path):
        self.env = env
        self.var_dir = var_dir
        self.url = f"http://127.0.0.1:{env['DEMO_PORT']}"
        self.log_path = ARTIFACTS / "demo-server.log"
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self) -> None:
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo"],
            cwd=EXAMPLE_PROJECT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_until_serving(self.url, self.process, self.log_path)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def stripe_key(self) -> str:
        """The secret key the demo generated for its emulator (and answers alone)."""
        return (self.var_dir / "stripe-emulator-key").read_text().strip()


@pytest.fixture(scope="module")
def demo(prerequisites, mongodb_uri, tmp_path_factory):
    """Start the example project's demo command on data of its own."""
    database = f"skillswap_e2e_{uuid.uuid4().hex[:8]}"
    var_dir = tmp_path_factory.mktemp("demo-var")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DJANGO_", "DEMO_"))
    }
    env.update(
        DEMO_PORT=str(_free_port()),
        DEMO_VAR_DIR=str(var_dir),
        MONGODB_URI=with_database(mongodb_uri, database),
        PYTHONUNBUFFERED="1",
        # The package under test is this checkout's, whatever the environment installed.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "demo-server.log").write_text("")
    for stale in ARTIFACTS.glob("*.png"):
        stale.unlink()
    server = Demo(env, var_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        from pymongo import MongoClient

        with MongoClient(mongodb_uri) as client:
            client.drop_database(database)


@pytest.fixture(scope="module")
def demo_url(demo):
    return demo.url


def _wait_until_serving(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo exited early:\n{log_path.read_text()[-4000:]}")
        try:
            urllib.request.urlopen(f"{base_url}/api/auth/me/", timeout=2)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the demo did not start serving:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def browser(prerequisites):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


class Steps:
    """Screenshots named in the order the steps happen."""

    def __init__(self, page):
        self.page = page
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.count:02d}-{name}.png"), full_page=True)


def login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile(r"/dashboard/"), timeout=TIMEOUT_MS)


def logout(page, base_url: str) -> None:
    page.evaluate("() => window.localStorage.clear()")
    page.goto(f"{base_url}/login/")


def pay(page, card_number: str) -> None:
    """Fill the emulator's hosted checkout form and submit it."""
    page.wait_for_selector("#cardNumber", timeout=TIMEOUT_MS)
    page.fill("#cardNumber", card_number)
    page.fill("#cardExpiry", "12 / 34")
    page.fill("#cardCvc", "123")
    page.fill("#billingName", "Demo Buyer")
    page.click("#submit")


def wait_for_checkout_status(page, status: str) -> None:
    page.wait_for_url(re.compile(r"/dashboard/payments/success/"), timeout=TIMEOUT_MS)
    page.wait_for_selector(f'[data-testid="checkout-status"][data-status="{status}"]', timeout=TIMEOUT_MS)


@pytest.fixture
def page_for(browser):
    """New browser pages (one context each), closed after the test; a screenshot on failure."""
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page, Steps(page)

    yield open_page
    for context in contexts:
        context.close()
