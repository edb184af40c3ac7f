"""Deleting sandboxes: the request marks and queues, the task follows CloudFormation to
the end (DELETE_COMPLETE, DELETE_FAILED with its reason, or a timeout), deletes the
sandbox's own secrets when asked, and is safe to run twice. Retention uses the same path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from apps.sandboxes import deletion
from apps.sandboxes.deletion import request_deletion, run_deletion
from apps.sandboxes.inventory import refresh_inventory
from apps.sandboxes.models import InventorySettings, Sandbox
from apps.sandboxes.retention import apply_retention, retention_candidates
from apps.sandboxes.tasks import apply_retention as apply_retention_task
from apps.sandboxes.tasks import refresh_sandboxes, requeue_stalled_deletions
from apps.sandboxes.tests.stacks import deletion_as, deploy_sandbox, moto_stack, set_stack_state
from apps.sandboxes.tests.test_inventory import SharedClients, share_clients
from apps.secrets import ssm
from apps.secrets.scopes import Scope
from console.cloudformation import delete_stack
from console.models import AuditEvent

pytestmark = pytest.mark.django_db

EAST = "us-east-1"
APP_ID = "d1a2b3c4d5e6f7"
ALICE_STACK = "amplify-mynextapp-alice-sandbox-36e957df1b"
FAILURE = "The following resource(s) failed to delete: [StorageBucket]. "

Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def clients(monkeypatch: pytest.MonkeyPatch) -> SharedClients:
    return share_clients(monkeypatch)


@pytest.fixture
def fast_polls(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    settings.SANDBOX_DELETE_POLL_SECONDS = 0.01


def sandboxes(package: str, *identifiers: str, resources: int = 1) -> list[Sandbox]:
    """Deploy sandbox stacks and let the inventory find them."""
    stack_ids = [deploy_sandbox(package, identifier, region=EAST, resources=resources) for identifier in identifiers]
    refresh_inventory([EAST])
    return [Sandbox.objects.get(stack_id=stack_id) for stack_id in stack_ids]


def sandbox(package: str, identifier: str, *, resources: int = 1) -> Sandbox:
    return sandboxes(package, identifier, resources=resources)[0]


def stack_status(row: Sandbox) -> str:
    return str(moto_stack(row.region, row.stack_id).status)


def secret_paths() -> set[str]:
    return {info.path for info in ssm.list_parameters("/amplify", recursive=True, region=EAST)}


def put_secrets(scope: Scope, *names: str) -> set[str]:
    for name in names:
        ssm.put_value(scope.path(name), "v")
    return {scope.path(name) for name in names}


def delete_and_wait(actor: Any, rows: list[Sandbox], capture: Capture, *, with_secrets: bool = False) -> list[Sandbox]:
    """Request as the page does; the task runs (eagerly) once the transaction commits."""
    with capture(execute=True):
        marked = request_deletion(actor=actor, sandboxes=rows, with_secrets=with_secrets)
    return marked


def stuck_deleting(monkeypatch: pytest.MonkeyPatch) -> None:
    """CloudFormation accepts the delete, but the stack stays DELETE_IN_PROGRESS."""

    def delete_stack(stack_id: str, *, region: str | None = None) -> None:
        set_stack_state(region or EAST, stack_id, status="DELETE_IN_PROGRESS", reason="User Initiated")

    monkeypatch.setattr(deletion, "delete_stack", delete_stack)


def refuse(client: Any, operation: str, code: str) -> Callable[[], None]:
    """The client's `operation` is refused before anything is sent (nothing happens in
    moto), until the returned function is called."""

    def raise_error(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": f"{code} for this test"}}, operation)

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, raise_error)
    return lambda: client.meta.events.unregister(event, raise_error)


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_deletion_follows_the_stack_to_delete_complete(
    fast_polls: None, admin_user: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    row = sandbox("my-next-app", "alice", resources=3)
    kept = put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY")

    marked = delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks)

    assert [m.pk for m in marked] == [row.pk]
    assert stack_status(row) == "DELETE_COMPLETE"
    row.refresh_from_db()
    assert (row.status, row.stack_status, row.deletion_status) == ("DELETED", "DELETE_COMPLETE", "SUCCEEDED")
    assert row.deleted_by == admin_user
    assert row.deleted_by_name == "ada"
    assert row.deleted_at is not None
    assert timezone.now() - row.deleted_at < timedelta(minutes=1)
    assert (row.resource_count, row.secret_count, row.deletion.error) == (0, 0, "")
    assert secret_paths() == kept  # not asked to delete secrets
    [requested] = audit("sandbox.delete")
    assert (requested.actor, requested.actor_name, requested.outcome) == (admin_user, "ada", "success")
    assert requested.target == f"{EAST}/{ALICE_STACK}"
    assert requested.detail["stack_id"] == row.stack_id
    [done] = audit("sandbox.deleted")
    assert (done.actor_name, done.outcome, done.target) == ("system", "success", f"{EAST}/{ALICE_STACK}")
    assert not audit("sandbox.delete_failed")


def test_deleting_with_secrets_removes_exactly_that_sandboxs_secrets(
    fast_polls: None, operator_user: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    row, _ = sandboxes("my-next-app", "alice", "bob")
    put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY", "DB_PASSWORD", "STRIPE_KEY")
    others = put_secrets(Scope.sandbox("my-next-app", "bob"), "API_KEY")
    others |= put_secrets(Scope.sandbox("other-app", "alice"), "API_KEY")
    others |= put_secrets(Scope.branch(APP_ID, "main"), "API_KEY", "DB_PASSWORD")
    others |= put_secrets(Scope.shared(APP_ID), "API_KEY")

    delete_and_wait(operator_user, [row], django_capture_on_commit_callbacks, with_secrets=True)

    row.refresh_from_db()
    assert (row.deletion_status, row.status, row.deletion.with_secrets) == ("SUCCEEDED", "DELETED", True)
    assert secret_paths() == others
    [requested] = audit("sandbox.delete")
    assert requested.detail["deletes_ssm_parameters"] is True
    [done] = audit("sandbox.deleted")
    assert done.detail["ssm_parameters_deleted"] == ["API_KEY", "DB_PASSWORD", "STRIPE_KEY"]


def test_deleting_without_secrets_says_so_in_the_audit_trail(
    fast_polls: None, admin_user: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    row = sandbox("my-next-app", "alice")
    kept = put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY", "DB_PASSWORD")

    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks, with_secrets=False)

    assert secret_paths() == kept
    assert audit("sandbox.delete")[0].detail["deletes_ssm_parameters"] is False
    assert audit("sandbox.deleted")[0].detail["ssm_parameters_deleted"] == []


def test_delete_failed_records_cloudformations_reason_and_keeps_the_secrets(
    fast_polls: None, admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = sandbox("my-next-app", "alice")
    kept = put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY")
    stuck_deleting(monkeypatch)
    polls: list[float] = []

    def sleep(seconds: float) -> None:  # the stack fails while the task waits
        polls.append(seconds)
        set_stack_state(EAST, row.stack_id, status="DELETE_FAILED", reason=FAILURE)

    request_deletion(actor=admin_user, sandboxes=[row], with_secrets=True, queue=False)
    done = run_deletion(row.pk, sleep=sleep)

    assert done is not None
    assert polls == [0.01]
    assert done.deletion_status == "FAILED"
    assert done.deletion.error == f"CloudFormation could not delete {ALICE_STACK}: {FAILURE}"
    assert (done.status, done.stack_status, done.status_reason) == ("FAILED", "DELETE_FAILED", FAILURE)
    assert done.deleted_at is None
    # Asked for by ada, but not deleted: a later deletion elsewhere must not name her.
    assert (done.deletion.requested_by_name, done.deleted_by, done.deleted_by_name) == ("ada", None, "")
    assert secret_paths() == kept  # the stack is still there, so are its secrets
    [failed] = audit("sandbox.delete_failed")
    assert (failed.outcome, failed.actor_name, failed.target) == ("failure", "system", f"{EAST}/{ALICE_STACK}")
    assert FAILURE.strip() in failed.message
    assert not audit("sandbox.deleted")


def test_delete_failed_without_a_stack_reason_takes_it_from_the_events(
    fast_polls: None, admin_user: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Capture,
) -> None:  # fmt: skip
    row = sandbox("my-next-app", "alice")
    moto_stack(EAST, row.stack_id)._add_stack_event("DELETE_FAILED", resource_status_reason="Bucket is not empty")

    def fail_without_reason(stack_id: str, *, region: str | None = None) -> None:
        stack = moto_stack(EAST, stack_id)
        stack.status = "DELETE_FAILED"
        stack.stack_status_reason = None

    monkeypatch.setattr(deletion, "delete_stack", fail_without_reason)

    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.deletion_status == "FAILED"
    assert row.deletion.error == f"CloudFormation could not delete {ALICE_STACK}: {ALICE_STACK}: Bucket is not empty"
    assert audit("sandbox.delete_failed")[0].outcome == "failure"


def test_a_stack_still_deleting_after_the_wait_fails_and_can_be_deleted_again(
    fast_polls: None, admin_user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Capture,
) -> None:  # fmt: skip
    settings.SANDBOX_DELETE_WAIT_SECONDS = 0.05
    row = sandbox("my-next-app", "alice")
    stuck_deleting(monkeypatch)

    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.deletion_status == "FAILED"
    assert row.deletion.error.startswith(f"{ALICE_STACK} is still DELETE_IN_PROGRESS after 0.05 s")
    assert (row.status, row.stack_status) == ("DELETING", "DELETE_IN_PROGRESS")
    assert row.deletion.heartbeat_at is not None
    assert audit("sandbox.delete_failed")[0].outcome == "failure"

    monkeypatch.setattr(deletion, "delete_stack", delete_stack)  # CloudFormation gets there in the end
    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert (row.deletion_status, row.status, row.deletion.error) == ("SUCCEEDED", "DELETED", "")


def test_a_denied_delete_fails_with_the_iam_action(
    fast_polls: None, clients: SharedClients, admin_user: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    row = sandbox("my-next-app", "alice")
    refuse(clients("cloudformation", region=EAST), "DeleteStack", "AccessDenied")

    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert row.deletion_status == "FAILED"
    assert row.status == "DEPLOYED"
    assert "cloudformation:DeleteStack" in row.deletion.error
    assert stack_status(row) == "CREATE_COMPLETE"


def test_secrets_that_cannot_be_deleted_fail_the_deletion_of_a_deleted_stack(
    fast_polls: None, clients: SharedClients, admin_user: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    row = sandbox("my-next-app", "alice")
    kept = put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY")
    allow = refuse(clients("ssm", region=EAST), "DeleteParameter", "AccessDeniedException")

    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks, with_secrets=True)

    assert stack_status(row) == "DELETE_COMPLETE"
    row.refresh_from_db()
    assert row.deletion_status == "FAILED"
    assert "ssm:DeleteParameter" in row.deletion.error
    assert (row.status, row.stack_status) == ("DELETED", "DELETE_COMPLETE")  # the row tells the truth about the stack
    assert row.deleted_at is not None
    assert secret_paths() == kept
    assert audit("sandbox.delete_failed")[0].outcome == "failure"

    allow()  # the IAM policy is fixed; deleting again removes the secrets
    deleted_at = row.deleted_at
    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks, with_secrets=True)
    row.refresh_from_db()
    assert (row.deletion_status, row.status, row.deleted_at) == ("SUCCEEDED", "DELETED", deleted_at)
    assert secret_paths() == set()


@pytest.mark.parametrize("inventory_knows", [True, False])
def test_deleting_an_already_deleted_sandbox_is_harmless(
    fast_polls: None, admin_user: Any, django_capture_on_commit_callbacks: Capture,
    inventory_knows: bool,
) -> None:  # fmt: skip
    row = sandbox("my-next-app", "alice")
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=row.stack_id)  # gone outside the console
    if inventory_knows:
        refresh_inventory([EAST])
        row.refresh_from_db()
        assert row.status == "DELETED"
    first_seen_gone = row.deleted_at

    delete_and_wait(admin_user, [row], django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert (row.deletion_status, row.status, row.stack_status, row.deletion.error) == (
        "SUCCEEDED",
        "DELETED",
        "DELETE_COMPLETE",
        "",
    )
    assert row.deleted_at is not None
    if first_seen_gone is not None:
        assert row.deleted_at == first_seen_gone  # when it went, not when it was deleted again
    assert not audit("sandbox.delete_failed")
    assert len(audit("sandbox.deleted")) == 1


def test_a_second_request_while_one_is_active_is_ignored(
    fast_polls: None, admin_user: Any, operator_user: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:  # fmt: skip
    row = sandbox("my-next-app", "alice")
    kept = put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY")

    with django_capture_on_commit_callbacks(execute=False) as first:
        assert request_deletion(actor=admin_user, sandboxes=[row], with_secrets=False) == [row]
    with django_capture_on_commit_callbacks(execute=False) as second:
        assert request_deletion(actor=operator_user, sandboxes=[row], with_secrets=True) == []

    assert (len(first), len(second)) == (1, 0)
    row.refresh_from_db()
    assert (row.deletion_status, row.deletion.with_secrets, row.deletion.requested_by_name) == ("PENDING", False, "ada")
    assert [event.actor_name for event in audit("sandbox.delete")] == ["ada"]
    first[0]()  # the queued task runs
    row.refresh_from_db()
    assert row.deletion_status == "SUCCEEDED"
    assert secret_paths() == kept


def test_a_redelivered_task_does_nothing_the_second_time(
    fast_polls: None, admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = sandbox("my-next-app", "alice")
    request_deletion(actor=admin_user, sandboxes=[row], with_secrets=False, queue=False)
    assert run_deletion(row.pk) is not None
    deletes: list[str] = []
    monkeypatch.setattr(deletion, "delete_stack", lambda stack_id, **_: deletes.append(stack_id))

    assert run_deletion(row.pk) is None

    assert deletes == []
    assert len(audit("sandbox.deleted")) == 1
    row.refresh_from_db()
    assert row.deletion_status == "SUCCEEDED"


def test_a_task_for_a_sandbox_nobody_asked_to_delete_does_nothing(fast_polls: None) -> None:
    row = sandbox("my-next-app", "alice")

    assert run_deletion(row.pk) is None

    assert stack_status(row) == "CREATE_COMPLETE"
    assert Sandbox.objects.get(pk=row.pk).deletion_status == ""


def test_stalled_deletions_are_queued_again(fast_polls: None, admin_user: Any, settings: Any) -> None:
    settings.SANDBOX_DELETE_STALL_SECONDS = 600
    names = ("dead", "lost", "busy", "new", "failed", "idle")
    rows = dict(zip(names, sandboxes("my-next-app", *names), strict=True))
    request_deletion(
        actor=admin_user, sandboxes=[rows[n] for n in ("dead", "lost", "busy", "new")], with_secrets=False, queue=False
    )
    long_ago, just_now = timezone.now() - timedelta(hours=1), timezone.now() - timedelta(seconds=5)
    # A worker died mid-way; a message was lost; a worker is busy; a request just came in.
    deletion_as(rows["dead"], "RUNNING", heartbeat_at=long_ago)
    deletion_as(rows["lost"], "PENDING", created_at=long_ago)
    deletion_as(rows["busy"], "RUNNING", heartbeat_at=just_now, created_at=long_ago)
    deletion_as(rows["failed"], "FAILED", created_at=long_ago)

    requeued = requeue_stalled_deletions()

    assert requeued == sorted([rows["dead"].pk, rows["lost"].pk])
    after = {name: Sandbox.objects.get(pk=row.pk) for name, row in rows.items()}
    for name in ("dead", "lost"):
        assert (after[name].deletion_status, after[name].status) == ("SUCCEEDED", "DELETED"), name
        assert stack_status(after[name]) == "DELETE_COMPLETE"
    assert [after[n].deletion_status for n in ("busy", "new", "failed", "idle")] == ["RUNNING", "PENDING", "FAILED", ""]
    for name in ("busy", "new", "failed", "idle"):
        assert stack_status(after[name]) == "CREATE_COMPLETE", name
    assert requeue_stalled_deletions() == []


def test_the_periodic_refresh_hands_stalled_deletions_on(fast_polls: None, admin_user: Any) -> None:
    row = sandbox("my-next-app", "alice")
    deploy_sandbox("my-next-app", "bob", region=EAST)
    request_deletion(actor=admin_user, sandboxes=[row], with_secrets=False, queue=False)
    deletion_as(row, "PENDING", created_at=timezone.now() - timedelta(hours=1))

    counts = refresh_sandboxes()

    assert counts == {"added": 1, "updated": 0, "gone": 0}  # alice is unchanged: nothing to write
    row.refresh_from_db()
    assert (row.deletion_status, row.status) == ("SUCCEEDED", "DELETED")


def test_retention_does_nothing_while_disabled(fast_polls: None) -> None:
    row = sandbox("my-next-app", "alice")
    set_stack_state(EAST, row.stack_id, updated_days_ago=400)
    refresh_inventory([EAST])
    assert InventorySettings.load().retention_enabled is False

    assert apply_retention() == []
    assert apply_retention_task() == 0

    row.refresh_from_db()
    assert row.deletion_status == ""
    assert stack_status(row) == "CREATE_COMPLETE"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("with_secrets", [False, True])
def test_retention_deletes_only_sandboxes_idle_longer_than_the_policy(
    fast_polls: None, django_capture_on_commit_callbacks: Capture, with_secrets: bool
) -> None:
    idle, recent = sandboxes("my-next-app", "alice", "bob")
    never_updated = deploy_sandbox("billing", "carol", region=EAST)
    set_stack_state(EAST, idle.stack_id, created_days_ago=90, updated_days_ago=31)
    set_stack_state(EAST, recent.stack_id, created_days_ago=90, updated_days_ago=29)
    set_stack_state(EAST, never_updated, created_days_ago=45)
    refresh_inventory([EAST])
    carol = Sandbox.objects.get(stack_id=never_updated)
    secrets = {
        "idle": put_secrets(Scope.sandbox("my-next-app", "alice"), "API_KEY"),
        "recent": put_secrets(Scope.sandbox("my-next-app", "bob"), "API_KEY"),
        "never_updated": put_secrets(Scope.sandbox("billing", "carol"), "API_KEY"),
    }
    InventorySettings.objects.update_or_create(
        pk=1, defaults={"retention_enabled": True, "retention_days": 30, "retention_with_secrets": with_secrets}
    )

    with django_capture_on_commit_callbacks(execute=True):
        marked = apply_retention()

    assert sorted(m.pk for m in marked) == sorted([idle.pk, carol.pk])
    rows = {
        name: Sandbox.objects.get(pk=row.pk) for name, row in {"idle": idle, "recent": recent, "never_updated": carol}.items()
    }
    for name in ("idle", "never_updated"):
        assert (rows[name].deletion_status, rows[name].status) == ("SUCCEEDED", "DELETED"), name
        assert rows[name].deleted_by is None
        assert rows[name].deleted_by_name == "retention policy: idle for more than 30 days"
    assert (rows["recent"].deletion_status, rows["recent"].status) == ("", "DEPLOYED")
    assert stack_status(rows["recent"]) == "CREATE_COMPLETE"
    expected = secrets["recent"] if with_secrets else secrets["idle"] | secrets["recent"] | secrets["never_updated"]
    assert secret_paths() == expected
    assert {(e.actor_name, e.message) for e in audit("sandbox.delete")} == {
        ("system", "retention policy: idle for more than 30 days")
    }

    with django_capture_on_commit_callbacks(execute=True):
        assert apply_retention() == []  # deleted rows are not candidates again


def test_retention_leaves_a_sandbox_whose_deletion_failed_to_an_admin(fast_polls: None) -> None:
    failed = sandbox("my-next-app", "alice")
    set_stack_state(EAST, failed.stack_id, updated_days_ago=90)
    idle = sandbox("my-next-app", "bob")
    set_stack_state(EAST, idle.stack_id, updated_days_ago=90)
    refresh_inventory([EAST])
    deletion_as(Sandbox.objects.get(stack_id=failed.stack_id), "FAILED", error="Bucket is not empty")
    policy = InventorySettings.load()
    policy.retention_enabled, policy.retention_days = True, 30
    policy.save()

    assert [s.identifier for s in retention_candidates(policy)] == ["bob"]
