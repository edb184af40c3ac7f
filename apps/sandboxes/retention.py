"""The optional retention policy: sandboxes idle longer than N days are deleted.
Off by default; the page always shows what it would delete (the dry run)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.sandboxes.deletion import request_deletion
from apps.sandboxes.models import InventorySettings, Sandbox, SandboxDeletion


def retention_candidates(policy: InventorySettings, now: datetime | None = None) -> QuerySet[Sandbox]:
    """Live sandboxes not updated for `retention_days`, not already being deleted. One
    whose deletion failed is left to an admin: retrying it every hour would not help."""
    return (
        Sandbox.objects.exclude(status=Sandbox.Status.DELETED)
        .exclude(deletion__status__in=(*SandboxDeletion.ACTIVE, SandboxDeletion.Status.FAILED))
        .filter(last_updated__lt=policy.retention_before(now or timezone.now()))
        .order_by("last_updated")
    )


def apply_retention(now: datetime | None = None) -> list[Sandbox]:
    policy = InventorySettings.load()
    if not policy.retention_enabled:
        return []
    return request_deletion(
        actor=None,
        sandboxes=list(retention_candidates(policy, now)),
        with_secrets=policy.retention_with_secrets,
        reason=f"retention policy: idle for more than {policy.retention_days} days",
    )
