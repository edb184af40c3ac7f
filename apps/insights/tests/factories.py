"""Jobs and sandboxes with the timestamps a test chooses (the models stamp created_at and
first_seen themselves, so these set them after the insert)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from apps.branches.models import Branch
from apps.builds.models import Job
from apps.sandboxes.models import Sandbox

_job_ids = itertools.count(1)
_stacks = itertools.count(1)


def make_job(
    branch: Branch,
    *,
    created: datetime,
    status: str,
    queued: float | None = None,
    ran: float | None = None,
) -> Job:
    """A job created at `created`, started `queued` seconds later and ended `ran` seconds after
    that (None: not started, or not ended)."""
    started = created + timedelta(seconds=queued) if queued is not None else None
    ended = started + timedelta(seconds=ran) if started is not None and ran is not None else None
    job = Job.objects.create(
        branch=branch,
        job_id=next(_job_ids),
        job_type=Job.Type.MANUAL,
        status=status,
        started_at=started,
        ended_at=ended,
    )
    Job.objects.filter(pk=job.pk).update(created_at=created)
    job.refresh_from_db()
    return job


def make_sandbox(
    owner: str,
    *,
    first_seen: datetime,
    last_updated: datetime | None,
    deleted_at: datetime | None = None,
    project: str = "shop",
) -> Sandbox:
    number = next(_stacks)
    return Sandbox.objects.create(
        stack_id=f"arn:aws:cloudformation:us-east-1:123456789012:stack/sb-{number}/{number}",
        stack_name=f"amplify-{project}-{owner}-sandbox-{number:010d}",
        region="us-east-1",
        namespace=project,
        identifier=owner,
        backend_hash=f"{number:010d}",
        status=Sandbox.Status.DELETED if deleted_at else Sandbox.Status.DEPLOYED,
        stack_status="DELETE_COMPLETE" if deleted_at else "CREATE_COMPLETE",
        created_time=first_seen,
        last_updated=last_updated,
        first_seen=first_seen,
        deleted_at=deleted_at,
    )
