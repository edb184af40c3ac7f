"""Finding sandboxes the way the toolchain does: among every stack of every region,
only root stacks whose name parses with type `sandbox` and that carry the sandbox tag
become rows, with the toolchain's status, the stack's times, and per-sandbox counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from apps.sandboxes.inventory import refresh_inventory
from apps.sandboxes.models import RegionScan, Sandbox
from apps.sandboxes.tests.stacks import SANDBOX_TAGS, deploy_sandbox, deploy_stack, moto_stack, set_stack_state
from apps.sandboxes.tests.test_inventory import SharedClients, share_clients
from apps.secrets import ssm
from apps.secrets.scopes import Scope
from console.amplify_names import backend_hash, branch_stack_name, deployment_status, sandbox_stack_name

pytestmark = pytest.mark.django_db

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
APP_ID = "d1a2b3c4d5e6f7"
BRANCH_TAGS = {
    "created-by": "amplify",
    "amplify:app-id": APP_ID,
    "amplify:branch-name": "main",
    "amplify:deployment-type": "branch",
}


@pytest.fixture(autouse=True)
def clients(monkeypatch: pytest.MonkeyPatch) -> SharedClients:
    return share_clients(monkeypatch)


def moto_time(region: str, stack_id: str, attribute: str) -> datetime:
    """A time moto keeps for the stack (naive UTC), made aware."""
    value = getattr(moto_stack(region, stack_id), attribute)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC)


def put_secret_in(region: str, path: str) -> None:
    """A secret as `ampx sandbox secret set` writes it in a region other than the console's."""
    boto3.client("ssm", region_name=region).put_parameter(Name=path, Value="v", Type="SecureString", Description=ssm.DESCRIPTION)


@pytest.fixture
def account(settings: Any) -> dict[str, str]:
    """Three regions of stacks: sandboxes of several owners, projects and statuses among
    branch stacks, nested stacks, look-alikes and stacks that have nothing to do with Amplify.
    Returns {label: stack id} of the sandboxes."""
    settings.AWS_REGIONS = [EAST, WEST, EU]
    ids = {
        # us-east-1
        "alice": deploy_sandbox("my-next-app", "alice", region=EAST, resources=3),
        "bob": deploy_sandbox("my-next-app", "bob", region=EAST, resources=2),
        "carol": deploy_sandbox("@acme/billing", "carol", region=EAST),
        "dave": deploy_sandbox("my-next-app", "dave", region=EAST),
        "erin": deploy_sandbox("@acme/billing", "erin", region=EAST),
        # us-west-2
        "alice-west": deploy_sandbox("my-next-app", "alice", region=WEST, resources=4),
        "frank": deploy_sandbox("inventory-svc", "frank", region=WEST),
        "grace": deploy_sandbox("inventory-svc", "grace", region=WEST),
        "heidi": deploy_sandbox("inventory-svc", "heidi", region=WEST),
        # eu-west-1
        "ivan": deploy_sandbox("eu-shop", "ivan", region=EU, resources=2),
        "judy": deploy_sandbox("eu-shop", "judy", region=EU),
    }
    set_stack_state(EAST, ids["alice"], created_days_ago=10, updated_days_ago=2)
    set_stack_state(EAST, ids["bob"], status="UPDATE_ROLLBACK_COMPLETE", reason="Resource Lambda failed", created_days_ago=5)
    set_stack_state(EAST, ids["carol"], status="CREATE_FAILED", reason="Table already exists", created_days_ago=1)
    set_stack_state(EAST, ids["dave"], status="DELETE_FAILED", reason="Bucket not empty", created_days_ago=30, updated_days_ago=3)
    set_stack_state(EAST, ids["erin"], status="REVIEW_IN_PROGRESS", created_days_ago=0.5)
    set_stack_state(WEST, ids["alice-west"], status="UPDATE_COMPLETE", created_days_ago=40, updated_days_ago=20)
    set_stack_state(WEST, ids["frank"], status="ROLLBACK_COMPLETE", reason="Rollback requested by user.")
    set_stack_state(WEST, ids["grace"], status="UPDATE_IN_PROGRESS", reason="User Initiated", updated_days_ago=0.01)
    set_stack_state(WEST, ids["heidi"], status="DELETE_IN_PROGRESS", reason="User Initiated")
    set_stack_state(EU, ids["judy"], status="UPDATE_ROLLBACK_IN_PROGRESS")

    sandbox_name = sandbox_stack_name("my-next-app", "alice")
    # Not sandboxes: a branch stack, nested stacks (tagged like their root), look-alikes.
    deploy_stack(branch_stack_name(APP_ID, "main"), region=EAST, tags=BRANCH_TAGS)
    deploy_stack(f"{branch_stack_name(APP_ID, 'main')}-auth179371D7-1XYZ", region=EAST, tags=BRANCH_TAGS)
    deploy_stack(f"{sandbox_name}-data7552DF31-1ABCDEF", region=EAST, tags=SANDBOX_TAGS)
    deploy_stack(f"{sandbox_name}-auth179371D7-Q1W2E3", region=EAST, tags=SANDBOX_TAGS)
    nested = deploy_stack(f"amplify-mynextapp-alice-sandbox-{backend_hash('x', 'y')}", region=WEST, tags=SANDBOX_TAGS)
    moto_stack(WEST, nested).parent_id = ids["alice-west"]  # five parts, but a nested stack
    deploy_stack("amplify-my-next-app-zed-sandbox-0123456789", region=EAST, tags=SANDBOX_TAGS)  # too many dashes
    deploy_stack("amplify-standalone-thing-standalone-0123456789", region=EAST, tags={"created-by": "amplify"})
    deploy_stack("amplify-mynextapp-mallory-sandbox-0123456789", region=EU, tags=BRANCH_TAGS)  # wrong deployment type
    deploy_sandbox("my-next-app", "untagged", region=EU, tagged=False)  # looks like one, not tagged
    deploy_stack("CDKToolkit", region=EAST)
    deploy_stack("payments-prod", region=WEST, tags={"team": "payments"})
    deploy_stack("sandbox-alice", region=EU, tags=SANDBOX_TAGS)
    return ids


def test_only_root_tagged_sandbox_stacks_become_rows(account: dict[str, str]) -> None:
    result = refresh_inventory()

    assert result.errors == {}
    assert result.added == len(account)
    assert set(Sandbox.objects.values_list("stack_id", flat=True)) == set(account.values())
    found = sorted(Sandbox.objects.values_list("region", "identifier"))
    assert found == sorted(
        [(EAST, n) for n in ("alice", "bob", "carol", "dave", "erin")]
        + [(WEST, n) for n in ("alice", "frank", "grace", "heidi")]
        + [(EU, n) for n in ("ivan", "judy")]
    )
    assert dict(RegionScan.objects.values_list("region", "sandboxes")) == {EAST: 5, WEST: 4, EU: 2}
    for scan in RegionScan.objects.all():
        assert scan.error == ""
        assert scan.succeeded_at is not None
        assert scan.finished_at == scan.succeeded_at
    alice = Sandbox.objects.get(stack_id=account["alice"])
    assert alice.stack_name == "amplify-mynextapp-alice-sandbox-36e957df1b"
    assert (alice.namespace, alice.identifier, alice.backend_hash, alice.region) == ("mynextapp", "alice", "36e957df1b", EAST)
    carol = Sandbox.objects.get(stack_id=account["carol"])
    assert carol.namespace == "acmebilling"  # sanitized, as in the stack name
    assert carol.backend_hash == backend_hash("@acme/billing", "carol")  # hashed over the raw strings
    assert carol.stack_name == sandbox_stack_name("@acme/billing", "carol")
    alice_west = Sandbox.objects.get(stack_id=account["alice-west"])
    assert alice_west.region == WEST
    assert alice_west.stack_name == alice.stack_name


def test_status_follows_the_toolchain_mapping(account: dict[str, str]) -> None:
    refresh_inventory()

    found = {
        label: Sandbox.objects.values_list("status", "stack_status", "status_reason").get(stack_id=stack_id)
        for label, stack_id in account.items()
    }
    assert found == {
        "alice": ("DEPLOYED", "CREATE_COMPLETE", ""),
        "bob": ("FAILED", "UPDATE_ROLLBACK_COMPLETE", "Resource Lambda failed"),
        "carol": ("FAILED", "CREATE_FAILED", "Table already exists"),
        "dave": ("FAILED", "DELETE_FAILED", "Bucket not empty"),
        "erin": ("DEPLOYING", "REVIEW_IN_PROGRESS", ""),
        "alice-west": ("DEPLOYED", "UPDATE_COMPLETE", ""),
        "frank": ("FAILED", "ROLLBACK_COMPLETE", "Rollback requested by user."),
        "grace": ("DEPLOYING", "UPDATE_IN_PROGRESS", "User Initiated"),
        "heidi": ("DELETING", "DELETE_IN_PROGRESS", "User Initiated"),
        "ivan": ("DEPLOYED", "CREATE_COMPLETE", ""),
        "judy": ("DEPLOYING", "UPDATE_ROLLBACK_IN_PROGRESS", ""),
    }


def test_times_and_resource_counts_come_from_each_stack(account: dict[str, str]) -> None:
    refresh_inventory()

    for label, stack_id in account.items():
        row = Sandbox.objects.get(stack_id=stack_id)
        stack = moto_stack(row.region, stack_id)
        created = moto_time(row.region, stack_id, "creation_time")
        assert row.created_time == created, label
        if getattr(stack, "last_updated_time", None) is not None:
            assert row.last_updated == moto_time(row.region, stack_id, "last_updated_time"), label
        else:
            assert row.last_updated == created, label
    alice = Sandbox.objects.get(stack_id=account["alice"])
    assert alice.created_time is not None
    assert alice.last_updated is not None
    assert (alice.last_updated - alice.created_time).days == 8
    assert alice.idle_days() == 2
    bob = Sandbox.objects.get(stack_id=account["bob"])  # never updated: last updated = created
    assert bob.last_updated == bob.created_time
    assert bob.idle_days() == 5
    counts = {label: Sandbox.objects.get(stack_id=stack_id).resource_count for label, stack_id in account.items()}
    assert counts == {label: 1 for label in account} | {"alice": 3, "bob": 2, "alice-west": 4, "ivan": 2}


def test_secret_counts_are_per_sandbox_and_region(account: dict[str, str]) -> None:
    for name in ("API_KEY", "DB_PASSWORD", "STRIPE_KEY"):
        ssm.put_value(Scope.sandbox("my-next-app", "alice").path(name), "v")
    ssm.put_value(Scope.sandbox("my-next-app", "bob").path("API_KEY"), "v")
    ssm.put_value(Scope.sandbox("my-next-app", "nobody").path("API_KEY"), "v")  # a sandbox with no stack
    ssm.put_value(Scope.branch(APP_ID, "main").path("API_KEY"), "v")
    ssm.put_value(Scope.branch(APP_ID, "main").path("DB_PASSWORD"), "v")
    ssm.put_value(Scope.shared(APP_ID).path("API_KEY"), "v")
    for name in ("A", "B"):
        put_secret_in(EU, Scope.sandbox("eu-shop", "ivan").path(name))
    put_secret_in(WEST, Scope.sandbox("inventory-svc", "frank").path("TOKEN"))

    refresh_inventory()

    counts = {label: Sandbox.objects.get(stack_id=stack_id).secret_count for label, stack_id in account.items()}
    assert counts == {
        "alice": 3,
        "bob": 1,
        "carol": 0,
        "dave": 0,
        "erin": 0,
        "alice-west": 0,  # alice's secrets live in us-east-1, beside her stack there
        "frank": 1,
        "grace": 0,
        "heidi": 0,
        "ivan": 2,
        "judy": 0,
    }


def test_a_long_package_name_is_cut_and_still_finds_its_secrets(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST]
    package, owner = "a-very-long-package-name-" * 4, "x" * 60
    stack_id = deploy_sandbox(package, owner, region=EAST)
    ssm.put_value(Scope.sandbox(package, owner).path("API_KEY"), "v")

    refresh_inventory()

    row = Sandbox.objects.get(stack_id=stack_id)
    assert len(row.stack_name) <= 128
    assert row.identifier == "x" * 50
    assert row.namespace == ("averylongpackagename" * 4)[:49]  # cut so the name fits in 128 characters
    assert row.backend_hash == backend_hash(package, owner)
    assert row.secret_count == 1


def test_an_account_without_sandboxes_records_an_empty_scan(settings: Any) -> None:
    settings.AWS_REGIONS = [EAST, EU]
    deploy_stack(branch_stack_name(APP_ID, "main"), region=EAST, tags=BRANCH_TAGS)

    result = refresh_inventory()

    assert result.added == 0
    assert result.errors == {}
    assert not Sandbox.objects.exists()
    assert dict(RegionScan.objects.values_list("region", "sandboxes")) == {EAST: 0, EU: 0}


def test_deployment_status_maps_like_the_toolchain() -> None:
    # Every StackStatus of @aws-amplify/deployed-backend-client's StackStatusMapper.
    table = {
        "CREATE_COMPLETE": "DEPLOYED",
        "UPDATE_COMPLETE": "DEPLOYED",
        "IMPORT_COMPLETE": "DEPLOYED",
        "CREATE_FAILED": "FAILED",
        "DELETE_FAILED": "FAILED",
        "UPDATE_FAILED": "FAILED",
        "ROLLBACK_FAILED": "FAILED",
        "ROLLBACK_COMPLETE": "FAILED",
        "UPDATE_ROLLBACK_COMPLETE": "FAILED",
        "UPDATE_ROLLBACK_FAILED": "FAILED",
        "IMPORT_ROLLBACK_COMPLETE": "FAILED",
        "IMPORT_ROLLBACK_FAILED": "FAILED",
        "CREATE_IN_PROGRESS": "DEPLOYING",
        "UPDATE_IN_PROGRESS": "DEPLOYING",
        "IMPORT_IN_PROGRESS": "DEPLOYING",
        "IMPORT_ROLLBACK_IN_PROGRESS": "DEPLOYING",
        "REVIEW_IN_PROGRESS": "DEPLOYING",
        "ROLLBACK_IN_PROGRESS": "DEPLOYING",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "DEPLOYING",
        "UPDATE_ROLLBACK_IN_PROGRESS": "DEPLOYING",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": "DEPLOYING",
        "DELETE_IN_PROGRESS": "DELETING",
        "DELETE_COMPLETE": "DELETED",
        "": "UNKNOWN",  # and anything CloudFormation may add one day
        "SOMETHING_NEW": "UNKNOWN",
    }
    assert {stack_status: deployment_status(stack_status) for stack_status in table} == table
    assert set(table.values()) <= set(Sandbox.Status.values)
