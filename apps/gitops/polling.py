"""The periodic poll: `git ls-remote` of every app's repository, then sync.

A cycle reads the database twice in all (apps, then their branches' names and
last-seen commits), lists the repositories in parallel (git hosts are slow,
local repositories are cheap: either way threads overlap the waiting), and only
for an app where something changed loads objects and writes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.branches.models import App, Branch
from apps.branches.selectors import PatternError, parse_patterns
from apps.branches.services import GitError, remote_heads, store_heads
from apps.gitops.gitsync import sync_app
from apps.gitops.models import GitDelivery

logger = logging.getLogger(__name__)


def apps_to_poll() -> list[int]:
    """Apps with something to do on a change: detection, disconnection or auto-build."""
    wanted = Q(auto_detect_branches=True) | Q(auto_disconnect=True) | Q(branches__enable_auto_build=True)
    return list(App.objects.filter(wanted).order_by().values_list("pk", flat=True).distinct())


@dataclass(frozen=True)
class _Known:
    seen: dict[str, str]  # connected (non-preview) branch -> last seen commit


def _known_branches(app_pks: list[int]) -> dict[int, _Known]:
    seen: dict[int, dict[str, str]] = defaultdict(dict)
    rows = Branch.objects.filter(app_id__in=app_pks, pull_request_number__isnull=True).order_by()
    for app_pk, name, commit in rows.values_list("app_id", "name", "last_seen_commit"):
        seen[app_pk][name] = commit
    return {pk: _Known(seen[pk]) for pk in app_pks}


def _changed(app: App, heads: dict[str, str], known: _Known) -> bool:
    """Whether sync_app would do anything: a moved branch, a new match, a deletion."""
    if any(known.seen.get(name, commit) != commit for name, commit in heads.items()):
        return True
    if app.auto_disconnect and heads and any(name not in heads for name in known.seen):
        return True
    new = [name for name in heads if name not in known.seen]
    if new and app.auto_detect_branches:
        try:
            return bool(parse_patterns(app.auto_detect_patterns).filter(new))
        except PatternError:
            return False
    return False


def poll_cycle(app_pks: list[int]) -> dict[int, str]:
    """Poll these apps; returns a one-line outcome per app."""
    apps = list(App.objects.filter(pk__in=app_pks).order_by())
    known = _known_branches([app.pk for app in apps])

    def listing(app: App) -> dict[str, str] | GitError:
        try:
            return remote_heads(app.repository, credentials=app.git_credentials)
        except GitError as error:
            return error

    with ThreadPoolExecutor(max_workers=settings.GIT_POLL_CONCURRENCY) as pool:
        listings = list(pool.map(listing, apps))
    outcomes = {}
    for app, heads in zip(apps, listings, strict=True):
        # Pages showing the repository's branches see each read too.
        if isinstance(heads, GitError):
            store_heads(app, None, str(heads))
            logger.warning("poll of %s failed: %s", app.app_id, heads)
            outcomes[app.pk] = f"git failed: {heads}"
            continue
        store_heads(app, heads)
        if not _changed(app, heads, known[app.pk]):
            outcomes[app.pk] = "no change"
        else:
            outcomes[app.pk] = _sync(app, heads)
    return outcomes


def _sync(app: App, heads: dict[str, str]) -> str:
    summary = sync_app(app, heads, source="poll").summary()
    if summary != "no change":
        # Only changes are recorded: a quiet poll every minute would drown the list.
        GitDelivery.objects.create(
            app=app, provider="poll", delivery_id=timezone.now().isoformat(), event="poll", outcome=summary[:500]
        )
    return summary


def poll_one(app_pk: int) -> str:
    """Poll one app (a "check now", and what tests call)."""
    return poll_cycle([app_pk]).get(app_pk, "app gone")
