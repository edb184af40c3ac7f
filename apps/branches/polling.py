"""The periodic poll: `git ls-remote` of each app's repository, then sync."""

from __future__ import annotations

import logging

from django.db.models import Q

from apps.branches.git import GitError, list_remote_branches
from apps.branches.gitsync import sync_app
from apps.branches.models import App, GitDelivery

logger = logging.getLogger(__name__)


def apps_to_poll() -> list[int]:
    """Apps with something to do on a change: detection, disconnection or auto-build."""
    wanted = Q(auto_detect_branches=True) | Q(auto_disconnect=True) | Q(branches__enable_auto_build=True)
    return list(App.objects.filter(wanted).values_list("pk", flat=True).distinct())


def poll_one(app_pk: int) -> str:
    app = App.objects.filter(pk=app_pk).first()
    if app is None:
        return "app gone"
    try:
        heads = {b.name: b.commit for b in list_remote_branches(app.repository)}
    except GitError as error:
        logger.warning("poll of %s failed: %s", app.app_id, error)
        return f"git failed: {error}"
    result = sync_app(app, heads, source="poll")
    summary = result.summary()
    if summary != "no change":
        # Only changes are recorded: a quiet poll every minute would drown the list.
        from django.utils import timezone

        GitDelivery.objects.create(
            app=app, provider="poll", delivery_id=timezone.now().isoformat(), event="poll", outcome=summary[:500]
        )
    return summary
