"""Stacks for the sandbox tests, made on moto's in-process mock.

moto creates every stack CREATE_COMPLETE, now; `set_stack_state` reaches into its
backend to give a stack the status, reason and age a real account shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.cloudformation.models import cloudformation_backends
from moto.core import DEFAULT_ACCOUNT_ID

from console.amplify_names import sandbox_stack_name

SANDBOX_TAGS = {"created-by": "amplify", "amplify:deployment-type": "sandbox"}


def template(resources: int = 1) -> str:
    return json.dumps(
        {"Resources": {f"Topic{index}": {"Type": "AWS::SNS::Topic", "Properties": {}} for index in range(resources)}}
    )


def deploy_stack(name: str, *, region: str = "us-east-1", tags: dict[str, str] | None = None, resources: int = 1) -> str:
    """Any stack; returns its id."""
    client = boto3.client("cloudformation", region_name=region)
    response = client.create_stack(
        StackName=name, TemplateBody=template(resources), Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()]
    )
    return str(response["StackId"])


def deploy_sandbox(package: str, identifier: str, *, region: str = "us-east-1", tagged: bool = True, resources: int = 1) -> str:
    """A sandbox stack named and tagged as `ampx sandbox` does; returns its id."""
    return deploy_stack(
        sandbox_stack_name(package, identifier),
        region=region,
        tags=SANDBOX_TAGS if tagged else {"created-by": "amplify"},
        resources=resources,
    )


def moto_stack(region: str, stack_id: str) -> Any:
    backend = cloudformation_backends[DEFAULT_ACCOUNT_ID][region]
    return backend.stacks.get(stack_id) or backend.deleted_stacks[stack_id]


def set_stack_state(
    region: str,
    stack_id: str,
    *,
    status: str | None = None,
    reason: str | None = None,
    created_days_ago: float | None = None,
    updated_days_ago: float | None = None,
) -> None:
    """Give a stack a status (and reason) and an age moto cannot produce by itself."""
    stack = moto_stack(region, stack_id)
    now = datetime.now(UTC).replace(tzinfo=None)  # moto keeps naive UTC times
    if status is not None:
        stack.status = status
    if reason is not None:
        stack.stack_status_reason = reason
    if created_days_ago is not None:
        stack.creation_time = now - timedelta(days=created_days_ago)
    if updated_days_ago is not None:
        stack.last_updated_time = now - timedelta(days=updated_days_ago)


def deletion_as(sandbox: Any, status: str, **fields: Any) -> None:
    """Give the sandbox a deletion in this state (as a worker or the reaper would leave it)."""
    from apps.sandboxes.models import SandboxDeletion

    SandboxDeletion.objects.update_or_create(sandbox_id=getattr(sandbox, "pk", sandbox), defaults={"status": status})
    if fields:  # created_at is stamped on insert: set it (and the rest) after
        SandboxDeletion.objects.filter(sandbox_id=getattr(sandbox, "pk", sandbox)).update(**fields)
