"""Sandboxes in CloudFormation: which stacks are sandboxes, and their details. Every call
names its region: sandboxes live in many. Stacks are read through console.cloudformation;
sandbox secrets belong to the secrets app (its selectors and services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.amplify_names import ParsedStackName, deployment_status, parse_stack_name
from console.cloudformation import Resource, Stack, all_stacks, describe_stack, stack_events, stack_resources

SANDBOX_TAG = ("amplify:deployment-type", "sandbox")
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


def _sandbox(stack: Stack, region: str, parsed: ParsedStackName) -> SandboxStack:
    return SandboxStack(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        region=region,
        parsed=parsed,
        stack_status=stack.stack_status,
        status_reason=stack.status_reason,
        created_time=stack.created,
        last_updated=stack.last_updated,
    )


def sandbox_stack(stack: Stack, region: str) -> SandboxStack | None:
    """The stack as a sandbox, or None: the toolchain's test is a name that parses
    with type `sandbox` (exactly five dash parts) and the deployment-type tag."""
    parsed = parse_stack_name(stack.name)
    if parsed is None or parsed.type != "sandbox" or stack.parent_id:
        return None
    if stack.tags.get(SANDBOX_TAG[0]) != SANDBOX_TAG[1]:
        return None
    return _sandbox(stack, region, parsed)


def list_sandbox_stacks(region: str) -> list[SandboxStack]:
    """Every sandbox stack of the region that is not DELETE_COMPLETE."""
    return [sandbox for stack in all_stacks(region=region) if (sandbox := sandbox_stack(stack, region)) is not None]


def describe_sandbox(region: str, stack_id: str) -> SandboxStack | None:
    """One stack by id (ids still answer after DELETE_COMPLETE); None if unknown."""
    stack = describe_stack(stack_id, region=region, deleted=True)
    parsed = parse_stack_name(stack.name) if stack is not None else None
    return _sandbox(stack, region, parsed) if stack is not None and parsed is not None else None


def count_resources(region: str, stack_id: str) -> int:
    return len(stack_resources(stack_id, region=region, nested=False))


@dataclass
class StackDetail:
    resources: list[Resource] = field(default_factory=list)
    outputs: list[dict[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""


def stack_detail(region: str, stack_id: str) -> StackDetail | None:
    """Resources (nested stacks included), outputs, tags and the latest events."""
    stack = describe_stack(stack_id, region=region, deleted=True)
    if stack is None:
        return None
    detail = StackDetail(
        outputs=[
            {"key": key, "value": value, "description": stack.output_descriptions.get(key, "")}
            for key, value in stack.outputs.items()
        ],
        tags=sorted(stack.tags.items()),
        description=stack.description,
    )
    if stack.stack_status != "DELETE_COMPLETE":
        detail.resources = stack_resources(stack_id, region=region)
    detail.events = stack_events(stack_id, region=region, limit=EVENTS_SHOWN)
    return detail
