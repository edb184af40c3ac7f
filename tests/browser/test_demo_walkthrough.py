"""Walk the seeded demo in real Chromium as a person would: sign in, look around,
change things, make mistakes, read the audit log, sign out.

Assertions go through roles and labels (get_by_role / get_by_label), so they also
prove the pages name their controls.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.branches.models import App
from console.amplify_names import branch_stack_name

pytestmark = pytest.mark.browser

VIEWER_PASSWORD = "correct-horse-battery"  # the root conftest's PASSWORD


def sign_in_with_mouse(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="All apps")).to_be_visible()


def test_admin_walks_the_demo(page: Page, live_server: Any, demo: App, admin_password: str) -> None:
    base = live_server.url
    app_id = demo.app_id
    main_stack = branch_stack_name(app_id, "main")
    dev_stack = branch_stack_name(app_id, "dev")
    assert re.fullmatch(rf"amplify-{app_id}-main-branch-[0-9a-f]{{10}}", main_stack)

    # --- Sign-in page: any console page sends a stranger there.
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page).to_have_title(re.compile(r"^Sign in"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # A wrong password is refused with a message.
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")

    # --- Sign in with the keyboard only: type, Tab, type, Enter.
    username = page.get_by_label("Username")
    username.focus()
    expect(username).to_be_focused()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(admin_password)
    page.keyboard.press("Enter")

    # --- Dashboard.
    expect(page.get_by_role("heading", name="All apps")).to_be_visible()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit log")).to_be_visible()
    expect(page.get_by_role("link", name="Create app")).to_be_visible()
    page.get_by_role("link", name="Todo app (demo)").click()

    # --- App overview: both branches, their URLs and backend stack names.
    expect(page.get_by_role("heading", name="Todo app (demo)", level=1)).to_be_visible()
    branches = page.get_by_role("table")
    main_row = branches.get_by_role("row").filter(has=page.get_by_role("link", name="main", exact=True))
    dev_row = branches.get_by_role("row").filter(has=page.get_by_role("link", name="dev", exact=True))
    expect(main_row).to_have_count(1)
    expect(dev_row).to_have_count(1)
    expect(main_row.get_by_text("production", exact=True)).to_be_visible()
    expect(dev_row.get_by_text("production", exact=True)).to_have_count(0)
    expect(main_row.get_by_role("link", name=f"http://main.{app_id}.localhost:8000/")).to_be_visible()
    expect(dev_row.get_by_role("link", name=f"http://dev.{app_id}.localhost:8000/")).to_be_visible()
    expect(main_row.get_by_text(main_stack, exact=True)).to_be_visible()
    expect(dev_row.get_by_text(dev_stack, exact=True)).to_be_visible()

    # --- Branch dev: its backend was deployed to the emulator by the demo seed.
    dev_row.get_by_role("link", name="dev", exact=True).click()
    expect(page.get_by_role("heading", name="dev", level=1)).to_be_visible()
    expect(page.get_by_text(dev_stack, exact=True)).to_be_visible()
    expect(page.get_by_text("Deployed", exact=True)).to_be_visible()
    expect(page.get_by_text("Unknown", exact=True)).to_have_count(0)
    outputs_toggle = page.get_by_text(re.compile(r"^Stack outputs \(\d+\)$"))
    expect(page.get_by_role("cell", name="awsAppsyncApiId", exact=True)).to_be_hidden()
    outputs_toggle.click()
    expect(page.get_by_role("cell", name="awsAppsyncApiId", exact=True)).to_be_visible()

    # The environment a build of dev gets: GREETING comes from the branch override.
    greeting = page.get_by_role("row").filter(has=page.get_by_role("cell", name="GREETING", exact=True))
    expect(greeting).to_have_count(1)
    expect(greeting).to_contain_text("Hello from dev")
    expect(greeting.get_by_text("branch override", exact=True)).to_be_visible()

    # --- Data of main: the example's models, with the rows seeded once main's build deployed them.
    app_nav = page.get_by_role("navigation", name="App Todo app (demo)")
    app_nav.get_by_role("link", name="main", exact=True).click()
    app_nav.get_by_role("link", name="Data", exact=True).click()
    expect(page.get_by_role("heading", name="Data of main", level=1)).to_be_visible()
    models = page.locator(".model-list").get_by_role("link")
    expect(models).to_have_text(["Note", "Project", "Todo"])
    models.filter(has_text="Todo").click()
    expect(page.get_by_text("Relationships: project → Project (BELONGS_TO, key projectId)")).to_be_visible()
    expect(page.locator("table.records tbody").get_by_role("row")).to_have_count(25)
    expect(page.get_by_text("Page 1 · 25 records")).to_be_visible()
    expect(page.get_by_role("link", name="Next")).to_be_visible()  # 40 todos: a second page

    # --- Environment variables: add one for all branches.
    sidebar = page.get_by_role("navigation", name="App Todo app (demo)")
    sidebar.get_by_role("link", name="Environment variables").click()
    expect(page.get_by_role("heading", name="Environment variables", level=1)).to_be_visible()
    page.get_by_label("Name").fill("API_URL")
    page.get_by_label("Value").fill("https://api.example.com")
    expect(page.get_by_label("Branch")).to_have_value("")  # "All branches"
    page.get_by_role("button", name="Save variable").click()
    expect(page.get_by_role("status")).to_have_text("API_URL saved for all branches.")
    api_url = page.get_by_role("row").filter(has=page.get_by_role("cell", name="API_URL", exact=True))
    expect(api_url).to_have_count(1)
    expect(api_url).to_contain_text("https://api.example.com")

    # A reserved name is refused and nothing is added.
    page.get_by_label("Name").fill("AWS_SECRET")
    page.get_by_label("Value").fill("nope")
    page.get_by_role("button", name="Save variable").click()
    expect(page.get_by_role("alert")).to_contain_text("starts with AWS")
    expect(page.get_by_role("cell", name="AWS_SECRET", exact=True)).to_have_count(0)
    assert not demo.environment_variables.filter(name="AWS_SECRET").exists()

    # --- Build settings: a misspelt key is refused with its line; nothing is stored.
    sidebar.get_by_role("link", name="Build settings").click()
    expect(page.get_by_role("heading", name="Build settings", level=1)).to_be_visible()
    spec_box = page.get_by_label("amplify.yml")
    stored = spec_box.input_value()
    assert stored.strip(), "the demo's stored build spec should be shown"
    line = next(n for n, text in enumerate(stored.splitlines(), start=1) if text.startswith("frontend:"))
    spec_box.fill(stored.replace("\nfrontend:", "\nfrontned:"))
    page.get_by_role("button", name="Save build spec").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text(f"line {line}, frontned: unknown key 'frontned'")
    sidebar.get_by_role("link", name="Build settings").click()  # a fresh GET, not a re-POST
    expect(page.get_by_label("amplify.yml")).to_have_value(stored)
    demo.refresh_from_db()
    assert "frontned" not in demo.build_spec

    # --- Connect branch: the repository's branches arrive through htmx.
    sidebar.get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Connect branch").click()
    expect(page.get_by_role("heading", name="Connect a branch")).to_be_visible()
    remote = page.locator("#remote-branches")
    expect(remote.get_by_role("listitem")).to_have_count(2)
    expect(remote.get_by_text("Reading the repository's branches…")).to_have_count(0)
    for name in ("main", "dev"):
        item = remote.get_by_role("listitem").filter(has_text=name)
        expect(item.get_by_text("connected", exact=True)).to_be_visible()

    # --- Audit log: the variable admin added, narrowed with the htmx filters.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    event = page.get_by_role("row").filter(has_text=f"{app_id}/*/API_URL")
    expect(event).to_have_count(1)
    expect(event).to_contain_text("envvar.create")
    expect(event.get_by_role("cell", name="admin", exact=True)).to_be_visible()
    page.get_by_label("Who").select_option("admin")
    page.get_by_label("Action").select_option("envvar.create")
    expect(page).to_have_url(re.compile(r"actor=admin"))
    rows = page.locator("#audit-table tbody").get_by_role("row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("set API_URL for all branches")

    # --- Sandboxes: the team's, seeded with the demo; carol's is stale, dave's failed.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Sandboxes").click()
    expect(page.get_by_role("heading", name="Sandboxes", level=1)).to_be_visible()
    inventory = page.locator("#inventory-table")
    owners = inventory.get_by_role("rowheader")
    expect(owners).to_have_count(6)
    expect(inventory.get_by_role("rowheader", name="alice", exact=True)).to_have_count(2)  # two projects
    carol = inventory.get_by_role("row").filter(has=page.get_by_role("rowheader", name="carol", exact=True))
    expect(carol.locator(".badge.status-stale")).to_have_text("Stale")
    expect(carol).to_contain_text("45 d")
    expect(carol.get_by_role("link", name="Todo app (demo)")).to_be_visible()
    dave = inventory.get_by_role("row").filter(has=page.get_by_role("rowheader", name="dave", exact=True))
    expect(dave.locator(".badge.status-failed")).to_have_text("Failed")
    expect(dave).to_contain_text("UPDATE_ROLLBACK_COMPLETE")
    expect(dave).to_contain_text("The following resource(s) failed to update: [data7552DF31].")
    page.get_by_label("Stale only").check()
    expect(page).to_have_url(re.compile(r"stale=1"))
    expect(owners).to_have_text(["carol"])

    # --- Sign out.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{base}/audit/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_viewer_sees_but_cannot_change(page: Page, live_server: Any, demo: App, viewer_user: Any) -> None:
    base = live_server.url
    sign_in_with_mouse(page, base, viewer_user.username, VIEWER_PASSWORD)

    expect(page.get_by_text("viewer", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Todo app (demo)")).to_be_visible()
    expect(page.get_by_role("link", name="Create app")).to_have_count(0)
    expect(page.get_by_role("button", name="Create app")).to_have_count(0)
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="All apps")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit log")).to_have_count(0)

    page.get_by_role("link", name="Todo app (demo)").click()
    expect(page.get_by_role("heading", name="Todo app (demo)", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="dev", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="Connect branch")).to_have_count(0)
    expect(page.get_by_role("button", name="Connect branch")).to_have_count(0)

    response = page.goto(f"{base}/audit/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("link", name="Back to all apps")).to_be_visible()
