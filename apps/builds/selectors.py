"""What other apps may read of builds: a job's stored log and its page's address, whom a
branch's builds trust, a webhook's trigger URL, and a build's output files (never through a
symlink out of it)."""

from __future__ import annotations

from apps.builds.artifacts import ArtifactError as ArtifactError
from apps.builds.artifacts import ArtifactFile as ArtifactFile
from apps.builds.artifacts import collect_artifacts as collect_artifacts
from apps.builds.artifacts import content_type_for as content_type_for
from apps.builds.artifacts import inside as inside
from apps.builds.joblog import stored_log as stored_log
from apps.builds.links import job_url as job_url
from apps.builds.trust import BuildTrust as BuildTrust
from apps.builds.trust import build_trust as build_trust
from apps.builds.webhooks import trigger_url as trigger_url
from apps.builds.workspace_files import read_workspace_file as read_workspace_file
