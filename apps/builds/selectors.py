"""What other apps may read of builds: a job's stored log and its page's address, whom a
branch's builds trust, a webhook's trigger URL, a build's output files (never through a
symlink out of it), an app's jobs for the insights charts, and whether an automatic build
is skipped (skip markers, path filters)."""

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
from apps.builds.skipping import last_built_commit as last_built_commit
from apps.builds.skipping import marker_reason as marker_reason
from apps.builds.skipping import needs_app_root as needs_app_root
from apps.builds.skipping import path_rule as path_rule
from apps.builds.skipping import paths_reason as paths_reason
from apps.builds.trust import BuildTrust as BuildTrust
from apps.builds.trust import build_trust as build_trust
from apps.builds.webhooks import trigger_url as trigger_url
from apps.builds.workspace_files import read_workspace_file as read_workspace_file


def app_jobs(app: App) -> QuerySet[Job]:
    """Every job of the app's branches, unordered (for aggregates: no ORDER BY to undo)."""
    return Job.objects.filter(branch__app=app).order_by()
