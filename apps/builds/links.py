"""Links to builds from outside the console (notifications, pull-request statuses)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from apps.builds.models import Job


def job_url(job: Job) -> str:
    """The absolute address of the job's page, where people reach the console (CONSOLE_URL)."""
    path = reverse("job_detail", args=[job.branch.app.app_id, job.branch.display_name, job.job_id])
    return f"{str(settings.CONSOLE_URL).rstrip('/')}{path}"
