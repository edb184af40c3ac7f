"""What the store and delivery tests share: content hashes and finished jobs to publish for."""

from __future__ import annotations

import hashlib

from django.db.models import Max

from apps.branches.models import Branch
from apps.builds.models import Job


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_job(branch: Branch) -> int:
    """A finished job of the branch (publish needs one), numbered after the last."""
    number = (Job.objects.filter(branch=branch).aggregate(last=Max("job_id"))["last"] or 0) + 1
    return Job.objects.create(branch=branch, job_id=number, job_type=Job.Type.MANUAL, status=Job.Status.SUCCEED).pk
