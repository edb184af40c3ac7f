"""Finding preview stacks whose pull request is gone (left behind by anything)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from apps.branches.models import App
from console.amplify_names import parse_stack_name
from console.aws import aws_client
from console.aws_errors import aws_errors

LIVE_STATUSES = [
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE",
    "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
]  # fmt: skip


@dataclass(frozen=True)
class OrphanedStack:
    stack_name: str
    pull_request: str
    status: str


def _cache_key(app: App) -> str:
    return f"orphaned-previews:{app.app_id}"


def sweep_app(app: App) -> list[OrphanedStack]:
    """Preview stacks (`amplify-<appId>-pr<N>-branch-...`) with no preview branch; cached for the page."""
    live_previews = {
        f"pr{n}" for n in app.branches.filter(pull_request_number__isnull=False).values_list("pull_request_number", flat=True)
    }
    found = []
    with aws_errors("cloudformation:ListStacks"):
        for page in aws_client("cloudformation").get_paginator("list_stacks").paginate(StackStatusFilter=LIVE_STATUSES):
            for summary in page.get("StackSummaries", []):
                parsed = parse_stack_name(summary["StackName"])
                if parsed is None or parsed.type != "branch" or parsed.namespace != app.app_id:
                    continue
                number = parsed.name.removeprefix("pr")
                if parsed.name.startswith("pr") and number.isdigit() and parsed.name not in live_previews:
                    found.append(OrphanedStack(summary["StackName"], number, summary["StackStatus"]))
    cache.set(_cache_key(app), found, timeout=None)
    return found


def orphaned_preview_stacks(app: App) -> list[OrphanedStack] | None:
    """What the last sweep found, or None if no sweep ran yet."""
    result: list[OrphanedStack] | None = cache.get(_cache_key(app))
    return result
