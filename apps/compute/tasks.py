"""Compute's periodic work: collecting unreferenced bundles."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="apps.compute.tasks.collect_bundles", ignore_result=True, time_limit=3600)
def collect_bundles() -> int:
    from apps.compute.retention import collect_bundles as collect

    return collect()  # lazily: the worker imports tasks before apps are ready
