"""The environment a build's commands run with."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.conf import settings

from apps.branches.models import Job
from apps.branches.selectors import effective_environment
from apps.secrets.selectors import build_secrets
from console.aws import aws_credentials

# Only these of the worker's own variables reach a build.
_INHERITED = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER", "SHELL")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _console_aws() -> dict[str, str]:
    """The AWS endpoint, region and credentials the console itself uses."""
    env = {"AWS_REGION": settings.AWS_REGION, "AWS_DEFAULT_REGION": settings.AWS_REGION}
    if settings.AWS_ENDPOINT_URL:
        env["AWS_ENDPOINT_URL"] = settings.AWS_ENDPOINT_URL
    frozen = aws_credentials()
    if frozen is not None:
        env["AWS_ACCESS_KEY_ID"] = frozen.access_key
        env["AWS_SECRET_ACCESS_KEY"] = frozen.secret_key
        if frozen.token:
            env["AWS_SESSION_TOKEN"] = frozen.token
    return env


def build_environment(job: Job, spec_variables: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(environment, secret values to mask). Later sources win: spec < app < branch < built-ins."""
    branch = job.branch
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    # The console's Python (with boto3) comes first, so build tools written in Python work.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", DEFAULT_PATH)])
    env.update({str(k): _text(v) for k, v in spec_variables.items()})
    env.update({v.name: v.value for v in effective_environment(branch)})
    aws = _console_aws()
    env.update(aws)
    env.update(
        {
            "CI": "1",
            "AWS_APP_ID": branch.app.app_id,
            "AWS_BRANCH": branch.name,
            "AWS_BRANCH_ARN": branch.arn,
            "AWS_CLONE_URL": branch.app.repository,
            "AWS_COMMIT_ID": job.commit_id,
            "AWS_JOB_ID": job.padded_id,
        }
    )
    if branch.pull_request_number:
        env["AWS_PULL_REQUEST_ID"] = str(branch.pull_request_number)
        env["AWS_PULL_REQUEST_SOURCE_BRANCH"] = branch.pr_source_branch
        env["AWS_PULL_REQUEST_DESTINATION_BRANCH"] = branch.pr_destination_branch
    secrets = [value for key, value in aws.items() if key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
    # The branch's secrets (its own over the shared ones), as Amplify hands them to builds.
    branch_secrets = build_secrets(branch.app.app_id, branch.name)
    if branch_secrets:
        env["secrets"] = json.dumps(branch_secrets)
        secrets.extend(branch_secrets.values())
    return env, secrets


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_timeout_seconds(env: dict[str, str]) -> int:
    """`_BUILD_TIMEOUT` (minutes) from the app's variables, else the console default."""
    raw = env.get("_BUILD_TIMEOUT", "")
    try:
        minutes = int(raw) if raw else settings.BUILD_TIMEOUT_MINUTES
    except ValueError:
        minutes = settings.BUILD_TIMEOUT_MINUTES
    return max(1, min(minutes, 480)) * 60
