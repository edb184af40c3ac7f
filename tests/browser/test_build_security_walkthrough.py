"""An admin makes an app's builds safe in the browser: a service role, no network, and
previews of forks built without secrets; the previews page then says so, and the dashboard
warns when builds run unisolated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.branches import services
from apps.branches.models import App
from console.models import AuditEvent
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its users
ROLE = "arn:aws:iam::123456789012:role/service-role/shop-build"


def test_admin_gives_builds_a_role_no_network_and_keeps_secrets_from_forks(
    page: Page, live_server: Any, admin_user: Any, make_repo: Callable[..., Path], settings: Any, tmp_path: Path
) -> None:
    repo = make_repo(("main",))
    app = services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    base = live_server.url
    sign_in(page, base, admin_user.username, PASSWORD)

    page.goto(f"{base}/apps/{app.app_id}/settings/")
    expect(page.get_by_text("no service role: builds get no AWS credentials")).to_be_visible()
    page.get_by_label("Service role").fill("arn:aws:iam::123456789012:user/not-a-role")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter an IAM role ARN such as arn:aws:iam::123456789012:role/amplify-build.")).to_be_visible()
    page.get_by_label("Service role").fill(ROLE)
    page.get_by_label("Builds reach the network").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("App settings saved.")
    expect(page.get_by_text(f"assume {ROLE}; network off")).to_be_visible()
    page.screenshot(path=str(tmp_path / "app-settings.png"), full_page=True)

    page.goto(f"{base}/apps/{app.app_id}/git/")
    choices = page.get_by_role("group", name="Previews of pull requests from forks")
    expect(choices.get_by_label("Off: pull requests from forks get no preview")).to_be_checked()
    choices.get_by_label("Build without secrets and without the service role").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Git settings saved.")

    page.goto(f"{base}/apps/{app.app_id}/previews/")
    expect(page.locator(".fork-policy")).to_contain_text(
        "Pull requests from forks: Build without secrets and without the service role."
    )
    page.screenshot(path=str(tmp_path / "previews.png"), full_page=True)

    app.refresh_from_db()
    assert (app.service_role_arn, app.build_network, app.fork_previews) == (ROLE, False, App.ForkPreviews.WITHOUT_SECRETS)
    changed = AuditEvent.objects.filter(action="app.git_settings.update", target=app.app_id).latest("pk")
    assert changed.detail["changed"]["fork_previews"] == ["OFF", "WITHOUT_SECRETS"]

    settings.BUILD_ISOLATION = "off"
    page.goto(f"{base}/")
    expect(page.get_by_role("alert")).to_contain_text("Builds are not isolated.")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_a_viewer_sees_what_builds_may_reach_and_cannot_change_it(
    page: Page, live_server: Any, viewer_user: Any, make_repo: Callable[..., Path], settings: Any
) -> None:
    repo = make_repo(("main",))
    app = services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    base = live_server.url
    sign_in(page, base, viewer_user.username, PASSWORD)

    page.goto(f"{base}/apps/{app.app_id}/settings/")
    expect(page.get_by_text("no service role: builds get no AWS credentials; network on")).to_be_visible()
    expect(page.get_by_label("Service role")).to_be_disabled()
    expect(page.get_by_label("Builds reach the network")).to_be_disabled()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)

    page.goto(f"{base}/apps/{app.app_id}/previews/")
    expect(page.locator(".fork-policy")).to_contain_text("Off: pull requests from forks get no preview.")
    expect(page.locator(".fork-policy")).to_contain_text("Admins change this in Git settings.")
    expect(page.get_by_text("No open previews.")).to_be_visible()

    settings.BUILD_ISOLATION = "off"  # the red banner is for admins
    page.goto(f"{base}/")
    expect(page.get_by_text("Builds are not isolated.")).to_have_count(0)
