"""`manage.py sandboxes list|delete`: what scripts read and do, region by region."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from django.core.management import CommandError, call_command

from apps.branches.models import App
from apps.sandboxes import deletion
from apps.sandboxes.models import RegionScan, Sandbox, SandboxDeletion
from apps.sandboxes.tests.stacks import deploy_sandbox, deploy_stack, moto_stack, set_stack_state
from apps.sandboxes.tests.test_inventory import SharedClients, answer_with_error, share_clients
from apps.secrets import ssm
from apps.secrets.scopes import Scope
from console.amplify_names import branch_stack_name, sandbox_stack_name
from console.models import AuditEvent

pytestmark = pytest.mark.django_db

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
ALICE = sandbox_stack_name("my-next-app", "alice")
BOB = sandbox_stack_name("billing", "bob")


@pytest.fixture(autouse=True)
def clients(monkeypatch: pytest.MonkeyPatch) -> SharedClients:
    return share_clients(monkeypatch)


@pytest.fixture(autouse=True)
def regions(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST, WEST]
    settings.SANDBOX_DELETE_POLL_SECONDS = 0.01


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sandboxes", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[str, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("sandboxes", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), str(raised.value)


def listed(*args: str) -> list[dict[str, Any]]:
    out, _ = run("list", "--json", *args)
    records = json.loads(out)
    assert isinstance(records, list)
    return records


def stack_status(region: str, stack_id: str) -> str:
    return str(moto_stack(region, stack_id).status)


def secret_paths() -> set[str]:
    return {info.path for info in ssm.list_parameters("/amplify", recursive=True, region=EAST)}


def test_list_json_gives_every_live_sandbox_with_its_fields() -> None:
    alice = deploy_sandbox("my-next-app", "alice", region=EAST, resources=3)
    set_stack_state(EAST, alice, created_days_ago=10, updated_days_ago=2)
    bob = deploy_sandbox("billing", "bob", region=WEST)
    set_stack_state(WEST, bob, status="UPDATE_ROLLBACK_COMPLETE", reason="broke", created_days_ago=20)
    gone = deploy_sandbox("my-next-app", "carol", region=EAST)
    deploy_stack(branch_stack_name("d1a2b3c4d5e6f7", "main"), region=EAST, tags={"amplify:deployment-type": "branch"})
    ssm.put_value(Scope.sandbox("my-next-app", "alice").path("API_KEY"), "v")
    App.objects.create(app_id="d1a2b3c4d5e6f7", name="Shop", repository="https://example.com/shop.git",
                       production_branch="main", package_name="my-next-app")  # fmt: skip
    listed()
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=gone)

    records = listed()

    assert [(r["region"], r["stack_name"]) for r in records] == [(EAST, ALICE), (WEST, BOB)]
    first, second = records
    alice_updated = moto_stack(EAST, alice).last_updated_time
    assert first == {
        "stack_name": ALICE,
        "namespace": "mynextapp",
        "identifier": "alice",
        "region": EAST,
        "status": "DEPLOYED",
        "stack_status": "CREATE_COMPLETE",
        "last_updated": first["last_updated"],
        "created": first["created"],
        "idle_days": 2,
        "stale": False,
        "resources": 3,
        "secrets": 1,
        "app_id": "d1a2b3c4d5e6f7",
        "stack_id": alice,
    }
    assert first["last_updated"].startswith(alice_updated.isoformat(timespec="seconds"))
    assert first["last_updated"] == Sandbox.objects.get(stack_id=alice).last_updated.isoformat()  # type: ignore[union-attr]
    assert second["stack_name"] == BOB
    assert second["namespace"] == "billing"
    assert second["identifier"] == "bob"
    assert (second["status"], second["stack_status"]) == ("FAILED", "UPDATE_ROLLBACK_COMPLETE")
    assert (second["idle_days"], second["stale"], second["app_id"]) == (20, True, None)
    assert second["last_updated"] == second["created"]  # never updated


def test_list_region_limits_the_regions_read(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST, WEST, EU]
    deploy_sandbox("my-next-app", "alice", region=EAST)
    deploy_sandbox("billing", "bob", region=WEST)
    deploy_sandbox("eu-shop", "ivan", region=EU)

    records = listed("--region", EAST, "--region", EU)

    assert sorted((r["region"], r["identifier"]) for r in records) == [(EU, "ivan"), (EAST, "alice")]
    assert set(RegionScan.objects.values_list("region", flat=True)) == {EAST, EU}  # us-west-2 was not read
    assert not Sandbox.objects.filter(region=WEST).exists()
    assert [r["region"] for r in listed("--region", WEST)] == [WEST]


def test_list_a_region_outside_the_configured_ones_notes_it_and_lists_it() -> None:
    deploy_sandbox("eu-shop", "ivan", region=EU)

    out, err = run("list", "--json", "--region", EU)

    assert f"Note: {EU} not in CONSOLE_AWS_REGIONS; listed anyway." in err
    assert [r["identifier"] for r in json.loads(out)] == ["ivan"]


def test_list_prints_a_table() -> None:
    alice = deploy_sandbox("my-next-app", "alice", region=EAST)
    set_stack_state(EAST, alice, created_days_ago=40, updated_days_ago=30)
    bob = deploy_sandbox("billing", "bob", region=WEST)
    set_stack_state(WEST, bob, status="UPDATE_IN_PROGRESS", updated_days_ago=0)

    out, err = run("list")

    lines = out.splitlines()
    assert len(lines) == 2
    assert err == ""
    alice_row, bob_row = Sandbox.objects.get(stack_id=alice), Sandbox.objects.get(stack_id=bob)
    assert lines[0].split() == [ALICE, EAST, "DEPLOYED", "CREATE_COMPLETE", alice_row.last_updated.isoformat(), "stale"]  # type: ignore[union-attr]
    assert lines[1].split() == [BOB, WEST, "DEPLOYING", "UPDATE_IN_PROGRESS", bob_row.last_updated.isoformat()]  # type: ignore[union-attr]
    assert lines[0].index(EAST) == lines[1].index(WEST)  # columns line up


def test_list_with_no_sandboxes_says_so() -> None:
    deploy_stack("CDKToolkit", region=EAST)

    assert run("list") == ("No sandboxes.\n", "")
    assert listed() == []


def test_list_reports_a_failing_region_lists_the_others_and_fails(clients: SharedClients) -> None:
    deploy_sandbox("my-next-app", "alice", region=EAST)
    deploy_sandbox("billing", "bob", region=WEST)
    answer_with_error(clients("cloudformation", region=WEST), "DescribeStacks", "AccessDenied", status=403)

    out, err, error = run_failing("list", "--json")

    assert err.startswith(f"{WEST}: Permission denied")
    assert "cloudformation:DescribeStacks" in err
    assert [r["stack_name"] for r in json.loads(out)] == [ALICE]
    assert error == f"Could not list 1 region(s): {WEST}."


def test_delete_with_yes_deletes_and_waits() -> None:
    stack_id = deploy_sandbox("my-next-app", "alice", region=EAST)
    kept = {Scope.sandbox("my-next-app", "alice").path("API_KEY")}
    ssm.put_value(next(iter(kept)), "v")

    out, _ = run("delete", ALICE, "--yes")

    assert out == f"Deleting {ALICE} in {EAST}…\nDeleted {ALICE}.\n"
    assert stack_status(EAST, stack_id) == "DELETE_COMPLETE"
    row = Sandbox.objects.get(stack_id=stack_id)
    assert (row.status, row.deletion_status) == ("DELETED", "SUCCEEDED")
    assert row.deleted_by is None
    assert row.deleted_by_name == "command line"
    assert secret_paths() == kept
    assert AuditEvent.objects.filter(action="sandbox.delete", actor_name="system", message="command line").count() == 1
    assert AuditEvent.objects.filter(action="sandbox.deleted").count() == 1


def test_delete_with_secrets_removes_the_sandboxs_secrets() -> None:
    deploy_sandbox("my-next-app", "alice", region=EAST)
    for name in ("API_KEY", "DB_PASSWORD"):
        ssm.put_value(Scope.sandbox("my-next-app", "alice").path(name), "v")
    others = {Scope.sandbox("my-next-app", "bob").path("API_KEY"), Scope.branch("d1a2b3c4d5e6f7", "main").path("API_KEY")}
    for path in others:
        ssm.put_value(path, "v")

    out, _ = run("delete", ALICE, "--yes", "--with-secrets")

    assert out.endswith(f"Deleted {ALICE} and its secrets.\n")
    assert secret_paths() == others


def test_delete_without_yes_refuses_and_deletes_nothing() -> None:
    stack_id = deploy_sandbox("my-next-app", "alice", region=EAST)

    out, _, error = run_failing("delete", ALICE, "--with-secrets")

    assert error == f"Deleting {ALICE} cannot be undone; add --yes to confirm."
    assert out == ""
    assert stack_status(EAST, stack_id) == "CREATE_COMPLETE"
    assert not SandboxDeletion.objects.exists()
    assert not AuditEvent.objects.exists()


def test_delete_an_unknown_name_says_where_it_looked() -> None:
    deploy_sandbox("my-next-app", "alice", region=EAST)
    nobody = sandbox_stack_name("my-next-app", "nobody")

    _, _, error = run_failing("delete", nobody, "--yes")

    assert error == f"No sandbox stack named {nobody} in {EAST}, {WEST}."
    assert not AuditEvent.objects.exists()


def test_delete_an_already_deleted_sandbox_succeeds() -> None:
    stack_id = deploy_sandbox("my-next-app", "alice", region=EAST)
    listed()
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=stack_id)  # gone outside the console

    out, _ = run("delete", ALICE, "--yes")

    assert out == f"{ALICE} is already deleted.\n"
    assert Sandbox.objects.get(stack_id=stack_id).status == "DELETED"
    assert not AuditEvent.objects.exists()


def test_delete_a_name_in_two_regions_needs_region() -> None:
    east = deploy_sandbox("my-next-app", "alice", region=EAST)
    west = deploy_sandbox("my-next-app", "alice", region=WEST)

    _, _, error = run_failing("delete", ALICE, "--yes")

    assert error == f"{ALICE} exists in {EAST}, {WEST}; choose one with --region."
    assert (stack_status(EAST, east), stack_status(WEST, west)) == ("CREATE_COMPLETE", "CREATE_COMPLETE")

    out, _ = run("delete", ALICE, "--yes", "--region", WEST)

    assert out.startswith(f"Deleting {ALICE} in {WEST}…")
    assert (stack_status(EAST, east), stack_status(WEST, west)) == ("CREATE_COMPLETE", "DELETE_COMPLETE")
    assert Sandbox.objects.get(stack_id=east).status == "DEPLOYED"


def test_delete_that_cloudformation_refuses_fails_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    stack_id = deploy_sandbox("my-next-app", "alice", region=EAST)
    reason = "The following resource(s) failed to delete: [StorageBucket]."

    def fail(stack: str, *, region: str | None = None) -> None:
        set_stack_state(EAST, stack, status="DELETE_FAILED", reason=reason)

    monkeypatch.setattr(deletion, "delete_stack", fail)

    _, _, error = run_failing("delete", ALICE, "--yes")

    assert error == f"CloudFormation could not delete {ALICE}: {reason}"
    row = Sandbox.objects.get(stack_id=stack_id)
    assert (row.deletion_status, row.status, row.stack_status) == ("FAILED", "FAILED", "DELETE_FAILED")


def test_delete_while_the_console_is_deleting_it_refuses(admin_user: Any) -> None:
    stack_id = deploy_sandbox("my-next-app", "alice", region=EAST)
    listed()
    deletion.request_deletion(
        actor=admin_user, sandboxes=[Sandbox.objects.get(stack_id=stack_id)], with_secrets=False, queue=False
    )

    _, _, error = run_failing("delete", ALICE, "--yes")

    assert error == f"{ALICE} is already being deleted by the console; see the Sandboxes page."
    assert stack_status(EAST, stack_id) == "CREATE_COMPLETE"
    assert Sandbox.objects.get(stack_id=stack_id).deletion.requested_by_name == "ada"
