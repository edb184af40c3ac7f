"""The app's service role (Amplify's iamServiceRoleArn): builds get the temporary
credentials of this role, assumed per build, and never the console's own."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from console.aws import aws_client
from console.aws_errors import AwsError, aws_errors

_ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})"
)
_NOT_SESSION_CHAR = re.compile(r"[^\w+=,.@-]+")
EXAMPLE = "arn:aws:iam::123456789012:role/amplify-build"
MIN_DURATION, MAX_DURATION, MARGIN = 900, 43200, 300


class ServiceRoleError(Exception):
    """The role could not be assumed; the message says which and why, without secrets."""


def validate_role_arn(value: str) -> str:
    arn = (value or "").strip()
    if not arn:
        return ""
    if len(arn) > 2048 or not _ROLE_ARN.fullmatch(arn):
        raise ValidationError(f"Enter an IAM role ARN such as {EXAMPLE}.")
    return arn


def session_name(app_id: str, branch: str, job_id: str) -> str:
    """An STS RoleSessionName: 2..64 of [\\w+=,.@-], naming app, branch and job (kept whole)."""
    tail = f"-{_NOT_SESSION_CHAR.sub('', job_id)}"
    head = _NOT_SESSION_CHAR.sub("-", f"amplify-{app_id}-{branch}").strip("-")
    return head[: 64 - len(tail)] + tail


def session_duration(timeout_seconds: int) -> int:
    return max(MIN_DURATION, min(MAX_DURATION, timeout_seconds + MARGIN))


def assume_service_role(*, role_arn: str, app_id: str, branch: str, job_id: str, timeout_seconds: int) -> dict[str, str]:
    try:
        with aws_errors(f"assume the service role {role_arn}"):
            answer = aws_client("sts").assume_role(
                RoleArn=role_arn,
                RoleSessionName=session_name(app_id, branch, job_id),
                DurationSeconds=session_duration(timeout_seconds),
            )
    except AwsError as error:
        raise ServiceRoleError(str(error)) from None
    credentials = answer["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
