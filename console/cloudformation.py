"""CloudFormation, in one place: stacks, their outputs and tags, their resources with
those of their nested stacks, events, deletion. Every feature (branches, sandboxes, the
data manager) reads stacks through here, so paging and "this stack does not exist" mean
the same everywhere: a missing stack is None (or skipped, for a nested one), every other
failure an AwsError."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.amplify_names import deployment_status
from console.aws import aws_client
from console.aws_errors import AwsNotFound, aws_errors

NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
# Every status but DELETE_COMPLETE: the stacks that exist, as the toolchain lists them.
LIVE_STATUSES = [
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
]
# Nested stacks are followed this deep, and at most this many are read for one root.
_MAX_DEPTH = 5
_MAX_STACKS = 100


@dataclass(frozen=True)
class Stack:
    stack_id: str
    name: str
    stack_status: str
    status_reason: str
    created: datetime | None
    last_updated: datetime | None  # LastUpdatedTime, else CreationTime
    outputs: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    parent_id: str = ""
    output_descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """DEPLOYED, FAILED, DEPLOYING, DELETING or DELETED (the toolchain's mapping)."""
        return deployment_status(self.stack_status)


@dataclass(frozen=True)
class Resource:
    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    reason: str
    last_updated: datetime | None
    depth: int = 0  # 0 for the root stack's own, 1 for a nested stack's...


def stack_of(raw: dict[str, Any]) -> Stack:
    """A Stack from one entry of a DescribeStacks answer."""
    outputs = raw.get("Outputs", [])
    return Stack(
        stack_id=str(raw.get("StackId") or raw["StackName"]),
        name=str(raw["StackName"]),
        stack_status=str(raw.get("StackStatus", "")),
        status_reason=str(raw.get("StackStatusReason", ""))[:1000],
        created=raw.get("CreationTime"),
        last_updated=raw.get("LastUpdatedTime") or raw.get("CreationTime"),
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in outputs if o.get("OutputKey")},
        tags={t["Key"]: t.get("Value", "") for t in raw.get("Tags", []) if t.get("Key")},
        description=str(raw.get("Description", "")),
        parent_id=str(raw.get("ParentId", "")),
        output_descriptions={o["OutputKey"]: o.get("Description", "") for o in outputs if o.get("OutputKey")},
    )


def describe_stack(name_or_id: str, *, region: str | None = None, deleted: bool = False) -> Stack | None:
    """The stack, or None when there is none of that name. A name finds only a stack that
    exists; an id also finds a DELETE_COMPLETE one, which is returned when `deleted`."""
    try:
        with aws_errors("cloudformation:DescribeStacks"):
            stacks = aws_client("cloudformation", region=region).describe_stacks(StackName=name_or_id).get("Stacks", [])
    except AwsNotFound:
        return None
    for raw in stacks:
        if deleted or raw.get("StackStatus") != "DELETE_COMPLETE":
            return stack_of(raw)
    return None


def all_stacks(*, region: str | None = None) -> Iterator[Stack]:
    """Every stack of the region that is not DELETE_COMPLETE, with its tags and outputs:
    DescribeStacks without a name, a handful of calls instead of one per stack."""
    with aws_errors("cloudformation:DescribeStacks"):
        for page in aws_client("cloudformation", region=region).get_paginator("describe_stacks").paginate():
            for raw in page.get("Stacks", []):
                yield stack_of(raw)


def stack_names(*, region: str | None = None) -> Iterator[tuple[str, str]]:
    """(name, status) of every stack of the region that is not DELETE_COMPLETE (ListStacks)."""
    with aws_errors("cloudformation:ListStacks"):
        client = aws_client("cloudformation", region=region)
        for page in client.get_paginator("list_stacks").paginate(StackStatusFilter=LIVE_STATUSES):
            for summary in page.get("StackSummaries", []):
                yield summary["StackName"], summary["StackStatus"]


def _own_resources(name_or_id: str, region: str | None, depth: int) -> list[Resource]:
    with aws_errors("cloudformation:ListStackResources"):
        pages = aws_client("cloudformation", region=region).get_paginator("list_stack_resources").paginate(StackName=name_or_id)
        return [
            Resource(
                logical_id=summary.get("LogicalResourceId", ""),
                physical_id=summary.get("PhysicalResourceId", ""),
                resource_type=summary.get("ResourceType", ""),
                status=summary.get("ResourceStatus", ""),
                reason=summary.get("ResourceStatusReason", ""),
                last_updated=summary.get("LastUpdatedTimestamp"),
                depth=depth,
            )
            for page in pages
            for summary in page.get("StackResourceSummaries", [])
        ]


def stack_resources(name_or_id: str, *, region: str | None = None, nested: bool = True) -> list[Resource]:
    """The stack's resources, each nested stack's own right after it (unless not `nested`).
    A nested stack that is already gone is skipped; the root stack missing raises AwsNotFound."""
    if not nested:
        return _own_resources(name_or_id, region, 0)
    read = 1
    seen = {name_or_id}

    def walk(stack: str, depth: int) -> list[Resource]:
        nonlocal read
        listed: list[Resource] = []
        for resource in _own_resources(stack, region, depth):
            listed.append(resource)
            nested = resource.physical_id
            if resource.resource_type != NESTED_STACK_TYPE or not nested or nested in seen:
                continue
            if depth + 1 > _MAX_DEPTH or read >= _MAX_STACKS:
                continue
            seen.add(nested)
            read += 1
            try:
                listed.extend(walk(nested, depth + 1))
            except AwsNotFound:  # each nested stack is its own call: one gone skips only itself
                continue
        return listed

    return walk(name_or_id, 0)


def physical_ids(name_or_id: str, resource_type: str, *, region: str | None = None) -> list[str]:
    """Physical ids of the stack's (and its nested stacks') resources of one type."""
    return [
        r.physical_id for r in stack_resources(name_or_id, region=region) if r.resource_type == resource_type and r.physical_id
    ]


def stack_events(name_or_id: str, *, region: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The stack's latest events, newest first."""
    with aws_errors("cloudformation:DescribeStackEvents"):
        page = aws_client("cloudformation", region=region).describe_stack_events(StackName=name_or_id)
        return list(page.get("StackEvents", []))[:limit]


def stack_failure_reason(name_or_id: str, *, region: str | None = None) -> str:
    """CloudFormation's own words for the latest failure of the stack (from its events)."""
    try:
        with aws_errors("cloudformation:DescribeStackEvents"):
            client = aws_client("cloudformation", region=region)
            for page in client.get_paginator("describe_stack_events").paginate(StackName=name_or_id):
                for event in page.get("StackEvents", []):
                    if event.get("ResourceStatus", "").endswith("FAILED") and event.get("ResourceStatusReason"):
                        return f"{event.get('LogicalResourceId', '')}: {event['ResourceStatusReason']}"
    except AwsNotFound:
        return ""
    return ""


def create_stack(name: str, template_body: str, *, tags: dict[str, str], region: str | None = None) -> None:
    with aws_errors("cloudformation:CreateStack"):
        aws_client("cloudformation", region=region).create_stack(
            StackName=name, TemplateBody=template_body, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )


def delete_stack(name_or_id: str, *, region: str | None = None) -> None:
    """Ask CloudFormation to delete the stack; a missing stack is already deleted."""
    try:
        with aws_errors("cloudformation:DeleteStack"):
            aws_client("cloudformation", region=region).delete_stack(StackName=name_or_id)
    except AwsNotFound:
        return
