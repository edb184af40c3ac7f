"""Fixtures for the browser tests: a moto server, Debian's Chromium and a seeded demo.

Every test here carries the `browser` marker, so the root conftest does not wrap
it in moto's in-process mock: the console (in pytest-django's live server thread)
and the demo's deploy subprocess both talk to one real moto server over HTTP.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import under_ci
from console.emulator import Emulator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_PASSWORD = "demo-admin-password-for-tests"
# A failing step should fail in seconds, not after Playwright's 30 s default.
STEP_TIMEOUT_MS = 10_000

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so `page` can tell a failed test."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CONSOLE_REQUIRE_BROWSER") == "1" or under_ci():  # CI: a missing browser is a failure
            pytest.fail(f"{CHROMIUM} is missing, and under CI (or CONSOLE_REQUIRE_BROWSER=1) browser tests must run.")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; without this,
    # Django refuses ORM calls made here (seeding, assertions, test DB teardown).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context per test; a screenshot is saved when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        reports = request.node.stash.get(_reports, {})
        if "call" in reports and reports["call"].failed:
            shot = tmp_path / "failure.png"
            try:
                tab.screenshot(path=str(shot), full_page=True)
                (tmp_path / "failure.html").write_text(tab.content())
                print(f"\nscreenshot of the failing page: {shot} (at {tab.url})", file=sys.stderr)
            except Exception as error:  # the page may be gone; the test's own error matters more
                print(f"\nno screenshot: {error}", file=sys.stderr)
        context.close()


@pytest.fixture
def admin_password() -> str:
    """The password `demo` gives the seeded `admin` (through CONSOLE_ADMIN_PASSWORD)."""
    return ADMIN_PASSWORD


@pytest.fixture
def demo(
    browser: Any,
    emulator: Emulator,
    live_server: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Any]:
    """The demo of `make run`, seeded into the test DB and deployed to the emulator."""
    from apps.branches.models import App
    from apps.demo.seed import DEMO_APP_NAME, seed_demo
    from console.aws import clear_client_cache

    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    settings.VAR_DIR = tmp_path / "var"  # the demo's bare git repository goes here
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    clear_client_cache()
    seed_demo(build=True, say=lambda _: None)
    try:
        yield App.objects.get(name=DEMO_APP_NAME)
    finally:
        clear_client_cache()
