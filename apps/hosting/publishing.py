"""Publishing a build's files: hashes, then the manifest, then the objects, then the switch.

The order is what makes collecting safe while builds run (retention.py): the
manifest naming every hash is committed *before* any object is looked up or
uploaded, under the store lock the collector also takes, so an object a build
is about to reuse is referenced before the collector could judge it unused; and
an object the collector deleted just before is found missing and uploaded
again. The branch switches to the new deployment in one UPDATE once every
object is stored, so visitors see the old site or the new one, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.branches.models import Branch
from apps.hosting import store
from apps.hosting.models import DeployedFile, Deployment, StoreLock

logger = logging.getLogger(__name__)

# Uploads and look-ups run this many at a time: a site is hundreds of small files.
PARALLEL = 8


@dataclass(frozen=True)
class SourceFile:
    path: str  # as served: relative POSIX path, no leading "/"
    source: Path
    size: int
    content_type: str


@dataclass(frozen=True)
class Published:
    deployment: Deployment
    uploaded: int  # objects written now
    reused: int  # objects that were already stored


def hold_store_lock() -> None:
    """Take the store lock for the rest of the current transaction.

    An UPDATE, not SELECT ... FOR UPDATE: SQLite ignores the latter, but an UPDATE
    makes any database serialise two transactions that both write the row."""
    if not StoreLock.objects.filter(pk=1).update(touched_at=timezone.now()):
        StoreLock.objects.get_or_create(pk=1)
        StoreLock.objects.filter(pk=1).update(touched_at=timezone.now())


def _manifest(branch: Branch, job_pk: int, files: list[SourceFile], hashes: list[str], custom_headers: str) -> Deployment:
    with transaction.atomic():
        hold_store_lock()
        deployment = Deployment.objects.create(
            branch=branch,
            job_id=job_pk,
            file_count=len(files),
            total_bytes=sum(f.size for f in files),
            custom_headers=custom_headers,
            complete=False,
        )
        DeployedFile.objects.bulk_create(
            [
                DeployedFile(deployment=deployment, path=f.path, content_type=f.content_type, size=f.size, sha256=digest)
                for f, digest in zip(files, hashes, strict=True)
            ],
            batch_size=500,
        )
    return deployment


def publish(
    branch: Branch,
    job_pk: int,
    files: list[SourceFile],
    *,
    custom_headers: str = "",
    say: Callable[[str], None] = lambda _line: None,
    before_live: Callable[[Deployment], None] | None = None,
) -> Published:
    """Store the files and make them the branch's live deployment.

    `before_live` runs once every file is stored and before the switch (a compute
    deployment stores its bundle and starts its server there); if it raises, the
    deployment is dropped and the branch keeps serving what it served."""
    store.ensure_bucket()
    with ThreadPoolExecutor(PARALLEL) as pool:
        hashes = list(pool.map(lambda f: store.file_sha256(f.source), files))
    deployment = _manifest(branch, job_pk, files, hashes, custom_headers)
    unique = {digest: f for f, digest in zip(files, hashes, strict=True)}  # one upload per content
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            stored = list(pool.map(lambda item: store.store_file(item[1].source, item[1].content_type, item[0]), unique.items()))
        by_hash = {item.sha256: item.encodings for item in stored}
        if before_live is not None:
            before_live(deployment)
    except BaseException:
        deployment.delete()  # nothing may go live half-stored; its objects are collected later
        raise
    with transaction.atomic():
        for encodings in sorted(set(by_hash.values()) - {""}):
            digests = [digest for digest, value in by_hash.items() if value == encodings]
            DeployedFile.objects.filter(deployment=deployment, sha256__in=digests).update(encodings=encodings)
        Deployment.objects.filter(pk=deployment.pk).update(complete=True, live_since=timezone.now())
        Branch.objects.filter(pk=branch.pk).update(live_deployment=deployment)
    uploaded = sum(1 for item in stored if item.uploaded)
    say(f"## Stored {uploaded} new objects in the hosting bucket; {len(stored) - uploaded} were already there")
    deployment.complete = True
    return Published(deployment, uploaded, len(stored) - uploaded)


def redeploy(branch: Branch, deployment: Deployment) -> None:
    """Serve a kept deployment again (a rollback): no object is copied or uploaded."""
    if deployment.branch_id != branch.pk or not deployment.complete:
        raise ValueError("Only a complete deployment of this branch can be served again.")
    with transaction.atomic():
        Deployment.objects.filter(pk=deployment.pk).update(live_since=timezone.now())
        Branch.objects.filter(pk=branch.pk).update(live_deployment=deployment)


def deployment_of_job(job_pk: int) -> Deployment | None:
    """The complete deployment a job made, if retention has kept it."""
    return Deployment.objects.filter(job_id=job_pk, complete=True).first()
