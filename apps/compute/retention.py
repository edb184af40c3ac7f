"""Collecting compute bundles no kept deployment references, safe while builds run.

The same protocol as the hosting store's objects (apps/hosting/retention.py): a
publish commits the row naming its bundle under the store lock before it looks in
the bucket, and the collector reads the references again under that lock before it
deletes; bundles younger than HOSTING_GC_GRACE_MINUTES are never collected."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.compute.bundles import BUNDLES, bundle_key
from apps.compute.models import ComputeDeployment
from apps.hosting import services as hosting
from apps.hosting.services import hold_store_lock


def _referenced(digests: list[str]) -> set[str]:
    return set(ComputeDeployment.objects.filter(bundle_sha256__in=digests).values_list("bundle_sha256", flat=True))


def collect_bundles() -> int:
    """Delete the stored bundles no deployment references; how many were deleted."""
    hosting.ensure_bucket()
    cutoff = timezone.now() - timedelta(minutes=settings.HOSTING_GC_GRACE_MINUTES)
    old = sorted(
        key[len(BUNDLES) :].removesuffix(".tar.gz") for key, modified in hosting.iter_objects(BUNDLES) if modified < cutoff
    )
    deleted = 0
    for start in range(0, len(old), 500):
        batch = old[start : start + 500]
        with transaction.atomic():
            hold_store_lock()
            taken = _referenced(batch)
            doomed = [bundle_key(digest) for digest in batch if digest not in taken]
            deleted += len(doomed) - len(hosting.delete_keys(doomed))
    return deleted
