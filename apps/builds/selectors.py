"""What other apps may read of builds: a job's stored log, whom a branch's builds trust,
a webhook's trigger URL."""

from __future__ import annotations

from apps.builds.joblog import stored_log as stored_log
from apps.builds.trust import BuildTrust as BuildTrust
from apps.builds.trust import build_trust as build_trust
from apps.builds.webhooks import trigger_url as trigger_url
