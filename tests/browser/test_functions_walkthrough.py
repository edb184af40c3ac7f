"""A branch's functions and their logs in real Chromium, as a viewer: from the branch to
its functions (found through nested stacks on the emulator), a function's logs, and the
live tail showing events written after the page opened, without a reload."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from apps.branches import services as branch_services
from apps.branches.models import App
from apps.functions.tests.stacks import SECRET_VALUE, deploy_backend, write_events
from console.emulator import EMULATOR_CREDENTIALS, Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its users


@pytest.fixture
def client(emulator: Emulator) -> Callable[[str], Any]:
    session = boto3.session.Session(
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    return lambda service: session.client(service, endpoint_url=emulator.endpoint_url)


@pytest.fixture
def shop(
    emulator: Emulator, settings: Any, transactional_db: None, make_repo: Callable[..., Path], client: Callable[[str], Any]
) -> Iterator[App]:
    from console.aws import clear_client_cache

    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    names = deploy_backend(client, app.branches.get(name="main").backend_stack_name)
    write_events(
        client,
        f"/aws/lambda/{names['sayHello']}",
        ["INFO warming up", "ERROR first failure"],
        start_ms=int(time.time() * 1000) - 60_000,
    )
    app.function_names = names  # type: ignore[attr-defined]
    try:
        yield app
    finally:
        clear_client_cache()


def test_viewer_finds_a_function_and_its_live_tail_shows_new_events_without_reload(
    page: Page, live_server: Any, shop: App, viewer_user: Any, client: Callable[[str], Any]
) -> None:
    name = shop.function_names["sayHello"]  # type: ignore[attr-defined]
    sign_in(page, live_server.url, viewer_user.username, PASSWORD)
    page.get_by_role("link", name="Shop").click()
    navigation = page.get_by_role("navigation", name="App Shop")
    navigation.get_by_role("link", name="main", exact=True).click()
    navigation.get_by_role("link", name="Functions").click()
    expect(page.get_by_role("heading", name="Functions of main")).to_be_visible()
    expect(page.get_by_role("link", name="todoCleanup")).to_be_visible()
    page.get_by_role("link", name="sayHello").click()
    expect(page.get_by_text("secret (from SSM)")).to_be_visible()
    assert SECRET_VALUE not in page.content()

    page.get_by_role("link", name="Search logs").click()
    expect(page.get_by_text("ERROR first failure")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    fresh = f"ERROR written after the page opened {uuid.uuid4().hex[:8]}"
    time.sleep(1)  # after the page's own clock reading, whatever the rounding
    write_events(client, f"/aws/lambda/{name}", [fresh], stream="s2", start_ms=int(time.time() * 1000))
    expect(page.locator("#tail-lines")).to_contain_text(fresh, timeout=15_000)
    assert page.evaluate("window.sameDocument") is True
    second = f"INFO and one more {uuid.uuid4().hex[:8]}"
    write_events(client, f"/aws/lambda/{name}", [second], stream="s2", start_ms=int(time.time() * 1000))
    expect(page.locator("#tail-lines")).to_contain_text(second, timeout=15_000)
    assert page.locator("#tail-lines li", has_text=fresh).count() == 1  # each event once
