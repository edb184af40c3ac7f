"""CloudFormation and SSM reads and writes for sandboxes: the only module here that
talks to boto3. Every call names its region: sandboxes live in many."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apps.secrets import ssm
from console.amplify_names import ParsedStackName, deployment_status, parse_stack_name
from console.aws import aws_client
from console.aws_errors import AwsNotFound, aws_errors

SANDBOX_TAG = ("amplify:deployment-type", "sandbox")
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
EVENTS_SHOWN = 50


@dataclass(frozen=True)
class SandboxStack:
    stack_id: str
    stack_name: str
    region: str
    parsed: ParsedStackName
    stack_status: str
    status_reason: str
    created_time: datetime | None
    last_updated: datetime | None

    @property
    def status(self) -> str:
        return deployment_status(self.stack_status)


def _sandbox(stack: dict[str, Any], region: str, parsed: ParsedStackName) -> SandboxStack:
    return SandboxStack(
        stack_id=str(stack.get("StackId") or stack["StackName"]),
        stack_name=str(stack["StackName"]),
        region=region,
        parsed=parsed,
        stack_status=str(stack.get("StackStatus", "")),
        status_reason=str(stack.get("StackStatusReason", ""))[:1000],
        created_time=stack.get("CreationTime"),
        last_updated=stack.get("LastUpdatedTime") or stack.get("CreationTime"),
    )


def sandbox_stack(stack: dict[str, Any], region: str) -> SandboxStack | None:
    """The stack as a sandbox, or None: the toolchain's test is a name that parses
    with type `sandbox` (exactly five dash parts) and the deployment-type tag."""
    parsed = parse_stack_name(str(stack.get("StackName", "")))
    if parsed is None or parsed.type != "sandbox" or stack.get("ParentId"):
        return None
    tags = {tag.get("Key"): tag.get("Value") for tag in stack.get("Tags", [])}
    if tags.get(SANDBOX_TAG[0]) != SANDBOX_TAG[1]:
        return None
    return _sandbox(stack, region, parsed)


def list_sandbox_stacks(region: str) -> list[SandboxStack]:
    """Every sandbox stack of the region that is not DELETE_COMPLETE.

    DescribeStacks without a name pages through exactly the stacks ListStacks gives for
    "every status but DELETE_COMPLETE", with their tags: the toolchain's list, then
    describe each, in a handful of calls instead of one per stack.
    """
    found = []
    with aws_errors("cloudformation:DescribeStacks"):
        for page in aws_client("cloudformation", region=region).get_paginator("describe_stacks").paginate():
            for stack in page.get("Stacks", []):
                sandbox = sandbox_stack(stack, region)
                if sandbox is not None:
                    found.append(sandbox)
    return found


def describe_sandbox(region: str, stack_id: str) -> SandboxStack | None:
    """One stack by id (ids still answer after DELETE_COMPLETE); None if unknown."""
    try:
        with aws_errors("cloudformation:DescribeStacks"):
            stacks = aws_client("cloudformation", region=region).describe_stacks(StackName=stack_id).get("Stacks", [])
    except AwsNotFound:
        return None
    for stack in stacks:
        parsed = parse_stack_name(str(stack.get("StackName", "")))
        if parsed is not None:
            return _sandbox(stack, region, parsed)
    return None


def count_resources(region: str, stack_id: str) -> int:
    with aws_errors("cloudformation:ListStackResources"):
        pages = aws_client("cloudformation", region=region).get_paginator("list_stack_resources").paginate(StackName=stack_id)
        return sum(len(page.get("StackResourceSummaries", [])) for page in pages)


@dataclass
class Resource:
    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    reason: str
    last_updated: datetime | None
    depth: int = 0


@dataclass
class StackDetail:
    resources: list[Resource] = field(default_factory=list)
    outputs: list[dict[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""


def _resources(region: str, stack_id: str, depth: int, seen: set[str]) -> list[Resource]:
    """The stack's resources, each nested stack's own resources right after it."""
    client = aws_client("cloudformation", region=region)
    listed: list[Resource] = []
    with aws_errors("cloudformation:ListStackResources"):
        for page in client.get_paginator("list_stack_resources").paginate(StackName=stack_id):
            for summary in page.get("StackResourceSummaries", []):
                resource = Resource(
                    logical_id=summary.get("LogicalResourceId", ""),
                    physical_id=summary.get("PhysicalResourceId", ""),
                    resource_type=summary.get("ResourceType", ""),
                    status=summary.get("ResourceStatus", ""),
                    reason=summary.get("ResourceStatusReason", ""),
                    last_updated=summary.get("LastUpdatedTimestamp"),
                    depth=depth,
                )
                listed.append(resource)
                nested = resource.physical_id
                if resource.resource_type == NESTED_STACK_TYPE and nested and nested not in seen and depth < 5:
                    seen.add(nested)
                    with contextlib.suppress(AwsNotFound):  # a nested stack already gone
                        listed.extend(_resources(region, nested, depth + 1, seen))
    return listed


def stack_detail(region: str, stack_id: str) -> StackDetail | None:
    """Resources (nested stacks included), outputs, tags and the latest events."""
    client = aws_client("cloudformation", region=region)
    try:
        with aws_errors("cloudformation:DescribeStacks"):
            stacks = client.describe_stacks(StackName=stack_id).get("Stacks", [])
    except AwsNotFound:
        return None
    if not stacks:
        return None
    stack = stacks[0]
    detail = StackDetail(
        outputs=[
            {"key": o.get("OutputKey", ""), "value": o.get("OutputValue", ""), "description": o.get("Description", "")}
            for o in stack.get("Outputs", [])
        ],
        tags=sorted((t.get("Key", ""), t.get("Value", "")) for t in stack.get("Tags", [])),
        description=str(stack.get("Description", "")),
    )
    if stack.get("StackStatus") != "DELETE_COMPLETE":
        detail.resources = _resources(region, stack_id, 0, {stack_id})
    with aws_errors("cloudformation:DescribeStackEvents"):
        page = client.describe_stack_events(StackName=stack_id)
        detail.events = list(page.get("StackEvents", []))[:EVENTS_SHOWN]
    return detail


def sandbox_secret_counts(region: str) -> dict[str, int]:
    """{secret prefix: number of secrets} for every sandbox in the region, from one
    recursive walk of /amplify (sandbox secrets sit at /amplify/<pkg>/<id>-sandbox-<hash>/)."""
    counts: dict[str, int] = {}
    for info in ssm.list_parameters("/amplify", recursive=True, region=region):
        prefix = info.path.rsplit("/", 1)[0] + "/"
        if "-sandbox-" in prefix:
            counts[prefix] = counts.get(prefix, 0) + 1
    return counts


def sandbox_secret_names(region: str, prefix: str) -> list[str]:
    return sorted(info.name for info in ssm.list_parameters(prefix, region=region))


def delete_sandbox_secrets(region: str, prefix: str) -> list[str]:
    """Delete every secret under the sandbox's prefix; returns the names deleted."""
    deleted = []
    for info in list(ssm.list_parameters(prefix, region=region)):
        if ssm.delete(info.path, region=region):
            deleted.append(info.name)
    return sorted(deleted)
