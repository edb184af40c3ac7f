"""Manage a branch's Cognito users in real Chromium as an admin would: create a user with
a temporary password, create a group, add the user to it, and disable the user.

The user pool is on the emulator (a moto server process), named by the branch's
amplify_outputs.json; every step is a plain form or link (no script of the console's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from apps.branches import services as branch_services
from apps.branches.models import App
from console.emulator import EMULATOR_CREDENTIALS, Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its admin_user
EMAIL = "new.person@example.com"
TEMPORARY = "Temp0rary!pass"


@pytest.fixture
def idp(emulator: Emulator) -> Any:
    return boto3.client(
        "cognito-idp",
        region_name="us-east-1",
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def shop(emulator: Emulator, settings: Any, transactional_db: None, make_repo: Callable[..., Path], idp: Any) -> Iterator[App]:
    """An app whose main branch's outputs name an empty user pool on the emulator (email sign-in)."""
    from console.aws import clear_client_cache

    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    policy = {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
    }
    pool_id = idp.create_user_pool(PoolName="shop-main", UsernameAttributes=["email"], Policies={"PasswordPolicy": policy})[
        "UserPool"
    ]["Id"]
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    main = app.branches.get(name="main")
    main.backend_outputs = {
        "version": "1.4",
        "auth": {
            "aws_region": "us-east-1",
            "user_pool_id": pool_id,
            "user_pool_client_id": "web",
            "username_attributes": ["email"],
        },
    }
    main.save()
    app.pool_id = pool_id  # type: ignore[attr-defined]
    try:
        yield app
    finally:
        clear_client_cache()


def the_user(idp: Any, pool_id: str) -> dict[str, Any]:
    [user] = idp.list_users(UserPoolId=pool_id)["Users"]
    return dict(user)


def test_admin_creates_a_user_and_a_group_adds_the_user_and_disables_them(
    page: Page, live_server: Any, shop: App, admin_user: Any, idp: Any
) -> None:
    pool_id = shop.pool_id  # type: ignore[attr-defined]
    sign_in(page, live_server.url, admin_user.username, PASSWORD)

    # --- To the branch's users through the navigation: an empty pool says what to do.
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("navigation", name="App Shop").get_by_role("link", name="main", exact=True).click()
    page.get_by_role("navigation", name="App Shop").get_by_role("link", name="Authentication").click()
    expect(page.get_by_role("heading", name="Authentication of main")).to_be_visible()
    expect(page.get_by_role("heading", name="No users in this pool yet")).to_be_visible()

    # --- Create a user; the form shows the pool's password policy and refuses a weak password first.
    page.get_by_role("link", name="Create user").first.click()
    expect(page.locator("#password-policy")).to_contain_text("at least 8 characters")
    page.get_by_label("Email address", exact=True).fill(EMAIL)
    page.get_by_label("Temporary password").fill("weak")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#id_temporary_password_error")).to_contain_text("at least 8 characters")
    expect(page.get_by_label("Email address", exact=True)).to_have_value(EMAIL)
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []
    page.get_by_label("Temporary password").fill(TEMPORARY)
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#messages")).to_contain_text(f"User {EMAIL} created.")
    expect(page.get_by_role("heading", name=EMAIL)).to_be_visible()
    expect(page.get_by_text("Must change password")).to_be_visible()
    assert the_user(idp, pool_id)["UserStatus"] == "FORCE_CHANGE_PASSWORD"

    # --- Create a group on the Groups tab: its page opens, with no members yet.
    page.get_by_role("navigation", name="Users and groups").get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", name="No groups in this pool yet")).to_be_visible()
    page.get_by_label("Group name").fill("Editors")
    page.get_by_label("Description").fill("Write todos")
    page.get_by_label("Precedence").fill("10")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator("#messages")).to_contain_text("Group Editors created.")
    expect(page.get_by_role("heading", name="No members yet")).to_be_visible()

    # --- Add the user by email (a line naming nobody first: nobody is added).
    page.get_by_label("People to add").fill(f"{EMAIL}\nnobody@example.com")
    page.get_by_role("button", name="Add to Editors").click()
    expect(page.locator("#id_members_error")).to_contain_text("Nobody was added: no user has 'nobody@example.com'")
    assert idp.list_users_in_group(UserPoolId=pool_id, GroupName="Editors")["Users"] == []
    page.get_by_label("People to add").fill(EMAIL)
    page.get_by_role("button", name="Add to Editors").click()
    expect(page.locator("#messages")).to_contain_text("Added 1 person to Editors.")
    expect(page.get_by_role("link", name=EMAIL)).to_be_visible()
    [member] = idp.list_users_in_group(UserPoolId=pool_id, GroupName="Editors")["Users"]
    assert member["Username"] == the_user(idp, pool_id)["Username"]

    # --- Open the user from the member list and disable them.
    page.get_by_role("link", name=EMAIL).click()
    expect(page.get_by_role("link", name="Editors")).to_be_visible()
    page.get_by_role("button", name="Disable user").click()
    expect(page.locator("#messages")).to_contain_text("User disabled: they cannot sign in.")
    expect(page.get_by_role("button", name="Enable user")).to_be_visible()
    assert the_user(idp, pool_id)["Enabled"] is False

    # --- The list shows it, in words.
    page.get_by_role("navigation", name="Users and groups").get_by_role("link", name="Users").click()
    expect(page.get_by_role("row", name=EMAIL)).to_contain_text("Disabled")
