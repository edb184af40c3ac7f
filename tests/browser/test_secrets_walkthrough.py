"""Walk an app's secrets in real Chromium as an admin: read the matrix of the seeded
demo, add a shared and a branch secret through the form, reveal one value and find
the reveal in the audit log.

The demo seed writes: a shared API_KEY; main's own API_KEY and STRIPE_KEY; nothing
for dev, so dev gets the shared API_KEY and no STRIPE_KEY. Values are only ever in
the page after an explicit reveal.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from apps.branches.models import App
from apps.secrets.scopes import Scope
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

SEEDED_VALUES = ("demo-shared-api-key", "demo-main-api-key", "demo-main-stripe-key")


def matrix_cell(page: Page, name: str, column: str) -> Locator:
    """The cell of secret `name` in column `column` ("All branches" or a branch name)."""
    table = page.get_by_role("table")
    headers = [text.strip() for text in table.get_by_role("columnheader").all_inner_texts()]
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))
    expect(row).to_have_count(1)
    # The first column is the row header (th), so data cells start at column 1.
    return row.get_by_role("cell").nth(headers.index(column) - 1)


def assert_no_values(page: Page, values: tuple[str, ...]) -> None:
    html = page.content()
    for value in values:
        assert value not in html, f"the page's HTML contains the value {value!r}"


def test_admin_manages_secrets(page: Page, live_server: Any, demo: App, admin_password: str) -> None:
    base = live_server.url
    app_id = demo.app_id
    shared_value = f"shared-{secrets.token_hex(8)}"
    dev_value = f"dev-only-{secrets.token_hex(8)}"
    all_values = (*SEEDED_VALUES, shared_value, dev_value)

    sign_in(page, base, "admin", admin_password)
    page.get_by_role("link", name="Todo app (demo)").click()
    page.get_by_role("navigation", name="App Todo app (demo)").get_by_role("link", name="Secrets").click()
    expect(page.get_by_role("heading", name="Secrets", level=1)).to_be_visible()
    expect(page).to_have_url(f"{base}/apps/{app_id}/secrets/")

    # --- The seeded matrix: which value each branch's build gets.
    expect(page.get_by_role("columnheader")).to_have_text(["Name", "All branches", "dev", "main"])
    expect(matrix_cell(page, "STRIPE_KEY", "dev")).to_contain_text("missing")
    expect(matrix_cell(page, "STRIPE_KEY", "main")).to_contain_text("own value")
    expect(matrix_cell(page, "STRIPE_KEY", "All branches")).to_have_text("—")
    expect(matrix_cell(page, "API_KEY", "dev")).to_contain_text("shared value")
    expect(matrix_cell(page, "API_KEY", "main")).to_contain_text("own value")
    expect(matrix_cell(page, "API_KEY", "All branches")).to_contain_text("v1")
    warning = page.locator(".message.warning")
    expect(warning).to_have_text(re.compile(r"^Some branches lack: STRIPE_KEY\. "))
    assert_no_values(page, all_values)

    # --- Add a shared secret: the value goes into a masked field.
    set_form = page.locator("form").filter(has=page.get_by_role("button", name="Save secret"))
    set_form.get_by_label("Name").fill("NEW_TOKEN")
    value_box = set_form.get_by_label("Value")
    expect(value_box).to_have_attribute("type", "password")
    value_box.fill(shared_value)
    set_form.get_by_label("All branches (shared)").check()
    set_form.get_by_role("button", name="Save secret").click()
    expect(page.locator("#messages").get_by_role("status")).to_have_text("NEW_TOKEN saved for all branches.")
    expect(matrix_cell(page, "NEW_TOKEN", "All branches")).to_contain_text("v1")
    expect(matrix_cell(page, "NEW_TOKEN", "dev")).to_contain_text("shared value")
    expect(matrix_cell(page, "NEW_TOKEN", "main")).to_contain_text("shared value")
    expect(page.locator("form").filter(has=page.get_by_role("button", name="Save secret")).get_by_label("Value")).to_have_value(
        ""
    )
    assert_no_values(page, all_values)

    # --- Add a secret for dev only: main now lacks it.
    set_form.get_by_label("Name").fill("DEV_ONLY_TOKEN")
    set_form.get_by_label("Value").fill(dev_value)
    set_form.get_by_label("Branch dev").check()
    set_form.get_by_role("button", name="Save secret").click()
    expect(page.locator("#messages").get_by_role("status")).to_have_text("DEV_ONLY_TOKEN saved for branch dev.")
    expect(matrix_cell(page, "DEV_ONLY_TOKEN", "All branches")).to_have_text("—")
    expect(matrix_cell(page, "DEV_ONLY_TOKEN", "dev")).to_contain_text("own value")
    expect(matrix_cell(page, "DEV_ONLY_TOKEN", "main")).to_contain_text("missing")
    expect(warning).to_have_text(re.compile(r"^Some branches lack: DEV_ONLY_TOKEN, STRIPE_KEY\. "))
    assert_no_values(page, all_values)

    # --- Reveal the shared NEW_TOKEN on its own page: shown once, only after asking.
    page.get_by_role("link", name="NEW_TOKEN", exact=True).click()
    expect(page.get_by_role("heading", name="NEW_TOKEN")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="all branches")
    assert_no_values(page, all_values)
    row.get_by_role("button", name="Reveal value for all branches").click()
    expect(row.locator(".revealed")).to_contain_text(shared_value)
    expect(page.get_by_text(shared_value, exact=True)).to_have_count(1)
    html = page.content()
    assert html.count(shared_value) == 1, html.count(shared_value)
    assert_no_values(page, tuple(v for v in all_values if v != shared_value))

    # --- The audit log records the reveal (the path, never the value).
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    path = Scope.shared(app_id).path("NEW_TOKEN")
    event = page.get_by_role("row").filter(has=page.get_by_role("cell", name="secret.reveal", exact=True))
    expect(event).to_have_count(1)
    expect(event.get_by_role("cell", name=path, exact=True)).to_be_visible()
    expect(event.get_by_role("cell", name="admin", exact=True)).to_be_visible()
    expect(event).to_contain_text("Success")
    assert_no_values(page, all_values)
