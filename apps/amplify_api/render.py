"""The console's apps, branches, jobs and webhooks in the Amplify API's output shapes
(App, Branch, JobSummary, Job, Step, Webhook), every required member present."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.amplify_api import hosting_settings
from apps.amplify_api.tags import tags_of
from apps.amplify_api.unhonoured import CACHE_CONFIG, JOB_CONFIG
from apps.branches.models import App, Branch, EnvironmentVariable
from apps.builds.models import Job, JobStep, Webhook
from apps.builds.selectors import trigger_url

ACCOUNT_ID = "000000000000"  # the console has no AWS account of its own; Branch.arn uses the same
LOG_URL_SALT = "amplify-api.step-log"
# Like the presigned S3 URLs Amplify hands out for step logs: usable without credentials, for a while.
LOG_URL_LIFETIME = timedelta(hours=1)


def app_arn(app: App) -> str:
    return f"arn:aws:amplify:{settings.AWS_REGION}:{ACCOUNT_ID}:apps/{app.app_id}"


def _variables(rows: Any) -> dict[str, str]:
    return {row.name: row.value for row in rows}


def app_shape(app: App) -> dict[str, Any]:
    production = app.branches.filter(name=app.production_branch).first()
    app_variables = EnvironmentVariable.objects.filter(app=app, branch__isnull=True)
    patterns = [p.strip() for p in app.auto_detect_patterns.split(",") if p.strip()]
    shape: dict[str, Any] = {
        "appId": app.app_id,
        "appArn": app_arn(app),
        "name": app.name,
        "description": app.description,
        "repository": app.repository,
        "platform": app.platform,
        "createTime": app.created_at,
        "updateTime": app.updated_at,
        "environmentVariables": _variables(app_variables),
        "defaultDomain": app.default_domain,
        "enableBranchAutoBuild": app.enable_branch_auto_build,
        "enableBranchAutoDeletion": app.auto_disconnect,
        **hosting_settings.app_fields(app),
        "buildSpec": app.build_spec or None,
        "enableAutoBranchCreation": app.auto_detect_branches,
        "autoBranchCreationPatterns": patterns,
        "autoBranchCreationConfig": {
            "stage": app.auto_detect_stage,
            "enableAutoBuild": app.enable_branch_auto_build,
            "enablePullRequestPreview": False,
        },
        "repositoryCloneMethod": "TOKEN",
        "tags": tags_of(app, None),
        "cacheConfig": dict(CACHE_CONFIG),
        "jobConfig": dict(JOB_CONFIG),
    }
    if app.service_role_arn:
        shape["iamServiceRoleArn"] = app.service_role_arn
    if production is not None:
        last = production.jobs.order_by("-job_id").first()
        shape["productionBranch"] = {
            "branchName": production.name,
            "status": api_status(last.status) if last else None,
            "lastDeployTime": last.ended_at if last else None,
        }
    return shape


def branch_shape(branch: Branch) -> dict[str, Any]:
    jobs = branch.jobs.order_by("-job_id")
    last = jobs.first()
    shape: dict[str, Any] = {
        "branchArn": branch.arn,
        "branchName": branch.name,
        "description": branch.description,
        "stage": branch.stage,
        "displayName": branch.display_name,
        "enableNotification": False,
        "createTime": branch.created_at,
        "updateTime": branch.updated_at,
        "environmentVariables": _variables(branch.environment_variables.all()),
        "enableAutoBuild": branch.enable_auto_build,
        # Through the reverse relation: hosting's SubDomain names its full name.
        "customDomains": [str(sub) for sub in branch.sub_domains.select_related("domain").order_by("pk")],
        "framework": branch.framework,
        "activeJobId": str(last.job_id) if last else "0",
        "totalNumberOfJobs": str(jobs.count()),
        **hosting_settings.branch_fields(branch),
        "ttl": "5",
        "enablePullRequestPreview": branch.pr_previews_enabled,
        "tags": tags_of(branch.app, branch),
    }
    if branch.backend_stack_arn:
        shape["backend"] = {"stackArn": branch.backend_stack_arn}
    if branch.pull_request_number is not None:
        shape["sourceBranch"] = branch.pr_source_branch or None
        shape["destinationBranch"] = branch.pr_destination_branch or None
    return shape


def job_arn(job: Job) -> str:
    return f"{job.branch.arn}/jobs/{job.padded_id}"


def api_status(status: str) -> str:
    """Amplify's JobStatus has no SKIPPED: a skipped job reads as CANCELLED (ended, never ran),
    so SDK waiters that stop on SUCCEED, FAILED or CANCELLED stop on it too; GetJob's steps carry
    the reason in statusReason."""
    return Job.Status.CANCELLED if status == Job.Status.SKIPPED else status


def job_summary(job: Job) -> dict[str, Any]:
    return {
        "jobArn": job_arn(job),
        "jobId": str(job.job_id),
        "commitId": job.commit_id,
        "commitMessage": job.commit_message,
        "commitTime": job.commit_time or job.created_at,
        "startTime": job.started_at or job.created_at,
        "status": api_status(job.status),
        "endTime": job.ended_at,
        "jobType": job.job_type,
    }


def step_log_url(request: HttpRequest, job: Job, step: JobStep) -> str:
    token = signing.dumps({"job": job.pk, "step": step.name}, salt=LOG_URL_SALT, compress=True)
    return request.build_absolute_uri(reverse("amplify_api_step_log", args=[token]))


def job_shape(request: HttpRequest, job: Job, now: datetime | None = None) -> dict[str, Any]:
    """Steps that have started, as Amplify lists them; a running step's endTime is now."""
    now = now or timezone.now()
    steps = []
    for step in job.steps.all():
        skipped = step.status == Job.Status.SKIPPED
        if step.started_at is None and not skipped:
            continue
        explained = step.status in (Job.Status.FAILED, Job.Status.SKIPPED) and job.status_reason
        steps.append(
            {
                "stepName": step.name,
                "startTime": step.started_at or job.started_at or job.created_at,
                "status": api_status(step.status),
                "endTime": step.ended_at or job.ended_at or now,
                "logUrl": step_log_url(request, job, step),
                "statusReason": job.status_reason if explained else None,
            }
        )
    return {"summary": job_summary(job), "steps": steps}


def webhook_arn(webhook: Webhook) -> str:
    return f"{app_arn(webhook.branch.app)}/webhooks/{webhook.webhook_id}"


def webhook_shape(request: HttpRequest, webhook: Webhook) -> dict[str, Any]:
    return {
        "webhookArn": webhook_arn(webhook),
        "webhookId": webhook.webhook_id,
        "webhookUrl": trigger_url(request, webhook),
        "appId": webhook.branch.app.app_id,
        "branchName": webhook.branch.name,
        "description": webhook.name,
        "createTime": webhook.created_at,
        "updateTime": webhook.updated_at,
    }
