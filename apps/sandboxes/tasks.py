"""Celery tasks: thin, take ids, safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.sandboxes.models import SandboxDeletion
from console.progress import hand_on_stalled
from console.queue import send


@shared_task(name="apps.sandboxes.tasks.refresh_sandboxes", ignore_result=True, time_limit=1800)
def refresh_sandboxes() -> dict[str, int]:
    """Beat and the Refresh button: list every region, then hand stalled deletions on."""
    from apps.sandboxes.inventory import refresh_inventory

    result = refresh_inventory()
    requeue_stalled_deletions()
    return {"added": result.added, "updated": result.updated, "gone": result.gone}


@shared_task(name="apps.sandboxes.tasks.delete_sandbox", acks_late=True, ignore_result=True, time_limit=2 * 3600)
def delete_sandbox(sandbox_pk: int) -> None:
    from apps.sandboxes.deletion import run_deletion

    run_deletion(sandbox_pk)


@shared_task(name="apps.sandboxes.tasks.apply_retention", ignore_result=True)
def apply_retention() -> int:
    from apps.sandboxes.retention import apply_retention as apply

    return len(apply())


def requeue_stalled_deletions() -> list[int]:
    """Deletions nobody is carrying out go back to the queue: a worker that died (no
    heartbeat for a while) or a request whose message was lost. Claiming is atomic,
    so a duplicate message does nothing. The sandboxes' pks."""
    cutoff = timezone.now() - timedelta(seconds=settings.SANDBOX_DELETE_STALL_SECONDS)
    sandbox_of = dict(SandboxDeletion.objects.filter(status__in=SandboxDeletion.ACTIVE).values_list("pk", "sandbox_id"))
    handed = hand_on_stalled(SandboxDeletion, cutoff=cutoff, resend=lambda pk: send(delete_sandbox, sandbox_of[pk]))
    return sorted(sandbox_of[pk] for pk in handed)
