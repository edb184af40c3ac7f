"""What other apps may ask of builds: start, cancel and retry jobs; manage incoming webhooks;
probe whether this worker can isolate builds; run other hostile code in the build sandbox
(apps.compute's servers); deploy other kinds of build output; hear of jobs starting and
ending (apps.notifications). The modules behind these stay private."""

from __future__ import annotations

from apps.builds.buildcache import pack_cache as pack_cache
from apps.builds.buildcache import unpack_cache as unpack_cache
from apps.builds.deployers import BuildOutput as BuildOutput
from apps.builds.deployers import DeployFailed as DeployFailed
from apps.builds.deployers import register_output_deployer as register_output_deployer
from apps.builds.deployers import register_redeploy_hook as register_redeploy_hook
from apps.builds.events import JobEvent as JobEvent
from apps.builds.events import register_job_listener as register_job_listener
from apps.builds.isolation import check_build_isolation as check_build_isolation
from apps.builds.joblog import Masker as Masker
from apps.builds.jobs import job_cancel as job_cancel
from apps.builds.jobs import job_retry as job_retry
from apps.builds.jobs import job_start as job_start
from apps.builds.nodejs import with_system_certificates as with_system_certificates
from apps.builds.process import kill_group as kill_group
from apps.builds.sandbox import DEFAULT_PATH as DEFAULT_PATH
from apps.builds.sandbox import Layout as Layout
from apps.builds.sandbox import Limits as Limits
from apps.builds.sandbox import Sandbox as Sandbox
from apps.builds.sandbox import isolation_enabled as isolation_enabled
from apps.builds.webhooks import webhook_create as webhook_create
from apps.builds.webhooks import webhook_delete as webhook_delete
from apps.builds.webhooks import webhook_update as webhook_update
