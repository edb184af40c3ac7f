"""The sandbox inventory pages: listing, filtering, exporting, the detail page, and
deleting (one, several, by retention) with the typed confirmation each needs."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks as OnCommit

from apps.branches import services as branch_services
from apps.sandboxes.inventory import refresh_inventory, secret_prefix
from apps.sandboxes.models import InventorySettings, RegionScan, Sandbox
from apps.sandboxes.tests.stacks import SANDBOX_TAGS, deletion_as, deploy_sandbox, set_stack_state
from apps.secrets import ssm
from console.amplify_names import backend_hash, sandbox_stack_name
from console.models import AuditEvent

REGION = "us-east-1"
STACK_STATUSES = {
    "DEPLOYED": "CREATE_COMPLETE",
    "DEPLOYING": "UPDATE_IN_PROGRESS",
    "FAILED": "UPDATE_ROLLBACK_FAILED",
    "DELETING": "DELETE_IN_PROGRESS",
    "DELETED": "DELETE_COMPLETE",
}
# What htmx sends for the filter form and the pager (both target the table).
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "inventory-table"}
LISTED = re.compile(r'<th scope="row"><a href="/sandboxes/\d+/" title="[^"]*">([^<]+)</a></th>')


@pytest.fixture
def scanned(db: None) -> RegionScan:
    """The inventory has been refreshed once (otherwise the page shows its first-run state)."""
    now = timezone.now()
    return RegionScan.objects.create(region=REGION, started_at=now, finished_at=now, succeeded_at=now, sandboxes=0)


def make_row(
    identifier: str,
    *,
    namespace: str = "shop",
    region: str = REGION,
    status: str = "DEPLOYED",
    updated_days_ago: float = 1,
    **fields: Any,
) -> Sandbox:
    """A row as a refresh would store it, without a stack behind it (for pages that read only the database)."""
    digest = backend_hash(namespace, identifier)
    stack_name = f"amplify-{namespace}-{identifier}-sandbox-{digest}"
    now = timezone.now()
    values: dict[str, Any] = {
        "stack_id": f"arn:aws:cloudformation:{region}:123456789012:stack/{stack_name}/{uuid.uuid4()}",
        "stack_name": stack_name,
        "region": region,
        "namespace": namespace,
        "identifier": identifier,
        "backend_hash": digest,
        "status": status,
        "stack_status": STACK_STATUSES[status],
        "created_time": now - timedelta(days=updated_days_ago + 5),
        "last_updated": now - timedelta(days=updated_days_ago),
        "resource_count": 4,
        "deleted_at": now if status == "DELETED" else None,
        **fields,
    }
    deletion = {key: values.pop(key) for key in ("deletion", "deletion_reason") if key in values}
    row = Sandbox.objects.create(**values)
    if deletion:
        deletion_as(row, deletion["deletion"], error=deletion.get("deletion_reason", ""))
    return row


def create_sandbox_stack(package: str, identifier: str, *, outputs: dict[str, str], tags: dict[str, str]) -> None:
    """A sandbox stack with outputs and extra tags (deploy_sandbox makes neither)."""
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=sandbox_stack_name(package, identifier),
        TemplateBody=json.dumps(
            {
                "Resources": {"OrdersTopic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
        ),
        Tags=[{"Key": k, "Value": v} for k, v in {**SANDBOX_TAGS, **tags}.items()],
    )


def deployed(package: str, identifier: str, **state: Any) -> Sandbox:
    """A real (moto) sandbox stack, listed into the inventory."""
    stack_id = deploy_sandbox(package, identifier)
    if state:
        set_stack_state(REGION, stack_id, **state)
    refresh_inventory()
    return Sandbox.objects.get(stack_id=stack_id)


def put_sandbox_secret(sandbox: Sandbox, name: str, value: str) -> None:
    ssm.put_value(secret_prefix(sandbox.namespace, sandbox.identifier, sandbox.backend_hash) + name, value)


def stack_status(stack_id: str) -> str:
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName=stack_id)["Stacks"][0]
    return str(stack["StackStatus"])


def listed(client: Client, query: dict[str, str] | None = None) -> list[str]:
    """The owners in the inventory table, in the order shown."""
    response = client.get("/sandboxes/", query)
    assert response.status_code == 200
    return listed_in(response.content.decode())


def listed_in(page: str) -> list[str]:
    return LISTED.findall(page)


def row_cells(page: str, owner: str) -> list[str]:
    """The text of each cell after the owner in that owner's (only) row."""
    row = section(page, f">{owner}</a></th>", "</tr>")
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def csv_rows(response: StreamingHttpResponse) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(text)))


# The inventory page


def test_the_inventory_lists_each_live_sandbox_with_its_details(viewer_client: Client) -> None:
    alice = deployed("shop", "alice", created_days_ago=30, updated_days_ago=20)
    put_sandbox_secret(alice, "STRIPE_KEY", "sk-live-value")
    put_sandbox_secret(alice, "API_KEY", "api-value")
    deploy_sandbox("blog", "bob", region="eu-west-1", resources=3)
    refresh_inventory([REGION, "eu-west-1"])

    page = viewer_client.get("/sandboxes/").content.decode()

    assert listed_in(page) == ["alice", "bob"]
    created, updated = (f"{timezone.localdate() - timedelta(days=days):%Y-%m-%d}" for days in (30, 20))
    assert row_cells(page, "alice") == [
        "shop",
        REGION,
        "Deployed CREATE_COMPLETE",
        created,
        updated,
        "20 d Stale",
        "1",
        "2",
    ]
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert row_cells(page, "bob") == ["blog", "eu-west-1", "Deployed CREATE_COMPLETE", today, today, "0 d", "3", "0"]
    assert '<span class="badge status-deployed">Deployed</span>' in page
    assert '<span class="badge status-stale">Stale</span>' in page
    assert "sk-live-value" not in page


def test_the_summary_counts_live_sandboxes_by_status_and_by_owner(viewer_client: Client, scanned: RegionScan) -> None:
    make_row("alice", updated_days_ago=30)
    make_row("alice", namespace="blog")
    make_row("bob", status="FAILED")
    make_row("carol", status="DELETED")

    summary = section(viewer_client.get("/sandboxes/").content.decode(), '<section class="summary"', "</section>")

    assert '<span class="stat-n">3</span> live' in summary
    assert '<span class="stat-n">1</span> stale' in summary
    assert '<span class="stat-n">2</span> <span class="badge status-deployed">Deployed</span>' in summary
    assert '<span class="stat-n">1</span> <span class="badge status-failed">Failed</span>' in summary
    assert "status-deploying" not in summary  # statuses nobody is in are left out
    assert '<a href="?owner=alice">alice (2)</a>, <a href="?owner=bob">bob (1)</a>' in summary
    assert "carol" not in summary  # deleted sandboxes are not counted


@pytest.fixture
def varied(scanned: RegionScan) -> None:
    make_row("alice", namespace="shop", updated_days_ago=1)
    make_row("bob", namespace="blog", region="eu-west-1", status="FAILED", updated_days_ago=30)
    make_row("carol", namespace="myapp", status="DEPLOYING", updated_days_ago=2)
    make_row("dave", namespace="shop", status="DELETED", updated_days_ago=60)


@pytest.mark.parametrize(
    ("query", "owners"),
    [
        ({}, ["bob", "carol", "alice"]),  # oldest update first
        ({"status": "FAILED"}, ["bob"]),
        ({"owner": "alice"}, ["alice"]),
        ({"region": "eu-west-1"}, ["bob"]),
        ({"project": "shop"}, ["alice"]),
        ({"stale": "1"}, ["bob"]),
        ({"deleted": "1"}, ["dave", "bob", "carol", "alice"]),
        ({"status": "DELETED"}, ["dave"]),
        ({"q": "CAR"}, ["carol"]),
        ({"q": "blog"}, ["bob"]),
        ({"status": "FAILED", "region": REGION}, []),
    ],
)
def test_filters_narrow_the_list(query: dict[str, str], owners: list[str], viewer_client: Client, varied: None) -> None:
    assert listed(viewer_client, query) == owners


def test_the_app_filter_finds_sandboxes_by_the_apps_package_name(
    viewer_client: Client, varied: None, make_repo: Callable[..., Path]
) -> None:
    app = branch_services.app_create(
        actor=None, name="My App", repository=str(make_repo()), production_branch="main", package_name="my-app"
    )

    page = viewer_client.get("/sandboxes/", {"app": app.app_id}).content.decode()

    assert listed_in(page) == ["carol"]
    assert row_cells(page, "carol")[0] == "myapp My App"
    assert f'<a href="/apps/{app.app_id}/">My App</a>' in page
    assert listed(viewer_client, {"app": "d0000000000000"}) == []


@pytest.mark.parametrize(
    ("sort", "owners"),
    [
        ("owner", ["alice", "bob", "carol"]),
        ("-owner", ["carol", "bob", "alice"]),
        ("project", ["bob", "carol", "alice"]),
        ("-updated", ["alice", "carol", "bob"]),
        ("status", ["alice", "carol", "bob"]),
        ("nonsense", ["bob", "carol", "alice"]),
    ],
)
def test_columns_sort_both_ways(sort: str, owners: list[str], viewer_client: Client, varied: None) -> None:
    assert listed(viewer_client, {"sort": sort}) == owners


def test_a_sorted_column_links_to_the_reverse_order(viewer_client: Client, varied: None) -> None:
    page = viewer_client.get("/sandboxes/", {"sort": "owner", "region": REGION}).content.decode()
    assert '<th scope="col" aria-sort="ascending"><a href="?region=us-east-1&amp;sort=-owner">Owner ▲</a></th>' in page
    assert '<a href="?region=us-east-1&amp;sort=project">Project</a>' in page

    page = viewer_client.get("/sandboxes/", {"sort": "-owner"}).content.decode()
    assert '<th scope="col" aria-sort="descending"><a href="?sort=owner">Owner ▼</a></th>' in page


@pytest.fixture
def thirty(scanned: RegionScan) -> list[str]:
    owners = [f"user{n:02d}" for n in range(30)]
    for n, owner in enumerate(owners):
        make_row(owner, updated_days_ago=100 - n)
    return owners


def test_pages_hold_25_by_default_and_page_2_the_rest(viewer_client: Client, thirty: list[str]) -> None:
    first = viewer_client.get("/sandboxes/").content.decode()

    assert listed_in(first) == thirty[:25]
    assert listed(viewer_client, {"page": "2"}) == thirty[25:]
    assert "Page 1 of 2 · 30 sandboxes" in first
    assert 'href="?sort=updated&page=2" hx-get="?sort=updated&page=2" hx-target="#inventory-table"' in first


@pytest.mark.parametrize(("per_page", "shown"), [("25", 25), ("50", 30), ("100", 30), ("7", 25), ("many", 25)])
def test_the_page_size_can_be_chosen(per_page: str, shown: int, viewer_client: Client, thirty: list[str]) -> None:
    assert listed(viewer_client, {"per_page": per_page}) == thirty[:shown]


def test_an_htmx_request_for_the_table_gets_only_the_table(viewer_client: Client, varied: None) -> None:
    response = viewer_client.get("/sandboxes/", {"status": "FAILED"}, headers=HTMX_TABLE)
    body = response.content.decode()

    assert listed_in(body) == ["bob"]
    assert body.lstrip().startswith('<form method="post" action="/sandboxes/delete/"')
    assert "<html" not in body
    assert 'class="summary"' not in body
    # The filters (and the pager, in test_pages_hold_25_...) target the table, so they do receive it alone.
    page = viewer_client.get("/sandboxes/").content.decode()
    assert '<form method="get" class="filters" hx-get="/sandboxes/" hx-target="#inventory-table"' in page
    assert '<div id="inventory-table">' in page


def test_the_refresh_poll_gets_the_region_line_it_selects(viewer_client: Client, scanned: RegionScan) -> None:
    """The region line polls the whole page and keeps its own part (hx-select), so it must not get the table alone."""
    RegionScan.objects.filter(pk=scanned.pk).update(started_at=timezone.now())  # a refresh under way
    first = viewer_client.get("/sandboxes/").content.decode()
    assert 'hx-trigger="every 3s" hx-select=".region-scans"' in first

    poll = viewer_client.get("/sandboxes/", headers={"HX-Request": "true"}).content.decode()

    assert '<div class="region-scans"' in poll
    assert "Refreshing…" in poll


def test_before_the_first_refresh_the_page_says_so(operator_client: Client, db: None) -> None:
    page = operator_client.get("/sandboxes/").content.decode()
    assert "No inventory yet" in page
    assert "Refresh now" in page


def test_a_filter_matching_nothing_says_so(viewer_client: Client, varied: None) -> None:
    page = viewer_client.get("/sandboxes/", {"owner": "zed"}).content.decode()
    assert "No sandboxes match these filters." in page
    assert "<tbody>" not in page


def test_a_region_that_failed_to_list_shows_its_error(viewer_client: Client, scanned: RegionScan) -> None:
    RegionScan.objects.create(
        region="eu-west-1",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error="Access denied for cloudformation:DescribeStacks in eu-west-1.",
    )
    page = viewer_client.get("/sandboxes/").content.decode()
    assert "<strong>eu-west-1:</strong> Access denied for cloudformation:DescribeStacks in eu-west-1." in page
    assert "No sandboxes of this region are listed." in page


# The CSV export


def test_the_export_streams_every_filtered_row_across_pages(viewer_client: Client, thirty: list[str]) -> None:
    make_row("other", region="eu-west-1")

    response = viewer_client.get("/sandboxes/export.csv", {"region": REGION, "page": "1"})

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="sandboxes-')
    header, *rows = csv_rows(response)  # type: ignore[arg-type]
    assert header[:6] == ["stack_name", "namespace", "identifier", "app_id", "region", "status"]
    assert [row[2] for row in rows] == thirty
    assert rows[0][header.index("stale")] == "True"
    assert rows[0][header.index("resources")] == "4"


def test_the_export_link_follows_filters_applied_in_place(viewer_client: Client, varied: None) -> None:
    table = viewer_client.get("/sandboxes/", {"owner": "bob"}, headers=HTMX_TABLE).content.decode()
    link = re.search(r'<a class="button" href="([^"]+)">Export CSV</a>', table)
    assert link is not None
    assert link.group(1) == "/sandboxes/export.csv?owner=bob&amp;sort=updated"

    header, *rows = csv_rows(viewer_client.get(link.group(1).replace("&amp;", "&")))  # type: ignore[arg-type]
    assert [row[header.index("identifier")] for row in rows] == ["bob"]


# The detail page


def test_the_detail_page_shows_resources_outputs_tags_events_and_secret_names(viewer_client: Client, db: None) -> None:
    create_sandbox_stack("shop", "alice", outputs={"GraphqlUrl": "https://api.example.com/graphql"}, tags={"team": "payments"})
    refresh_inventory()
    sandbox = Sandbox.objects.get()
    put_sandbox_secret(sandbox, "STRIPE_KEY", "sk-live-do-not-show")

    page = viewer_client.get(f"/sandboxes/{sandbox.pk}/").content.decode()

    assert "OrdersTopic" in page
    assert "AWS::SNS::Topic" in page
    assert "<code>GraphqlUrl</code>" in page
    assert "https://api.example.com/graphql" in page
    assert "<td><code>team</code></td><td>payments</td>" in page
    assert "<td><code>amplify:deployment-type</code></td><td>sandbox</td>" in page
    assert "CREATE_COMPLETE" in page
    assert "User Initiated" in page  # the stack's events
    assert "<code>STRIPE_KEY</code>" in page
    assert f"<code>/amplify/shop/alice-sandbox-{sandbox.backend_hash}/</code>" in page
    assert "sk-live-do-not-show" not in page
    assert "Delete this sandbox" not in page  # viewers see no delete form


def test_an_unknown_sandbox_is_404(viewer_client: Client, db: None) -> None:
    assert viewer_client.get("/sandboxes/999/").status_code == 404
    assert viewer_client.get("/sandboxes/999/status/").status_code == 404


# Deleting one


def test_a_wrong_stack_name_deletes_nothing(admin_client: Client, django_capture_on_commit_callbacks: OnCommit) -> None:
    sandbox = deployed("shop", "alice")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(f"/sandboxes/{sandbox.pk}/delete/", {"confirm_name": "amplify-shop-alice"}, follow=True)

    assert callbacks == []
    page = response.content.decode()
    assert f"Type the stack name {sandbox.stack_name} exactly to delete this sandbox. Nothing was deleted." in page
    sandbox.refresh_from_db()
    assert (sandbox.status, sandbox.deletion_status) == ("DEPLOYED", "")
    assert stack_status(sandbox.stack_id) == "CREATE_COMPLETE"
    assert not AuditEvent.objects.filter(action="sandbox.delete").exists()


def test_the_exact_stack_name_deletes_the_sandbox_and_audits_it(
    admin_client: Client, django_capture_on_commit_callbacks: OnCommit
) -> None:
    sandbox = deployed("shop", "alice")
    put_sandbox_secret(sandbox, "STRIPE_KEY", "sk-live-value")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/sandboxes/{sandbox.pk}/delete/", {"confirm_name": sandbox.stack_name, "with_secrets": "on"}, follow=True
        )

    assert f"Deleting {sandbox.stack_name} and its secrets." in response.content.decode()
    sandbox.refresh_from_db()
    assert (sandbox.status, sandbox.deletion_status, sandbox.deleted_by_name) == ("DELETED", "SUCCEEDED", "ada")
    assert stack_status(sandbox.stack_id) == "DELETE_COMPLETE"
    assert ssm.get_value(secret_prefix("shop", "alice", sandbox.backend_hash) + "STRIPE_KEY") is None
    event = AuditEvent.objects.get(action="sandbox.delete")
    assert (event.actor_name, event.target) == ("ada", f"{REGION}/{sandbox.stack_name}")
    assert AuditEvent.objects.filter(action="sandbox.deleted").exists()
    page = admin_client.get(f"/sandboxes/{sandbox.pk}/").content.decode()
    assert "Delete this sandbox" not in page
    assert "The sandbox is deleted." in page


# Deleting several


def test_bulk_delete_with_the_right_count_deletes_exactly_the_selected(
    admin_client: Client, django_capture_on_commit_callbacks: OnCommit
) -> None:
    alice, bob, carol = (deployed("shop", owner) for owner in ("alice", "bob", "carol"))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/sandboxes/delete/",
            {"ids": [alice.pk, carol.pk], "confirm": " Delete 2 ", "return_query": "owner=alice"},
        )

    assert response["Location"] == "/sandboxes/?owner=alice"
    statuses = dict(Sandbox.objects.values_list("identifier", "status"))
    assert statuses == {"alice": "DELETED", "bob": "DEPLOYED", "carol": "DELETED"}
    assert [stack_status(s.stack_id) for s in (alice, bob, carol)] == ["DELETE_COMPLETE", "CREATE_COMPLETE", "DELETE_COMPLETE"]
    targets = set(AuditEvent.objects.filter(action="sandbox.delete").values_list("target", flat=True))
    assert targets == {f"{REGION}/{alice.stack_name}", f"{REGION}/{carol.stack_name}"}


@pytest.mark.parametrize("confirm", ["delete 3", "delete 1", "delete", ""])
def test_bulk_delete_with_a_wrong_count_deletes_nothing(
    confirm: str, admin_client: Client, django_capture_on_commit_callbacks: OnCommit, scanned: RegionScan
) -> None:
    alice, bob = make_row("alice"), make_row("bob")
    before = list(Sandbox.objects.values())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post("/sandboxes/delete/", {"ids": [alice.pk, bob.pk], "confirm": confirm}, follow=True)

    assert callbacks == []
    assert "Type “delete 2” to delete the 2 selected sandboxes. Nothing was deleted." in response.content.decode()
    assert list(Sandbox.objects.values()) == before
    assert not AuditEvent.objects.filter(action="sandbox.delete").exists()


def test_bulk_delete_with_nothing_selected_asks_for_a_selection(admin_client: Client, scanned: RegionScan) -> None:
    make_row("alice")
    response = admin_client.post("/sandboxes/delete/", {"confirm": "delete 0"}, follow=True)
    assert "Select the sandboxes to delete first." in response.content.decode()
    assert not AuditEvent.objects.filter(action="sandbox.delete").exists()


def test_viewers_see_no_delete_controls(viewer_client: Client, varied: None) -> None:
    page = viewer_client.get("/sandboxes/").content.decode()
    assert 'name="ids"' not in page
    assert "Delete selected" not in page
    assert "Retention dry run" not in page


def test_admins_can_select_live_sandboxes_only(admin_client: Client, varied: None) -> None:
    page = admin_client.get("/sandboxes/", {"deleted": "1"}).content.decode()
    assert page.count('type="checkbox" name="ids"') == 3  # not dave's deleted one
    assert "Delete selected" in page


# Settings and retention


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("stale_after_days", "0", "Stale after (days without an update)"),
        ("stale_after_days", "5000", "Stale after (days without an update)"),
        ("retention_days", "0", "Retention period (days)"),
        ("retention_days", "5000", "Retention period (days)"),
    ],
)
def test_settings_out_of_range_are_refused(field: str, value: str, label: str, admin_client: Client, db: None) -> None:
    InventorySettings.load()
    before = list(InventorySettings.objects.values())
    data = {"stale_after_days": "7", "retention_enabled": "on", "retention_days": "60", field: value}

    response = admin_client.post("/sandboxes/settings/", data, follow=True)

    assert f"{label}: Enter a number of days from 1 to 3650." in response.content.decode()
    assert list(InventorySettings.objects.values()) == before
    assert not AuditEvent.objects.filter(action="sandbox.settings").exists()


def test_settings_are_saved_and_audited(admin_client: Client, varied: None) -> None:
    response = admin_client.post(
        "/sandboxes/settings/", {"stale_after_days": "1", "retention_days": "60", "retention_enabled": "on"}, follow=True
    )

    assert "Inventory settings saved." in response.content.decode()
    policy = InventorySettings.load()
    assert (policy.stale_after_days, policy.retention_enabled, policy.retention_days) == (1, True, 60)
    event = AuditEvent.objects.get(action="sandbox.settings")
    assert event.detail == {"stale_after_days": 1, "retention_enabled": True, "retention_days": 60}
    assert listed(admin_client, {"stale": "1"}) == ["bob", "carol", "alice"]


def test_the_retention_dry_run_lists_the_idle_sandboxes(admin_client: Client, varied: None) -> None:
    page = admin_client.get("/sandboxes/").content.decode()

    dry_run = section(page, "Retention dry run", "</section>")
    assert "1 sandbox idle for more than 30 days would be deleted if retention were on" in dry_run
    assert "amplify-blog-bob-sandbox-" in dry_run
    assert "alice" not in dry_run
    assert "carol" not in dry_run
    assert "dave" not in dry_run
    assert "Type <code>delete 1</code>" in dry_run


def test_the_retention_run_deletes_what_the_dry_run_lists(
    admin_client: Client, django_capture_on_commit_callbacks: OnCommit
) -> None:
    old = deployed("shop", "alice", updated_days_ago=45)
    older = deployed("blog", "bob", updated_days_ago=90)
    fresh = deployed("shop", "carol", updated_days_ago=3)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = admin_client.post("/sandboxes/retention/run/", {"confirm": "delete 3"}, follow=True)
    assert callbacks == []
    assert "Type “delete 2” to delete the sandboxes listed by the retention policy. Nothing was deleted." in (
        refused.content.decode()
    )
    assert set(Sandbox.objects.values_list("status", flat=True)) == {"DEPLOYED"}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/sandboxes/retention/run/", {"confirm": "delete 2"}, follow=True)

    assert "Deleting 2 idle sandboxes." in response.content.decode()
    statuses = {s.identifier: s.status for s in Sandbox.objects.all()}
    assert statuses == {"alice": "DELETED", "bob": "DELETED", "carol": "DEPLOYED"}
    assert [stack_status(s.stack_id) for s in (old, older, fresh)] == ["DELETE_COMPLETE", "DELETE_COMPLETE", "CREATE_COMPLETE"]
    events = AuditEvent.objects.filter(action="sandbox.delete")
    assert sorted(events.values_list("target", flat=True)) == [f"{REGION}/{older.stack_name}", f"{REGION}/{old.stack_name}"]
    assert set(events.values_list("actor_name", "message")) == {("ada", "retention policy: idle for more than 30 days")}


# The status cell


def test_the_status_cell_polls_only_while_a_deletion_is_under_way(viewer_client: Client, scanned: RegionScan) -> None:
    deleting = make_row("alice", deletion="RUNNING", status="DELETING")
    requested = make_row("bob", deletion="PENDING")
    failed = make_row("carol", deletion="FAILED", deletion_reason="Resource is in use")
    done = make_row("dave", status="DELETED", deletion="SUCCEEDED", deleted_by_name="ada")
    polls = 'hx-trigger="every 2s"'

    running = viewer_client.get(f"/sandboxes/{deleting.pk}/status/").content.decode()
    assert polls in running
    assert f'hx-get="/sandboxes/{deleting.pk}/status/"' in running
    assert "Deleting…" in running
    assert polls in viewer_client.get(f"/sandboxes/{requested.pk}/status/").content.decode()
    stopped = viewer_client.get(f"/sandboxes/{failed.pk}/status/").content.decode()
    assert polls not in stopped
    assert "Delete failed: Resource is in use" in stopped
    finished = viewer_client.get(f"/sandboxes/{done.pk}/status/").content.decode()
    assert polls not in finished
    assert "by ada" in finished

    page = viewer_client.get("/sandboxes/", {"deleted": "1"}).content.decode()
    assert page.count(polls) == 2


def test_a_row_being_deleted_polls_for_itself_and_loses_its_stale_badge_when_done(
    viewer_client: Client, scanned: RegionScan
) -> None:
    row = make_row("alice", deletion="RUNNING", status="DELETING", updated_days_ago=90, resource_count=4)

    running = viewer_client.get(f"/sandboxes/{row.pk}/status/", {"row": "1"}).content.decode()
    assert running.startswith(f'<tr id="sandbox-{row.pk}"')
    assert f'hx-get="/sandboxes/{row.pk}/status/?row=1"' in running
    assert running.count('hx-trigger="every 2s"') == 1  # the row polls, its status cell does not
    assert "Stale" in running

    Sandbox.objects.filter(pk=row.pk).update(status="DELETED", resource_count=0, deleted_by_name="ada")
    deletion_as(row, "SUCCEEDED")
    done = viewer_client.get(f"/sandboxes/{row.pk}/status/", {"row": "1"}).content.decode()
    assert "every 2s" not in done
    assert "Stale" not in done
    assert "Deleted" in done
    assert "by ada" in done


def test_the_typed_count_leaves_out_sandboxes_already_being_deleted(admin_client: Client, scanned: RegionScan) -> None:
    free = make_row("alice")
    busy = make_row("bob", deletion="RUNNING", status="DELETING")

    response = admin_client.post("/sandboxes/delete/", {"ids": [free.pk, busy.pk], "confirm": "delete 2"}, follow=True)

    assert "Type “delete 1”" in response.content.decode()
    assert Sandbox.objects.get(pk=free.pk).deletion_status == ""


# Text from AWS (and from the query) is escaped


def test_hostile_stack_text_is_escaped(admin_client: Client) -> None:
    script = "<script>alert(1)</script>"
    sandbox = deployed("shop", "alice", status="UPDATE_ROLLBACK_FAILED", reason=f"Rollback {script}")
    deletion_as(sandbox, "FAILED", error=f"Could not {script}")
    create_sandbox_stack("blog", "bob", outputs={"Note": f"Out {script}"}, tags={"note": f"Tag {script}"})
    refresh_inventory()
    bob = Sandbox.objects.get(identifier="bob")

    pages = [
        admin_client.get("/sandboxes/").content.decode(),
        admin_client.get("/sandboxes/", {"q": f'"><{script}'}).content.decode(),
        admin_client.get(f"/sandboxes/{sandbox.pk}/").content.decode(),
        admin_client.get(f"/sandboxes/{sandbox.pk}/status/").content.decode(),
        admin_client.get(f"/sandboxes/{bob.pk}/").content.decode(),
    ]

    for page in pages:
        assert "<script>alert" not in page
    assert "Rollback &lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "Could not &lt;script&gt;alert(1)&lt;/script&gt;" in pages[3]
    assert "&quot;&gt;&lt;&lt;script&gt;" in pages[1]
    assert "Out &lt;script&gt;alert(1)&lt;/script&gt;" in pages[4]
    assert "Tag &lt;script&gt;alert(1)&lt;/script&gt;" in pages[4]
