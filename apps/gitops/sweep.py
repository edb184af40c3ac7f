"""Finding preview stacks whose pull request is gone (left behind by anything)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from apps.branches.models import App
from console.amplify_names import parse_stack_name
from console.cloudformation import stack_names


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
    for name, status in stack_names():
        parsed = parse_stack_name(name)
        if parsed is None or parsed.type != "branch" or parsed.namespace != app.app_id:
            continue
        number = parsed.name.removeprefix("pr")
        if parsed.name.startswith("pr") and number.isdigit() and parsed.name not in live_previews:
            found.append(OrphanedStack(name, number, status))
    cache.set(_cache_key(app), found, timeout=None)
    return found


def orphaned_preview_stacks(app: App) -> list[OrphanedStack] | None:
    """What the last sweep found, or None if no sweep ran yet."""
    result: list[OrphanedStack] | None = cache.get(_cache_key(app))
    return result
