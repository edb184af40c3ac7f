"""Turn botocore errors into domain errors with messages a person can act on.

Errors are split the healthchecks way: permanent ones (access denied, not found,
invalid input) fail at once; transient ones (throttling, timeouts, service
unavailable) have already been retried by the client config and are reported
as "try again". Views and tasks catch `AwsError`, never `ClientError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

NOT_FOUND_CODES = {
    "NotFound",
    "NoSuchKey",
    "NoSuchBucket",
    "ResourceNotFoundException",
    "ParameterNotFound",
    "ParameterVersionNotFound",
    "StackNotFoundException",
    "UserNotFoundException",
    "NoSuchEntity",  # IAM
    "404",
}
ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthorizationError",
    "403",
}
THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "RequestThrottled",
}


class AwsError(Exception):
    """An AWS call failed; `str(error)` is safe to show to a user."""

    transient = False

    def __init__(self, message: str, *, action: str = "", code: str = "") -> None:
        super().__init__(message)
        self.action = action
        self.code = code


class AwsNotFound(AwsError):
    pass


class AwsAccessDenied(AwsError):
    pass


class AwsThrottled(AwsError):
    transient = True


class AwsUnavailable(AwsError):
    transient = True


def _error_code(error: ClientError) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    if not code:
        code = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    # Some services (CloudFormation) say "ValidationError ... does not exist".
    return str(code)


def translate(error: Exception, *, action: str) -> AwsError:
    """Map one botocore exception raised while calling `action` (e.g. `ssm:PutParameter`)."""
    if isinstance(error, ClientError):
        code = _error_code(error)
        message = error.response.get("Error", {}).get("Message", "") or str(error)
        if code in NOT_FOUND_CODES or (code == "ValidationError" and "does not exist" in message):
            return AwsNotFound(f"{action}: not found ({message})", action=action, code=code)
        if code in ACCESS_DENIED_CODES:
            return AwsAccessDenied(
                f"Permission denied: the console's AWS identity may not call {action}. "
                f"Grant {action} in its IAM policy. ({code})",
                action=action,
                code=code,
            )
        if code in THROTTLING_CODES:
            return AwsThrottled(f"AWS is throttling {action}; try again in a moment.", action=action, code=code)
        return AwsError(f"{action} failed: {message} ({code})", action=action, code=code)
    if isinstance(error, NoCredentialsError):
        return AwsAccessDenied(
            "No AWS credentials found: set them the standard way (environment, profile or instance role).",
            action=action,
        )
    if isinstance(error, EndpointConnectionError):
        return AwsUnavailable(f"Cannot reach AWS for {action}: {error}", action=action)
    if isinstance(error, BotoCoreError):
        return AwsUnavailable(f"{action} failed: {error}", action=action)
    raise TypeError(f"not a botocore error: {error!r}")


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Run one AWS call; botocore errors leave as `AwsError` subclasses."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translate(error, action=action) from error
