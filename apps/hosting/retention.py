"""Keeping the last deployments of each branch, and collecting the objects nobody references.

Safe while builds run, without pausing them: the collector lists the bucket,
then for each batch of candidates takes the store lock, reads again which of
them a manifest references, and deletes only the others before letting go. A
publish commits its manifest under the same lock before it looks at the bucket
(publishing.py), so each object is either referenced before the collector's
check (and kept) or deleted before the publish looks for it (and uploaded
again). Objects younger than HOSTING_GC_GRACE_MINUTES are never collected,
which also covers a console of an older version still publishing during an
upgrade.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.branches.models import Branch
from apps.hosting import store
from apps.hosting.models import DeployedFile, Deployment
from apps.hosting.publishing import hold_store_lock

logger = logging.getLogger(__name__)

# A deployment still incomplete after this long belongs to a build that died mid-publish.
ABANDONED_AFTER = timedelta(days=1)
CHECK_BATCH = 500


def prune_deployments(keep: int | None = None) -> int:
    """Delete all but the last `keep` complete deployments of each branch (never a live one)."""
    keep = keep or settings.HOSTING_KEEP_DEPLOYMENTS
    live = set(Branch.objects.exclude(live_deployment=None).values_list("live_deployment_id", flat=True))
    doomed: list[int] = []
    for branch_id in Deployment.objects.values_list("branch_id", flat=True).distinct():
        complete = Deployment.objects.filter(branch_id=branch_id, complete=True).order_by("-created_at", "-pk")
        doomed += [pk for pk in complete.values_list("pk", flat=True)[keep:] if pk not in live]
    abandoned = Deployment.objects.filter(complete=False, created_at__lt=timezone.now() - ABANDONED_AFTER)
    doomed += [pk for pk in abandoned.values_list("pk", flat=True) if pk not in live]
    if doomed:
        Deployment.objects.filter(pk__in=doomed).delete()
    return len(doomed)


def _unreferenced_candidates() -> list[str]:
    """Hashes stored before the grace period that no manifest references (as of now)."""
    cutoff = timezone.now() - timedelta(minutes=settings.HOSTING_GC_GRACE_MINUTES)
    old: set[str] = set()
    for key, modified in store.iter_objects(store.OBJECTS):
        if modified < cutoff:
            old.add(key[len(store.OBJECTS) :].split(".")[0])
    return sorted(old - _referenced(sorted(old)))


def _referenced(digests: list[str]) -> set[str]:
    """Which of the hashes a manifest names, asked CHECK_BATCH at a time (bounded queries)."""
    found: set[str] = set()
    for start in range(0, len(digests), CHECK_BATCH):
        batch = digests[start : start + CHECK_BATCH]
        found.update(DeployedFile.objects.filter(sha256__in=batch).values_list("sha256", flat=True))
    return found


def _delete_batch(candidates: list[str]) -> int:
    with transaction.atomic():
        hold_store_lock()
        # Read again under the lock: a publish may have referenced one since the listing.
        taken = _referenced(candidates)
        doomed = [digest for digest in candidates if digest not in taken]
        keys = [store.object_key(digest, encoding) for digest in doomed for encoding in ("", "br", "gzip")]
        failed = {key.removeprefix(store.OBJECTS).split(".")[0] for key in store.delete_keys(keys)}
    return len(set(doomed) - failed)


def collect_objects() -> int:
    """Delete the stored objects no deployment references; the number of files collected."""
    store.ensure_bucket()
    candidates = _unreferenced_candidates()
    return sum(_delete_batch(candidates[i : i + CHECK_BATCH]) for i in range(0, len(candidates), CHECK_BATCH))


def collect_caches() -> int:
    """Delete the build caches of branches that are gone."""
    store.ensure_bucket()
    stored = {key: key[len(store.CACHES) :].split(".")[0] for key, _ in store.iter_objects(store.CACHES)}
    existing = {str(pk) for pk in Branch.objects.values_list("pk", flat=True)}
    orphans = [key for key, branch in stored.items() if branch not in existing]
    return len(orphans) - len(store.delete_keys(orphans))


def collect() -> dict[str, int]:
    """The periodic task: old deployments first, then what they alone referenced."""
    deployments = prune_deployments()
    objects = collect_objects()
    caches = collect_caches()
    if deployments or objects or caches:
        logger.info("Hosting retention: %d deployments, %d stored files, %d build caches removed", deployments, objects, caches)
    return {"deployments": deployments, "objects": objects, "caches": caches}
