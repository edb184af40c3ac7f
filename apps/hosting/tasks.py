"""Hosting's periodic work: collecting old deployments and objects, trimming access logs."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(name="apps.hosting.tasks.collect_garbage", ignore_result=True, time_limit=3600)
def collect_garbage() -> dict[str, int]:
    from apps.hosting.retention import collect

    return collect()  # lazily: the worker imports tasks before apps are ready


@shared_task(name="apps.hosting.tasks.trim_access_logs", ignore_result=True)
def trim_access_logs() -> int:
    from apps.hosting.models import AccessLogEntry

    cutoff = timezone.now() - timedelta(days=settings.HOSTING_ACCESS_LOG_DAYS)
    deleted, _ = AccessLogEntry.objects.filter(time__lt=cutoff).delete()
    return deleted


@shared_task(name="apps.hosting.tasks.check_domain", ignore_result=True, acks_late=True, time_limit=60, soft_time_limit=45)
def check_domain(domain_id: int) -> str:
    """Look a custom domain's names up and store what was found (safe to run twice)."""
    from apps.hosting.domain_dns import check_domain_by_id

    return check_domain_by_id(domain_id)


@shared_task(name="apps.hosting.tasks.check_domains", ignore_result=True)
def check_domains() -> int:
    """Queue a check of every domain still waiting for its DNS (and daily, the verified ones)."""
    from apps.hosting.domain_dns import domains_due
    from console.queue import send

    due = list(domains_due().values_list("pk", flat=True))
    for pk in due:
        send(check_domain, pk)
    return len(due)
