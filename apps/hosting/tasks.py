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
