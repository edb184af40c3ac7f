"""What other apps may ask of builds: start, cancel and retry jobs; manage incoming webhooks;
probe whether this worker can isolate builds. The modules behind these stay private."""

from __future__ import annotations

from apps.builds.isolation import check_build_isolation as check_build_isolation
from apps.builds.jobs import job_cancel as job_cancel
from apps.builds.jobs import job_retry as job_retry
from apps.builds.jobs import job_start as job_start
from apps.builds.webhooks import webhook_create as webhook_create
from apps.builds.webhooks import webhook_delete as webhook_delete
from apps.builds.webhooks import webhook_update as webhook_update
