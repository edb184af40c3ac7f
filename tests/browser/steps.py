"""Steps the browser walkthroughs share."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the form and land on the app list."""
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="All apps")).to_be_visible()
