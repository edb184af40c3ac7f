"""The demo's sandboxes, seeded into a real moto server (the emulator `make run`
starts): they fill the inventory at once, one stale and one failed, attributed
to the demo app; seeding again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client

from apps.branches.models import App
from apps.demo.seed import DEMO_APP_NAME, FAILED_REASON, ensure_sandboxes, seed_demo
from apps.sandboxes import selectors
from apps.sandboxes.models import InventorySettings, Sandbox
from apps.secrets import ssm
from apps.secrets.scopes import Scope
from console.aws import clear_client_cache
from console.emulator import Emulator

pytestmark = pytest.mark.emulator

OTHER_REGION = "eu-west-1"


@pytest.fixture
def on_emulator(emulator: Emulator, settings: Any, tmp_path: Path) -> Iterator[Emulator]:
    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    settings.AWS_REGION = "us-east-1"
    settings.AWS_REGIONS = ["us-east-1", OTHER_REGION]
    settings.VAR_DIR = tmp_path
    clear_client_cache()
    yield emulator
    clear_client_cache()


def live(query: str = "") -> list[tuple[str, str]]:
    filters = selectors.InventoryFilters.from_query(QueryDict(query))
    rows = selectors.filtered_sandboxes(filters, InventorySettings.load()).order_by("namespace", "identifier")
    return [(row.namespace, row.identifier) for row in rows]


def test_demo_sandboxes_fill_the_inventory_with_one_stale_and_one_failed(db: None, on_emulator: Emulator, settings: Any) -> None:
    seed_demo(build=False, say=lambda _: None)  # the admin and the app (package todo-app); no builds
    said: list[str] = []
    ensure_sandboxes(said.append)

    assert live() == [
        ("billingservice", "alice"), ("billingservice", "erin"),
        ("todoapp", "alice"), ("todoapp", "bob"), ("todoapp", "carol"), ("todoapp", "dave"),
    ]  # fmt: skip
    assert live("stale=1") == [("todoapp", "carol")]
    assert live("status=FAILED") == [("todoapp", "dave")]
    assert ("todoapp", "carol") in live("status=DEPLOYED")  # stale, but deployed
    assert ("todoapp", "dave") not in live("status=DEPLOYED")
    assert live(f"region={OTHER_REGION}") == [("billingservice", "alice"), ("todoapp", "bob")]

    rows = {(row.namespace, row.identifier): row for row in Sandbox.objects.all()}
    carol, dave = rows["todoapp", "carol"], rows["todoapp", "dave"]
    assert carol.idle_days() == 45
    assert carol.created_time is not None
    assert carol.last_updated is not None
    assert (carol.last_updated - carol.created_time).days == 15
    assert (dave.stack_status, dave.status_reason) == ("UPDATE_ROLLBACK_COMPLETE", FAILED_REASON)
    assert dave.idle_days() == 1
    # Two nested stacks (data, storage) in each root stack; secrets where the demo put them.
    assert {row.resource_count for row in rows.values()} == {2}
    secrets = {key: row.secret_count for key, row in rows.items() if row.secret_count}
    assert secrets == {("todoapp", "alice"): 2, ("todoapp", "dave"): 1}
    assert ssm.get_value(Scope.sandbox("todo-app", "alice").path("STRIPE_KEY")) == "sk_test_alice"
    # The app's sandboxes are attributed to it; the other project's to no app.
    app = App.objects.get(name=DEMO_APP_NAME)
    apps = selectors.apps_by_namespace()
    assert {key for key, row in rows.items() if selectors.app_of(row, apps) == app} == {
        ("todoapp", "alice"), ("todoapp", "bob"), ("todoapp", "carol"), ("todoapp", "dave"),
    }  # fmt: skip
    assert live(f"app={app.app_id}") == [("todoapp", "alice"), ("todoapp", "bob"), ("todoapp", "carol"), ("todoapp", "dave")]
    assert said[0] == (
        "demo sandboxes deployed: todo-app/alice (us-east-1), todo-app/bob (eu-west-1), todo-app/carol (us-east-1), "
        "todo-app/dave (us-east-1), billing-service/alice (eu-west-1), billing-service/erin (us-east-1)"
    )
    assert said[1:] == ["sandbox inventory refreshed: 6 new, 0 updated, 0 gone"]

    # Seeding again deploys nothing and leaves every state as it was.
    before = {key: (row.stack_id, row.stack_status, row.last_updated) for key, row in rows.items()}
    said.clear()
    ensure_sandboxes(said.append)
    after = {(r.namespace, r.identifier): (r.stack_id, r.stack_status, r.last_updated) for r in Sandbox.objects.all()}
    assert after == before
    assert said == ["sandbox inventory refreshed: 0 new, 0 updated, 0 gone"]
    assert [info.version for info in ssm.list_parameters(Scope.sandbox("todo-app", "alice").prefix)] == [1, 1]


def test_a_demo_sandbox_page_shows_its_nested_stacks_secrets_and_failure(
    db: None, on_emulator: Emulator, admin_client: Client
) -> None:
    seed_demo(build=False, say=lambda _: None)
    ensure_sandboxes(lambda _: None)
    dave = Sandbox.objects.get(namespace="todoapp", identifier="dave")

    page = admin_client.get(f"/sandboxes/{dave.pk}/").content.decode()

    assert "UPDATE_ROLLBACK_COMPLETE" in page
    assert "failed to update: [data7552DF31]" in page
    for logical_id in ("data7552DF31", "storage0EC3F24A"):
        assert f"{logical_id}</td>" in page
    for nested in ("TodoChangesTopic", "TodoChangesQueue", "amplifyStorageBucket"):
        assert f'<span class="muted" aria-label="nested">↳</span> {nested}</td>' in page
    assert "<code>API_KEY</code>" in page
    assert "<code>amplify:deployment-type</code></td><td>sandbox</td>" in page


def test_an_older_demo_app_gets_its_package_name(db: None, on_emulator: Emulator) -> None:
    seed_demo(build=False, say=lambda _: None)
    App.objects.update(package_name="")
    seed_demo(build=False, say=lambda _: None)
    assert App.objects.get().package_name == "todo-app"
    App.objects.update(package_name="renamed-by-someone")
    seed_demo(build=False, say=lambda _: None)
    assert App.objects.get().package_name == "renamed-by-someone"
