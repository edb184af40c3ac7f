"""Keeping the inventory in line with the accounts: rows keep their history across
refreshes, vanished stacks become DELETED rows, unchanged stacks are not counted
again, and one region's failure leaves that region's rows alone."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import boto3
import botocore.loaders
import botocore.retries.standard
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from django.conf import settings as django_settings
from django.forms.models import model_to_dict
from django.utils import timezone

from apps.sandboxes import cloudformation
from apps.sandboxes.inventory import refresh_inventory, refresh_one
from apps.sandboxes.models import InventorySettings, RegionScan, Sandbox
from apps.sandboxes.tests.stacks import deploy_sandbox, set_stack_state, template
from apps.secrets import ssm
from apps.secrets.scopes import Scope
from console import cloudformation as console_cloudformation
from console.aws import client_config

pytestmark = pytest.mark.django_db

EAST, WEST = "us-east-1", "us-west-2"
DENIED_MESSAGE = (
    "Permission denied: the console's AWS identity may not call cloudformation:DescribeStacks. "
    "Grant cloudformation:DescribeStacks in its IAM policy. (AccessDenied)"
)


class SharedClients:
    """Clients configured as the factory's, one per service and region for the whole test
    whichever thread asks, all from one boto3 session (made under the lock, the one
    thing a session cannot do on several threads at once). The refresh works on fresh
    threads, and each would otherwise start a session and build its clients again; one
    client per region also lets a test hook that region before the refresh starts."""

    _session: boto3.session.Session | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, *, region: str | None = None) -> Any:
        key = (service, region or django_settings.AWS_REGION)
        with self._lock:
            if SharedClients._session is None:
                SharedClients._session = boto3.session.Session()
            if key not in self._clients:
                self._clients[key] = SharedClients._session.client(
                    service, region_name=key[1], endpoint_url=django_settings.AWS_ENDPOINT_URL, config=client_config()
                )
            return self._clients[key]


# Every other session the tests start (moto's, the helpers') reads the service models once, here.
_LOADER = botocore.loaders.create_loader()


def share_clients(monkeypatch: pytest.MonkeyPatch) -> SharedClients:
    """Have the CloudFormation and SSM modules use SharedClients (for an autouse fixture)."""
    monkeypatch.setattr(botocore.session, "create_loader", lambda *args, **kwargs: _LOADER)
    shared = SharedClients()
    monkeypatch.setattr(console_cloudformation, "aws_client", shared)
    monkeypatch.setattr(ssm, "aws_client", shared)
    return shared


@pytest.fixture(autouse=True)
def clients(monkeypatch: pytest.MonkeyPatch) -> SharedClients:
    return share_clients(monkeypatch)


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self) -> bytes:
        return self.body


def answer_with_error(client: Any, operation: str, code: str, *, status: int = 400, times: int | None = None) -> list[str]:
    """Make the client's `operation` calls fail with AWS error `code` (every time, or the
    first `times`), below botocore's retries. Returns a list that grows with each attempt.
    moto still carries the request out behind the answer: use it for reads only."""
    attempts: list[str] = []
    service = client.meta.service_model.service_id.hyphenize()
    json_protocol = client.meta.service_model.protocol == "json"

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(operation)
        if times is not None and len(attempts) > times:
            return None
        if json_protocol:
            body = f'{{"__type":"{code}","message":"{code} for this test"}}'.encode()
            return AWSResponse(request.url, status, {"x-amzn-errortype": code}, _RawBody(body))
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{code} for this test</Message>"
            "</Error><RequestId>test</RequestId></ErrorResponse>"
        ).encode()
        return AWSResponse(request.url, status, {}, _RawBody(body))

    client.meta.events.register(f"before-send.{service}.{operation}", respond)
    return attempts


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore waits up to seconds between retries; the tests need not."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stack ids whose resources the refresh counts, in order."""
    counted: list[str] = []
    real = cloudformation.count_resources

    def counting(region: str, stack_id: str) -> int:
        counted.append(stack_id)
        return real(region, stack_id)

    monkeypatch.setattr(cloudformation, "count_resources", counting)
    return counted


def test_a_second_refresh_keeps_first_seen_and_updates_the_rest(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice")
    first = refresh_inventory()
    assert (first.added, first.updated, first.gone) == (1, 0, 0)
    two_days_ago = timezone.now() - timedelta(days=2)
    Sandbox.objects.filter(stack_id=stack_id).update(first_seen=two_days_ago, last_seen=two_days_ago)
    set_stack_state(EAST, stack_id, status="UPDATE_IN_PROGRESS", reason="User Initiated", updated_days_ago=0)

    second = refresh_inventory()

    assert (second.added, second.updated, second.gone) == (0, 1, 0)
    row = Sandbox.objects.get(stack_id=stack_id)
    assert Sandbox.objects.count() == 1
    assert row.first_seen == two_days_ago
    assert timezone.now() - row.last_seen < timedelta(minutes=1)
    assert (row.status, row.stack_status, row.status_reason) == ("DEPLOYING", "UPDATE_IN_PROGRESS", "User Initiated")
    assert row.last_updated is not None
    assert timezone.now() - row.last_updated < timedelta(minutes=1)


def test_an_unchanged_stack_only_moves_last_seen(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice")
    refresh_inventory()
    two_days_ago = timezone.now() - timedelta(days=2)
    Sandbox.objects.filter(stack_id=stack_id).update(last_seen=two_days_ago)
    stored: dict[str, Any] = dict(Sandbox.objects.values().get(stack_id=stack_id))

    again = refresh_inventory()

    assert (again.added, again.updated, again.gone) == (0, 0, 0)
    now_stored: dict[str, Any] = dict(Sandbox.objects.values().get(stack_id=stack_id))
    assert timezone.now() - now_stored.pop("last_seen") < timedelta(minutes=1)
    stored.pop("last_seen")
    assert now_stored == stored


def test_a_stack_deleted_outside_the_console_becomes_a_deleted_row(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice", resources=2)
    kept_id = deploy_sandbox("my-next-app", "bob")
    ssm.put_value(Scope.sandbox("my-next-app", "alice").path("API_KEY"), "v")
    refresh_inventory()
    assert Sandbox.objects.get(stack_id=stack_id).secret_count == 1
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=stack_id)  # `ampx sandbox delete`

    result = refresh_inventory()

    assert result.gone == 1
    row = Sandbox.objects.get(stack_id=stack_id)
    assert (row.status, row.stack_status) == ("DELETED", "DELETE_COMPLETE")
    assert row.deleted_at is not None
    assert timezone.now() - row.deleted_at < timedelta(minutes=1)
    assert row.deleted_by is None
    assert row.deleted_by_name == ""
    assert row.deletion_status == ""
    assert (row.resource_count, row.secret_count) == (0, 0)
    assert row.stack_name == "amplify-mynextapp-alice-sandbox-36e957df1b"
    assert row.identifier == "alice"
    assert Sandbox.objects.get(stack_id=kept_id).status == "DEPLOYED"
    assert RegionScan.objects.get(region=EAST).sandboxes == 1

    deleted_at = row.deleted_at
    again = refresh_inventory()
    assert again.gone == 0
    assert Sandbox.objects.get(stack_id=stack_id).deleted_at == deleted_at  # marked once, not every refresh


def test_a_sandbox_deployed_again_after_deletion_is_a_new_row(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    old_id = deploy_sandbox("my-next-app", "alice")
    refresh_inventory()
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=old_id)
    refresh_inventory()
    old_deleted_at = Sandbox.objects.get(stack_id=old_id).deleted_at

    new_id = deploy_sandbox("my-next-app", "alice", resources=3)
    result = refresh_inventory()

    assert new_id != old_id
    assert (result.added, result.gone) == (1, 0)
    rows = Sandbox.objects.filter(stack_name="amplify-mynextapp-alice-sandbox-36e957df1b")
    assert {(r.stack_id, r.status) for r in rows} == {(old_id, "DELETED"), (new_id, "DEPLOYED")}
    old, new = rows.get(stack_id=old_id), rows.get(stack_id=new_id)
    assert old.deleted_at == old_deleted_at
    assert new.deleted_at is None
    assert new.resource_count == 3
    assert new.first_seen > old.first_seen


def test_resources_are_counted_for_new_and_changed_stacks_only(
    settings: Any, clients: SharedClients, count_calls: list[str]
) -> None:
    settings.AWS_REGIONS = [EAST, WEST]
    alice = deploy_sandbox("my-next-app", "alice", region=EAST)
    bob = deploy_sandbox("my-next-app", "bob", region=EAST, resources=2)
    carol = deploy_sandbox("billing", "carol", region=WEST, resources=3)

    refresh_inventory()
    assert sorted(count_calls) == sorted([alice, bob, carol])
    assert Sandbox.objects.get(stack_id=carol).resource_count == 3

    count_calls.clear()
    refresh_inventory()
    assert count_calls == []  # nothing changed: the counts stand
    assert Sandbox.objects.get(stack_id=bob).resource_count == 2

    cfn = boto3.client("cloudformation", region_name=EAST)
    cfn.update_stack(StackName=alice, TemplateBody=template(4))  # the status moves to UPDATE_COMPLETE
    refresh_inventory()
    assert count_calls == [alice]
    assert Sandbox.objects.get(stack_id=alice).resource_count == 4

    count_calls.clear()
    cfn.update_stack(StackName=alice, TemplateBody=template(5))
    set_stack_state(EAST, alice, updated_days_ago=0)  # same status, a new LastUpdatedTime
    refresh_inventory()
    assert count_calls == [alice]
    assert Sandbox.objects.get(stack_id=alice).resource_count == 5


def test_a_failed_resource_count_is_unknown_and_tried_again(settings: Any, clients: SharedClients) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice", resources=2)
    denied = answer_with_error(clients("cloudformation", region=EAST), "ListStackResources", "AccessDenied", status=403, times=1)

    result = refresh_inventory()

    assert result.errors == {}  # the stack still lists
    row = Sandbox.objects.get(stack_id=stack_id)
    assert row.status == "DEPLOYED"
    assert row.resource_count is None
    refresh_inventory()
    assert len(denied) == 2
    assert Sandbox.objects.get(stack_id=stack_id).resource_count == 2


def test_a_denied_region_records_its_error_and_keeps_its_rows(settings: Any, clients: SharedClients) -> None:
    settings.AWS_REGIONS = [EAST, WEST]
    east_alice = deploy_sandbox("my-next-app", "alice", region=EAST)
    east_bob = deploy_sandbox("my-next-app", "bob", region=EAST)
    west_carol = deploy_sandbox("billing", "carol", region=WEST)
    refresh_inventory()
    east_scan = RegionScan.objects.get(region=EAST)
    before = {row.stack_id: model_to_dict(row) for row in Sandbox.objects.filter(region=EAST)}
    # Changes the denied refresh cannot see, and one it must see in the other region.
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=east_alice)
    set_stack_state(EAST, east_bob, status="UPDATE_ROLLBACK_COMPLETE", reason="broke")
    set_stack_state(WEST, west_carol, status="UPDATE_FAILED", reason="Handler failed")
    west_dave = deploy_sandbox("billing", "dave", region=WEST)
    answer_with_error(clients("cloudformation", region=EAST), "DescribeStacks", "AccessDenied", status=403)

    result = refresh_inventory()

    assert result.errors == {EAST: DENIED_MESSAGE}
    scan = RegionScan.objects.get(region=EAST)
    assert scan.error == DENIED_MESSAGE
    assert "cloudformation:DescribeStacks" in scan.error
    assert scan.succeeded_at == east_scan.succeeded_at  # the last good refresh stays on record
    assert scan.finished_at is not None
    assert east_scan.finished_at is not None
    assert scan.finished_at > east_scan.finished_at
    assert scan.sandboxes == 2
    assert {row.stack_id: model_to_dict(row) for row in Sandbox.objects.filter(region=EAST)} == before
    west = RegionScan.objects.get(region=WEST)
    assert west.error == ""
    assert west.sandboxes == 2
    carol = Sandbox.objects.get(stack_id=west_carol)
    assert (carol.status, carol.stack_status, carol.status_reason) == ("FAILED", "UPDATE_FAILED", "Handler failed")
    assert Sandbox.objects.filter(stack_id=west_dave, status="DEPLOYED").exists()
    assert (result.added, result.updated, result.gone) == (1, 1, 0)


def test_a_region_that_recovers_clears_its_error(settings: Any, clients: SharedClients) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice")
    answer_with_error(clients("cloudformation", region=EAST), "DescribeStacks", "AccessDenied", status=403, times=1)
    assert refresh_inventory().errors == {EAST: DENIED_MESSAGE}
    assert not Sandbox.objects.exists()

    assert refresh_inventory().errors == {}

    scan = RegionScan.objects.get(region=EAST)
    assert scan.error == ""
    assert scan.succeeded_at is not None
    assert scan.sandboxes == 1
    assert Sandbox.objects.get().stack_id == stack_id


def test_secret_counts_stand_when_ssm_cannot_be_listed(settings: Any, clients: SharedClients) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice")
    for name in ("API_KEY", "DB_PASSWORD"):
        ssm.put_value(Scope.sandbox("my-next-app", "alice").path(name), "v")
    refresh_inventory()
    assert Sandbox.objects.get(stack_id=stack_id).secret_count == 2
    set_stack_state(EAST, stack_id, status="UPDATE_IN_PROGRESS")
    answer_with_error(clients("ssm", region=EAST), "DescribeParameters", "AccessDeniedException", status=400)

    result = refresh_inventory()

    assert result.errors == {}
    row = Sandbox.objects.get(stack_id=stack_id)
    assert row.status == "DEPLOYING"  # the stacks still refresh
    assert row.secret_count == 2  # not 0: unknown is not none


def test_throttled_listing_is_retried_and_the_refresh_succeeds(settings: Any, clients: SharedClients, no_backoff: None) -> None:
    settings.AWS_REGIONS = [EAST, WEST]
    stack_id = deploy_sandbox("my-next-app", "alice", region=WEST)
    attempts = answer_with_error(clients("cloudformation", region=WEST), "DescribeStacks", "Throttling", times=2)

    result = refresh_inventory()

    assert result.errors == {}
    assert len(attempts) == 3
    assert Sandbox.objects.get(stack_id=stack_id).status == "DEPLOYED"
    assert RegionScan.objects.get(region=WEST).error == ""


def test_throttling_that_does_not_stop_is_reported_as_try_again(settings: Any, clients: SharedClients, no_backoff: None) -> None:
    settings.AWS_REGIONS = [EAST]
    settings.AWS_MAX_ATTEMPTS = 3
    deploy_sandbox("my-next-app", "alice")
    attempts = answer_with_error(clients("cloudformation", region=EAST), "DescribeStacks", "Throttling")

    result = refresh_inventory()

    assert len(attempts) == 3  # the client's whole retry budget
    message = "AWS is throttling cloudformation:DescribeStacks; try again in a moment."
    assert result.errors == {EAST: message}
    assert RegionScan.objects.get(region=EAST).error == message
    assert not Sandbox.objects.exists()


def test_refreshing_some_regions_leaves_the_others_alone(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST, WEST]
    west_id = deploy_sandbox("billing", "carol", region=WEST)
    refresh_inventory()
    boto3.client("cloudformation", region_name=WEST).delete_stack(StackName=west_id)
    east_id = deploy_sandbox("my-next-app", "alice", region=EAST)

    result = refresh_inventory([EAST])

    assert [r.region for r in result.regions] == [EAST]
    assert Sandbox.objects.get(stack_id=east_id).status == "DEPLOYED"
    assert Sandbox.objects.get(stack_id=west_id).status == "DEPLOYED"  # not listed, so not judged
    assert refresh_inventory([WEST]).gone == 1
    assert Sandbox.objects.get(stack_id=west_id).status == "DELETED"


def test_refresh_one_follows_a_single_stack(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    stack_id = deploy_sandbox("my-next-app", "alice")
    refresh_inventory()
    row = Sandbox.objects.get(stack_id=stack_id)
    set_stack_state(EAST, stack_id, status="DELETE_IN_PROGRESS", reason="User Initiated")

    assert refresh_one(row).status == "DELETING"
    assert Sandbox.objects.get(stack_id=stack_id).stack_status == "DELETE_IN_PROGRESS"

    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=stack_id)
    refresh_one(row)
    row.refresh_from_db()
    assert (row.status, row.stack_status, row.resource_count) == ("DELETED", "DELETE_COMPLETE", 0)
    assert row.deleted_at is not None
    assert row.deleted_by_name == ""


def test_stale_means_idle_for_the_configured_days(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    old = deploy_sandbox("my-next-app", "alice")
    fresh = deploy_sandbox("my-next-app", "bob")
    old_but_gone = deploy_sandbox("my-next-app", "carol")
    never_updated = deploy_sandbox("my-next-app", "dave")
    set_stack_state(EAST, old, created_days_ago=60, updated_days_ago=20)
    set_stack_state(EAST, fresh, created_days_ago=60, updated_days_ago=3)
    set_stack_state(EAST, old_but_gone, created_days_ago=90, updated_days_ago=90)
    set_stack_state(EAST, never_updated, created_days_ago=15)
    refresh_inventory()
    boto3.client("cloudformation", region_name=EAST).delete_stack(StackName=old_but_gone)
    refresh_inventory()
    policy = InventorySettings.load()
    assert policy.stale_after_days == 14

    rows = {row.stack_id: row for row in Sandbox.objects.all()}
    stale = {stack_id for stack_id, row in rows.items() if row.is_stale(policy.stale_after_days)}
    assert stale == {old, never_updated}
    assert rows[old].idle_days() == 20
    assert rows[fresh].idle_days() == 3
    live_stale = Sandbox.objects.exclude(status="DELETED").filter(last_updated__lt=policy.stale_before())
    assert set(live_stale.values_list("stack_id", flat=True)) == {old, never_updated}

    policy.stale_after_days = 30
    policy.save()
    old_updated = rows[old].last_updated
    assert old_updated is not None
    assert old_updated > InventorySettings.load().stale_before()
    assert not any(row.is_stale(30) for row in rows.values())
    assert rows[fresh].is_stale(3)
    assert not rows[fresh].is_stale(4)
