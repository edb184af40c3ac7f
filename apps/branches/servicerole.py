"""The app's service role (Amplify's iamServiceRoleArn).

Builds run code from the repository, so they must never hold the console's own AWS
credentials: for each build the worker assumes the app's role through STS and hands the
build only those temporary credentials, scoped to what the role allows and expiring
soon after the build's timeout. No role: the build gets no AWS credentials at all.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from console.aws import aws_client
from console.aws_errors import AwsAccessDenied, AwsError, AwsNotFound, AwsThrottled, aws_errors

# re.ASCII: IAM and STS accept ASCII letters and digits only; Python's \w and \d also
# match other scripts' letters and digits.
_ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})",
    re.ASCII,
)
_NOT_SESSION_CHAR = re.compile(r"[^\w+=,.@-]+", re.ASCII)
EXAMPLE = "arn:aws:iam::123456789012:role/amplify-build"
MAX_ARN_LENGTH = 2048
MAX_SESSION_NAME = 64  # STS RoleSessionName: 2..64 characters
MIN_DURATION, MAX_DURATION, MARGIN = 900, 43200, 300  # seconds: STS's bounds; time after the build's timeout


class ServiceRoleError(Exception):
    """The role could not be assumed; the message names the role and why, never a secret."""


def validate_role_arn(value: str) -> str:
    """The ARN without surrounding blanks, or "" (no role); anything else but an IAM role ARN is refused."""
    arn = (value or "").strip()
    if not arn:
        return ""
    if len(arn) > MAX_ARN_LENGTH or not _ROLE_ARN.fullmatch(arn):
        raise ValidationError(f"Enter an IAM role ARN such as {EXAMPLE}.", code="invalid")
    return arn


def session_name(app_id: str, branch: str, job_id: str) -> str:
    """An STS RoleSessionName naming app, branch and job (CloudTrail shows it), cut to 64
    characters from the branch so that the job id stays whole at the end."""
    job = _NOT_SESSION_CHAR.sub("", job_id)[-(MAX_SESSION_NAME - len("amplify-")) :]
    head = _NOT_SESSION_CHAR.sub("-", f"amplify-{app_id}-{branch}").strip("-")
    head = head[: MAX_SESSION_NAME - len(job) - 1].rstrip("-")
    return f"{head}-{job}" if job else head


def session_duration(timeout_seconds: int) -> int:
    """Seconds the credentials last: the build's timeout and a margin, within STS's bounds."""
    return max(MIN_DURATION, min(MAX_DURATION, timeout_seconds + MARGIN))


def _reason(error: AwsError, duration: int) -> str:
    if isinstance(error, AwsAccessDenied) and error.code:
        # STS answers AccessDenied for a role that does not exist, too.
        return (
            "access denied. Check that the role exists and that its trust policy lets the console's "
            "AWS identity call sts:AssumeRole"
        )
    if isinstance(error, AwsNotFound):
        return "the role does not exist"
    if isinstance(error, AwsThrottled):
        return "STS is throttling requests; run the build again in a moment"
    if error.code == "ValidationError" and "DurationSeconds" in str(error):
        return (
            f"the build needs credentials for {duration} seconds (its timeout and {MARGIN} more), longer than "
            "STS allows for this role. Raise the role's maximum session duration or shorten the build timeout"
        )
    return str(error)


def assume_service_role(*, role_arn: str, app_id: str, branch: str, job_id: str, timeout_seconds: int) -> dict[str, str]:
    """The role's temporary credentials for one build, as the environment variables SDKs read."""
    duration = session_duration(timeout_seconds)
    try:
        with aws_errors("sts:AssumeRole"):
            answer = aws_client("sts").assume_role(
                RoleArn=role_arn,
                RoleSessionName=session_name(app_id, branch, job_id),
                DurationSeconds=duration,
            )
    except AwsError as error:
        raise ServiceRoleError(f"Cannot assume the service role {role_arn}: {_reason(error, duration)}.") from error
    credentials = answer["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
