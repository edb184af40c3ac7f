"""An admin hands a script an API key in the browser: create it, copy the secret shown
once, the script's boto3 calls work with it, then revoke it and they stop working."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from playwright.sync_api import Page, expect

from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # the root conftest's, for its users


def test_admin_creates_a_key_a_script_uses_it_then_it_is_revoked(
    page: Page, live_server: Any, admin_user: Any, operator_user: Any
) -> None:
    base = live_server.url
    sign_in(page, base, admin_user.username, PASSWORD)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API access keys", level=1)).to_be_visible()
    expect(page.get_by_text("No access keys yet")).to_be_visible()
    expect(page.get_by_text(f"{base}/amplify-api").first).to_be_visible()

    page.get_by_label("User").select_option(operator_user.username)
    page.get_by_label("Description").fill("release script")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text(f"New key for {operator_user.username}")
    key_id = page.get_by_test_id("new-access-key-id").inner_text()
    secret = page.get_by_test_id("new-secret-access-key").inner_text()
    assert key_id.startswith("AKCN")
    assert len(secret) == 40

    client = boto3.client(
        "amplify", endpoint_url=f"{base}/amplify-api", region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
    )  # fmt: skip
    assert client.list_apps()["apps"] == []

    # The secret is not shown again; the key's row says who and what it is for.
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    row = page.get_by_role("row").filter(has_text=key_id)
    expect(row).to_contain_text("release script")
    expect(row).to_contain_text(operator_user.username)
    expect(row).to_contain_text("Active")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Revoke {key_id}").click()
    expect(page.get_by_text(f"Access key {key_id} of {operator_user.username} is revoked.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=key_id)).to_contain_text("Revoked")
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    assert refused.value.response["Error"]["Code"] == "UnauthorizedException"
