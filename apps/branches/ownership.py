"""Which AWS resources a branch may act on: those its own deployed stack owns.

`amplify_outputs.json` is written by the build, and a build runs any branch's or pull
request's code, so the buckets and user pool it names prove nothing: a preview could
name production's bucket and send an operator's clicks there. The branch's root stack
(named for the branch, tagged with its app id and branch name) and its nested stacks
say what is really the branch's; what the outputs name beyond that is refused where
the console would act on it (storage browser, user management), and said in the job log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apps.branches.models import BUCKET, USER_POOL, Branch
from console.amplify_names import branch_stack_name
from console.aws_errors import AwsError
from console.cloudformation import describe_stack, stack_resources

# Outputs of the branch stack (`ampx generate outputs` reads these) that name its resources.
_OUTPUT_RESOURCES = {"bucketName": BUCKET, "userPoolId": USER_POOL}
_RESOURCE_TYPES = {"AWS::S3::Bucket": BUCKET, "AWS::Cognito::UserPool": USER_POOL}


@dataclass
class Owned:
    """What the branch's stack owns; `problem` says why nothing is, when that is the case."""

    stack_name: str
    resources: set[tuple[str, str]] = field(default_factory=set)
    problem: str = ""


def named_resources(outputs: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(kind, name) of the buckets and the user pool an outputs document names."""
    found: list[tuple[str, str]] = []
    storage = (outputs or {}).get("storage")
    if isinstance(storage, dict):
        names = [storage.get("bucket_name")]
        names += [b.get("bucket_name") for b in storage.get("buckets") or [] if isinstance(b, dict)]
        found += [(BUCKET, str(name)) for name in dict.fromkeys(names) if name]
    auth = (outputs or {}).get("auth")
    if isinstance(auth, dict) and auth.get("user_pool_id"):
        found.append((USER_POOL, str(auth["user_pool_id"])))
    return found


def stack_owned(branch: Branch) -> Owned:
    """The resources of the branch's stack: its outputs that name them, and its (nested) resources."""
    name = branch_stack_name(branch.app.app_id, branch.name)
    owned = Owned(stack_name=name)
    stack = describe_stack(name)
    if stack is None:
        owned.problem = f"the branch has no deployed stack {name}"
        return owned
    if stack.tags.get("amplify:app-id") != branch.app.app_id or stack.tags.get("amplify:branch-name") != branch.name:
        owned.problem = f"the stack {name} is not tagged as this branch's (amplify:app-id, amplify:branch-name)"
        return owned
    for key, value in stack.outputs.items():
        if key in _OUTPUT_RESOURCES and value:
            owned.resources.add((_OUTPUT_RESOURCES[key], value))
        elif key == "buckets" and value:
            owned.resources.update((BUCKET, str(b.get("bucketName"))) for b in _json_list(value) if b.get("bucketName"))
    for resource in stack_resources(stack.stack_id):
        if resource.resource_type in _RESOURCE_TYPES and resource.physical_id:
            owned.resources.add((_RESOURCE_TYPES[resource.resource_type], resource.physical_id))
    return owned


def _json_list(text: str) -> list[dict[str, Any]]:
    """The objects of a JSON array output. Real stacks write `buckets` as an array of JSON
    strings (`["{\\"name\\":...}"]`); stacks of older stand-ins wrote the objects themselves."""
    try:
        value = json.loads(text)
    except ValueError:
        return []
    found = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str):
            try:
                item = json.loads(item)
            except ValueError:
                continue
        if isinstance(item, dict):
            found.append(item)
    return found


def unowned_resources(branch: Branch, outputs: dict[str, Any]) -> tuple[list[dict[str, str]], str]:
    """The resources the outputs name that the branch's stack does not own, each with the
    reason, and the stack's name. Nothing is owned when the stack cannot be read."""
    named = named_resources(outputs)
    if not named:
        return [], ""
    try:
        owned = stack_owned(branch)
    except AwsError as error:
        owned = Owned(
            stack_name=branch_stack_name(branch.app.app_id, branch.name), problem=f"its stack could not be read ({error})"
        )
    refused = [
        {"kind": kind, "name": name, "reason": owned.problem or f"the branch's stack {owned.stack_name} does not own it"}
        for kind, name in named
        if owned.problem or (kind, name) not in owned.resources
    ]
    return refused, owned.stack_name


def refusal(branch: Branch, kind: str, name: str) -> str:
    """Why the console will not act on this resource of the branch's outputs ("" when it may)."""
    for entry in branch.backend_outputs_unowned or []:
        if entry.get("kind") == kind and entry.get("name") == name:
            return (
                f"{branch.name}'s amplify_outputs.json names the {kind} {name}, but {entry.get('reason')}: the console "
                "does not act on resources a build names without its stack owning them."
            )
    return ""
