"""Playwright fixtures for browser tests, driving the system Chromium headless.

Browser tests are marked ``@pytest.mark.browser`` and use pytest-django's ``live_server``,
which implies a transactional database. The live server serves static files through
``django.contrib.staticfiles``' finders, so app.css and the htmx copied by
``npm run vendor`` are served without ``collectstatic``.

Chromium is ``/usr/bin/chromium`` unless ``DESKSIDE_CHROMIUM`` names another binary. When
it is missing the tests are skipped, except under CI (``CI=true``), where a missing browser
is a failure: CI must never pass by quietly skipping the browser tests.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import OperationalError, transaction
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
# Long enough for a slow CI machine, short enough that a broken page fails quickly.
TIMEOUT_MS = 10_000

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
VENDORED_FILES = ("htmx.min.js",)


T = TypeVar("T")


def while_the_server_reads(write: Callable[[], T], *, attempts: int = 50) -> T:
    """Run a test's own database write while the live server may be reading.

    The live server shares the test's in-memory SQLite database through SQLite's shared
    cache, where a write that meets another connection's read fails at once with "table
    is locked" instead of waiting (the busy timeout does not apply). A page polling in the
    background makes that a matter of timing, so the write is tried again, briefly.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return write()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def chromium_path() -> str:
    return os.environ.get("DESKSIDE_CHROMIUM", DEFAULT_CHROMIUM)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require_vendored_assets() -> None:
    """Fail with the fix when the setup step that copies npm packages has not run."""
    missing = [name for name in VENDORED_FILES if not (VENDOR_DIR / name).is_file()]
    if missing:
        pytest.fail(
            f"deskside/static/vendor/ is missing {', '.join(missing)}. "
            "Run `npm ci && npm run vendor` in the repository root, then run the tests again.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole test run."""
    executable = chromium_path()
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        reason = (
            f"Chromium was not found at {executable}. Install it (apt install chromium) "
            "or set DESKSIDE_CHROMIUM to its path."
        )
        if running_in_ci():
            pytest.fail(f"{reason} Browser tests must run in CI.", pytrace=False)
        pytest.skip(reason)
    # Playwright's sync API keeps an asyncio loop running in this thread for as long as it
    # is started, and Django refuses ORM calls from a thread with a running loop. Tests
    # call the ORM directly (to create people, read tokens), so allow it exactly while
    # Playwright runs. The live server's own thread has no loop and is unaffected.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()


def _new_context(browser: Browser, *, phone: bool) -> BrowserContext:
    if phone:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en"
        )
    else:
        context = browser.new_context(viewport=DESKTOP, locale="en")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _close(context: BrowserContext) -> None:
    """Let requests the page still has in flight finish, then close its tab.

    The test database is emptied right after the test; a request the live server is still
    answering (an htmx poll or count) would hold a table and make that fail.
    """
    for open_page in context.pages:
        with contextlib.suppress(PlaywrightError):
            open_page.wait_for_load_state("networkidle", timeout=5000)
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh desktop-sized tab with its own cookies."""
    context = _new_context(browser, phone=False)
    try:
        yield context.new_page()
    finally:
        _close(context)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A fresh tab the size of a small phone (375 x 740), with touch and a mobile viewport."""
    context = _new_context(browser, phone=True)
    try:
        yield context.new_page()
    finally:
        _close(context)
