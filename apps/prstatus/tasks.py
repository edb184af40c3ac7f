"""Reporting to git hosts: one attempt per message, the next queued with its backoff."""

from __future__ import annotations

from celery import shared_task

from apps.prstatus import services
from apps.prstatus.reporting import overdue_reports, report_attempt
from console.queue import send


@shared_task(name="apps.prstatus.tasks.sync", acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def sync(report_pk: int) -> None:
    retry_in = report_attempt(report_pk)
    if retry_in is not None:
        sync.apply_async(args=(report_pk,), countdown=retry_in)


@shared_task(name="apps.prstatus.tasks.requeue_overdue_reports", ignore_result=True)
def requeue_overdue_reports() -> list[int]:
    overdue = overdue_reports()
    for report_pk in overdue:
        send(sync, report_pk)
    return overdue


@shared_task(name="apps.prstatus.tasks.prune_calls", ignore_result=True)
def prune_calls() -> int:
    return services.prune_calls()
