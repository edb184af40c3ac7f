"""The branch backend stacks in CloudFormation (read only here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.amplify_names import deployment_status
from console.aws import aws_client
from console.aws_errors import AwsNotFound, aws_errors


@dataclass(frozen=True)
class StackSummary:
    name: str
    stack_status: str
    status: str
    last_updated: datetime | None
    outputs: dict[str, str]


def describe_stack(stack_name: str) -> StackSummary | None:
    """The stack, or None when it does not exist (never deployed or deleted)."""
    try:
        with aws_errors("cloudformation:DescribeStacks"):
            response = aws_client("cloudformation").describe_stacks(StackName=stack_name)
    except AwsNotFound:
        return None
    stacks = response.get("Stacks", [])
    if not stacks:
        return None
    stack = stacks[0]
    return StackSummary(
        name=stack["StackName"],
        stack_status=stack["StackStatus"],
        status=deployment_status(stack["StackStatus"]),
        last_updated=stack.get("LastUpdatedTime") or stack.get("CreationTime"),
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
    )


def delete_stack(stack_name: str, *, region: str | None = None) -> None:
    """Ask CloudFormation to delete the stack (name or id); a missing stack is already deleted."""
    try:
        with aws_errors("cloudformation:DeleteStack"):
            aws_client("cloudformation", region=region).delete_stack(StackName=stack_name)
    except AwsNotFound:
        return


def stack_failure_reason(stack_name: str, *, region: str | None = None) -> str:
    """CloudFormation's own words for the latest failure of the stack (from its events)."""
    try:
        with aws_errors("cloudformation:DescribeStackEvents"):
            client = aws_client("cloudformation", region=region)
            for page in client.get_paginator("describe_stack_events").paginate(StackName=stack_name):
                for event in page.get("StackEvents", []):
                    if event.get("ResourceStatus", "").endswith("FAILED") and event.get("ResourceStatusReason"):
                        return f"{event.get('LogicalResourceId', '')}: {event['ResourceStatusReason']}"
    except AwsNotFound:
        return ""
    return ""
