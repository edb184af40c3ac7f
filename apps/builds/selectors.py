"""What other apps may read of builds: a job's stored log and its page's address, whom a
branch's builds trust, a webhook's trigger URL, a build's output files (never through a
symlink out of it), and an app's jobs for the insights charts."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.branches.models import App
from apps.builds.artifacts import ArtifactError as ArtifactError
from apps.builds.artifacts import ArtifactFile as ArtifactFile
from apps.builds.artifacts import collect_artifacts as collect_artifacts
from apps.builds.artifacts import content_type_for as content_type_for
from apps.builds.artifacts import inside as inside
from apps.builds.joblog import stored_log as stored_log
from apps.builds.links import job_url as job_url
from apps.builds.models import Job
from apps.builds.trust import BuildTrust as BuildTrust
from apps.builds.trust import build_trust as build_trust
from apps.builds.webhooks import trigger_url as trigger_url
from apps.builds.workspace_files import read_workspace_file as read_workspace_file


def app_jobs(app: App) -> QuerySet[Job]:
    """Every job of the app's branches, unordered (for aggregates: no ORDER BY to undo)."""
    return Job.objects.filter(branch__app=app).order_by()
