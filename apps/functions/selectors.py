"""Reads for a branch's functions: the Lambda functions of its backend stack (nested
stacks included) and their logs in CloudWatch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache

from apps.branches.models import Branch
from apps.functions import cloudwatch, lambdas
from apps.functions.cloudwatch import EventsPage, LogEvent, StreamsPage
from apps.functions.lambdas import Function
from console.aws_errors import AwsNotFound
from console.cloudformation import stack_resources

FUNCTION_TYPE = "AWS::Lambda::Function"
EVENTS_PAGE = 100
TAIL_PAGE = 200
DOWNLOAD_CAP = 100_000
# Which functions a stack has changes only with a deploy: the logs pages and the tail's
# polls check a name against a list this young instead of walking the stacks each time.
# A name not in the list is looked up again at once, so a new function is never refused.
KNOWN_FOR_SECONDS = 30


@dataclass(frozen=True)
class StackFunction:
    """A function as the stack names it: its logical id and its Lambda name."""

    logical_id: str
    name: str


class NoStack(Exception):
    """The branch has no deployed backend stack."""


def stack_functions(branch: Branch) -> list[StackFunction]:
    """The AWS::Lambda::Function resources of the branch's stack and its nested stacks."""
    try:
        resources = stack_resources(branch.backend_stack_name)
    except AwsNotFound:
        raise NoStack(f"{branch.name} has no backend stack ({branch.backend_stack_name}): deploy the branch first.") from None
    return [StackFunction(r.logical_id, r.physical_id) for r in resources if r.resource_type == FUNCTION_TYPE and r.physical_id]


def _known_key(branch: Branch) -> str:
    return f"functions:stack:{branch.backend_stack_name}"


def _read_and_remember(branch: Branch) -> list[StackFunction]:
    found = stack_functions(branch)
    cache.set(_known_key(branch), {f.name: f.logical_id for f in found}, KNOWN_FOR_SECONDS)
    return found


def branch_functions(branch: Branch) -> list[Function]:
    """Each function of the branch's stack with its configuration, by friendly name."""
    found = [lambdas.get_function(f.name, logical_id=f.logical_id) for f in _read_and_remember(branch)]
    return sorted(found, key=lambda f: (f.friendly_name.lower(), f.name))


def stack_function(branch: Branch, name: str) -> StackFunction | None:
    """The function of that Lambda name, when the branch's stack has it (else None)."""
    known: dict[str, str] | None = cache.get(_known_key(branch))
    if known is not None and name in known:
        return StackFunction(known[name], name)
    return next((f for f in _read_and_remember(branch) if f.name == name), None)


def function_detail(branch: Branch, name: str) -> Function | None:
    found = stack_function(branch, name)
    return lambdas.get_function(found.name, logical_id=found.logical_id) if found else None


def recent_streams(function_name: str, *, token: str | None = None, limit: int = 20) -> StreamsPage:
    return cloudwatch.log_streams(lambdas.log_group_of(function_name), limit=limit, token=token)


def events_page(
    function_name: str, *, pattern: str, start: int | None, end: int | None, token: str | None, limit: int = EVENTS_PAGE
) -> EventsPage:
    """One page of the function's matching events: one FilterLogEvents call."""
    group = lambdas.log_group_of(function_name)
    return cloudwatch.filter_events(group, pattern=pattern, start=start, end=end, limit=limit, token=token)


def events_after(function_name: str, *, after: int, seen: frozenset[str], pattern: str) -> list[LogEvent]:
    """For the live tail: events from `after` (ms) on that were not shown yet (`seen`: the ids
    shown at that very millisecond), at most TAIL_PAGE a poll; the next poll goes on."""
    page = events_page(function_name, pattern=pattern, start=after, end=None, token=None, limit=TAIL_PAGE)
    return [event for event in page.events if not (event.timestamp == after and event.event_id in seen)]


def matching_events(function_name: str, *, pattern: str, start: int | None, end: int | None) -> Iterator[LogEvent]:
    """Every matching event, read page by page (nextToken) as the caller consumes them."""
    group = lambdas.log_group_of(function_name)
    yield from cloudwatch.all_events(group, pattern=pattern, start=start, end=end)
