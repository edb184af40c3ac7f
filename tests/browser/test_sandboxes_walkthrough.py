"""Clean up stale sandboxes in real Chromium as a team lead would: filter the
inventory to the stale ones (htmx), pick two, confirm by typing `delete 2`, and
watch their status cells turn to Deleted without reloading the page.

The sandboxes are real stacks on the emulator, aged through its stack-state hook.
Deletion runs on a real Celery worker process, as in the build walkthrough; the
worker starts only once the page shows the deletions requested, so the page is
seen polling work that has not happened yet rather than a race it may win.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from apps.sandboxes.inventory import refresh_inventory
from apps.sandboxes.models import Sandbox
from console.amplify_names import sandbox_stack_name
from console.emulator import EMULATOR_CREDENTIALS, Emulator
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

PROJECT = "shop-web"
STALE = {"carol": 40, "dave": 60, "erin": 90}  # owner: days since the last update
FRESH = ("alice", "bob")
TO_DELETE = ("carol", "erin")
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Queue": {"Type": "AWS::SQS::Queue"}}})
SANDBOX_TAGS = [{"Key": "created-by", "Value": "amplify"}, {"Key": "amplify:deployment-type", "Value": "sandbox"}]
PASSWORD = "correct-horse-battery"  # the root conftest's, for its admin_user
WORKER_TIMEOUT_MS = 90_000  # the worker's start-up, one task each, and a 2 s poll


@pytest.fixture
def sandboxes(emulator: Emulator, settings: Any, transactional_db: None) -> Iterator[dict[str, Sandbox]]:
    """Five sandboxes of one project on the emulator, three of them stale; in the inventory."""
    from console.aws import clear_client_cache

    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    region = settings.AWS_REGION
    cloudformation = boto3.client("cloudformation", endpoint_url=emulator.endpoint_url, region_name=region, **credentials())
    for owner in (*FRESH, *STALE):
        name = sandbox_stack_name(PROJECT, owner)
        cloudformation.create_stack(StackName=name, TemplateBody=TEMPLATE, Tags=SANDBOX_TAGS)
        if owner in STALE:
            emulator.set_stack_state(region=region, stack_name=name, created_days_ago=120, updated_days_ago=STALE[owner])
    refresh_inventory([region])
    try:
        yield {row.identifier: row for row in Sandbox.objects.all()}
    finally:
        clear_client_cache()


def credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


@pytest.fixture
def start_worker_later(emulator: Emulator, transactional_db: None, tmp_path: Path) -> Iterator[Callable[[], Path]]:
    """From now on tasks go to the broker instead of running eagerly; calling the result
    starts a real worker on the test database and the emulator (the root conftest's
    `live_worker`, started on demand) and returns the path of its log."""
    from django.db import connection

    from console.celery import app as celery_app
    from console.worker_process import database_url, start_worker, stop_worker

    log_path = tmp_path / "worker.log"
    processes: list[subprocess.Popen[Any]] = []

    def start() -> Path:
        env = {
            "DJANGO_SETTINGS_MODULE": "console.settings_test",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DATABASE_URL": database_url(connection.settings_dict),
            "AWS_ENDPOINT_URL": emulator.endpoint_url,
        }
        with log_path.open("w") as log:  # the child keeps its own copy of the descriptor
            processes.append(start_worker(env, "--pool", "prefork", "--concurrency", "2", name="sandbox-worker", stdout=log))
        return log_path

    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = True
        for process in processes:
            stop_worker(process)


def test_team_lead_deletes_two_stale_sandboxes_and_watches_them_go(
    page: Page,
    live_server: Any,
    sandboxes: dict[str, Sandbox],
    start_worker_later: Callable[[], Path],
    admin_user: Any,
    emulator: Emulator,
    settings: Any,
) -> None:
    base = live_server.url
    sign_in(page, base, admin_user.username, PASSWORD)

    # --- The inventory: all five, three marked stale.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Sandboxes").click()
    expect(page.get_by_role("heading", name="Sandboxes", level=1)).to_be_visible()
    inventory = page.locator("#inventory-table")
    owners = inventory.get_by_role("rowheader")
    expect(owners).to_have_count(5)
    expect(inventory.locator(".badge.status-stale")).to_have_count(3)

    # --- Stale only: htmx swaps the table in place and keeps the filter in the URL.
    page.evaluate("() => { window.__sameDocument = 'inventory'; }")
    page.get_by_label("Stale only").check()
    expect(page).to_have_url(re.compile(r"[?&]stale=1"))
    # Oldest first (the default sort): erin 90 days, dave 60, carol 40.
    expect(owners).to_have_text(["erin", "dave", "carol"])
    expect(inventory.locator(".badge.status-stale")).to_have_count(3)
    assert page.evaluate("() => window.__sameDocument") == "inventory", "the filter reloaded the page"

    # --- Pick two, confirm with the typed count, delete.
    for owner in TO_DELETE:
        page.get_by_label(f"Select {sandboxes[owner].stack_name}", exact=True).check()
    page.get_by_role("textbox", name=re.compile(r"^Type delete N")).fill("delete 2")
    page.get_by_role("button", name="Delete selected").click()
    expect(page.locator("#messages").get_by_role("status")).to_have_text("Deleting 2 sandboxes.")
    expect(page).to_have_url(re.compile(r"[?&]stale=1"))
    expect(page.get_by_label("Stale only")).to_be_checked()
    expect(owners).to_have_text(["erin", "dave", "carol"])

    def status_cell(owner: str) -> Any:
        return page.locator(f"#status-{sandboxes[owner].pk}")

    # Requested, not yet carried out: no worker runs, the stacks are still there.
    for owner in TO_DELETE:
        expect(status_cell(owner).get_by_role("status")).to_have_text(re.compile(r"^Delete requested\b"))
        expect(page.get_by_label(f"Select {sandboxes[owner].stack_name}", exact=True)).to_have_count(0)
    expect(status_cell("dave")).not_to_contain_text("Delete")
    cloudformation = boto3.client(
        "cloudformation", endpoint_url=emulator.endpoint_url, region_name=settings.AWS_REGION, **credentials()
    )
    live_stacks = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert {sandboxes[owner].stack_name for owner in TO_DELETE} <= live_stacks
    assert set(Sandbox.objects.filter(identifier__in=TO_DELETE).values_list("deletion__status", flat=True)) == {"PENDING"}

    # --- The worker starts; the cells poll every 2 s and turn to Deleted in place.
    page.evaluate("() => { window.__sameDocument = 'deleting'; }")
    worker_log = start_worker_later()
    for owner in TO_DELETE:
        cell = status_cell(owner)
        try:
            expect(cell.locator(".badge")).to_have_text("Deleted", timeout=WORKER_TIMEOUT_MS)
        except AssertionError as error:
            raise AssertionError(f"{error}\nworker log:\n{worker_log.read_text()[-4000:]}") from None
        expect(cell).to_contain_text("DELETE_COMPLETE")
        expect(cell).to_contain_text(re.compile(rf"Deleted \d{{4}}-\d\d-\d\d \d\d:\d\d by {admin_user.username}"))
    expect(status_cell("dave").locator(".badge")).to_have_text("Deployed")
    assert page.evaluate("() => window.__sameDocument") == "deleting", "the page reloaded instead of polling"

    # --- The database and the emulator agree: two deleted, the other three untouched.
    rows = {row.identifier: row for row in Sandbox.objects.all()}
    for owner in TO_DELETE:
        row = rows[owner]
        assert (row.status, row.stack_status, row.deletion_status) == ("DELETED", "DELETE_COMPLETE", "SUCCEEDED"), owner
        assert (row.deleted_by_id, row.deleted_at is not None) == (admin_user.pk, True), owner
    for owner in ("alice", "bob", "dave"):
        row, before = rows[owner], sandboxes[owner]
        assert (row.status, row.stack_status, row.deletion_status) == ("DEPLOYED", "CREATE_COMPLETE", ""), owner
        assert (row.last_updated, row.deleted_at) == (before.last_updated, None), owner
    live_stacks = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert live_stacks == {sandboxes[owner].stack_name for owner in ("alice", "bob", "dave")}

    # --- Reloaded, the stale list holds only dave; the deleted two show with "Include deleted".
    page.reload()
    expect(owners).to_have_text(["dave"])
    page.get_by_label("Include deleted").check()
    expect(page).to_have_url(re.compile(r"[?&]deleted=1"))
    expect(owners).to_have_count(1)  # deleted ones are not stale: stale counts live sandboxes only
    page.get_by_label("Stale only").uncheck()
    expect(owners).to_have_count(5)
    expect(inventory.locator(".badge.status-deleted")).to_have_count(2)
