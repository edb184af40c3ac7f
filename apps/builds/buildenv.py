"""The environment a build's commands run with: made from scratch, with the app's
service role credentials (never the console's own) and the branch's secrets when
the build may have them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.branches.selectors import effective_environment
from apps.branches.services import ServiceRoleError, assume_service_role
from apps.builds.models import Job
from apps.builds.sandbox import DEFAULT_PATH
from apps.builds.trust import BuildTrust, build_trust
from apps.secrets.selectors import build_secrets

LANG = "C.UTF-8"


@dataclass
class BuildEnvironment:
    variables: dict[str, str]
    mask: list[str]  # values the log must never show
    notes: list[str] = field(default_factory=list)  # lines for the job log: what the build was given


class NoCredentials(Exception):
    """The build would need AWS credentials it may not have; the message says why."""


def _aws_base() -> dict[str, str]:
    """Region and endpoint, never the console's own credentials."""
    env = {
        "AWS_REGION": settings.AWS_REGION,
        "AWS_DEFAULT_REGION": settings.AWS_REGION,
        # No SDK in a build may fall back to the host's instance metadata.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if settings.AWS_ENDPOINT_URL:
        env["AWS_ENDPOINT_URL"] = settings.AWS_ENDPOINT_URL
    return env


def _service_role(job: Job, trust: BuildTrust, timeout: int, notes: list[str]) -> dict[str, str]:
    app = job.branch.app
    if not app.service_role_arn:
        notes.append("## No service role: the build has no AWS credentials (set one in the app's settings)")
        return {}
    if not trust.service_role:
        notes.append(f"## No service role credentials: {trust.reason}")
        return {}
    try:
        credentials = assume_service_role(
            role_arn=app.service_role_arn,
            app_id=app.app_id,
            branch=job.branch.name,
            job_id=job.padded_id,
            timeout_seconds=timeout,
        )
    except ServiceRoleError as error:
        raise NoCredentials(str(error)) from None
    notes.append(f"## AWS credentials: temporary credentials of the service role {app.service_role_arn}")
    return credentials


def build_environment(job: Job, spec_variables: dict[str, Any], *, home: str, tmp: str) -> BuildEnvironment:
    """What the build's commands run with. Later sources win: spec < app < branch < built-ins.

    Nothing of the worker's own environment reaches a build: it is made from scratch."""
    branch = job.branch
    trust = build_trust(branch)
    notes = [f"## {trust.reason}"] if trust.reason else []
    env = {
        "PATH": DEFAULT_PATH,
        "HOME": home,
        "TMPDIR": tmp,
        "USER": "build",
        "LOGNAME": "build",
        "SHELL": "/bin/bash",
        "LANG": LANG,
    }
    env.update({str(k): _text(v) for k, v in spec_variables.items()})
    env.update({v.name: v.value for v in effective_environment(branch)})
    env.update(_aws_base())
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
    credentials = _service_role(job, trust, build_timeout(env, branch.app.build_timeout_cap_minutes).seconds, notes)
    env.update(credentials)
    mask = [value for key, value in credentials.items() if key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
    # The branch's secrets (its own over the shared ones), as Amplify hands them to builds.
    if trust.secrets:
        branch_secrets = build_secrets(branch.app.app_id, branch.name)
        if branch_secrets:
            env["secrets"] = json.dumps(branch_secrets)
            mask.extend(branch_secrets.values())
    return BuildEnvironment(variables=env, mask=mask, notes=notes)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class BuildTimeout:
    seconds: int
    note: str = ""  # for the job log, when the build asked for more than it got


def build_timeout(env: dict[str, str], cap_minutes: int) -> BuildTimeout:
    """`_BUILD_TIMEOUT` (minutes) from the spec or the variables, else the console default,
    held to the app's cap: a pull request controls its spec, not how long it may run."""
    raw = env.get("_BUILD_TIMEOUT", "").strip()
    try:
        minutes = int(raw) if raw else settings.BUILD_TIMEOUT_MINUTES
    except ValueError:
        minutes = settings.BUILD_TIMEOUT_MINUTES
    minutes = max(1, minutes)
    if minutes > cap_minutes:
        asked = f"_BUILD_TIMEOUT asks for {minutes} minutes" if raw else f"The default timeout is {minutes} minutes"
        return BuildTimeout(
            cap_minutes * 60,
            f"## {asked}; this app's builds run at most {cap_minutes} minutes (App settings): the build gets {cap_minutes}.",
        )
    return BuildTimeout(minutes * 60)
