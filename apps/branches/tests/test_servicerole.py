"""The service role: ARN validation, session names and durations, AssumeRole."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.stub import Stubber
from django.core.exceptions import ValidationError

from apps.branches.servicerole import (
    ServiceRoleError,
    assume_service_role,
    session_duration,
    session_name,
    validate_role_arn,
)
from console.aws import aws_client, aws_credentials, clear_client_cache

ROLE = "arn:aws:iam::123456789012:role/shop-build"
SHAPE = "Enter an IAM role ARN such as arn:aws:iam::123456789012:role/amplify-build."
STS_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/amplify-build",
        "arn:aws:iam::123456789012:role/service-role/AmplifyConsoleServiceRole-AmplifyRole",
        "arn:aws-cn:iam::123456789012:role/a+b=c,d.e@f-g_h",
        "arn:aws-us-gov:iam::123456789012:role/x",
        "arn:aws:iam::123456789012:role/" + "n" * 64,
    ],
)
def test_role_arns_are_accepted(arn: str) -> None:
    assert validate_role_arn(f" {arn}\n") == arn


def test_no_role_is_allowed() -> None:
    assert validate_role_arn("   ") == ""
    assert validate_role_arn("") == ""


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/amplify-build",  # a user, not a role
        "arn:aws:iam::1234567890:role/short-account",
        "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x",  # digits, but not ASCII ones
        "arn:azure:iam::123456789012:role/x",  # no such partition
        "arn:aws:s3:::bucket",
        "amplify-build",  # a name, not an ARN
        "arn:aws:iam::123456789012:role/",  # no name
        "arn:aws:iam::123456789012:role/bad name",
        "arn:aws:iam::123456789012:role/rôle",  # IAM names are ASCII
        "arn:aws:iam::123456789012:role/" + "n" * 65,  # a name is at most 64 characters
        "arn:aws:iam::123456789012:role/" + "p/" * 1100 + "n",  # an ARN is at most 2048
    ],
)
def test_other_strings_are_refused_with_the_expected_shape(arn: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_role_arn(arn)
    assert error.value.messages == [SHAPE]


def test_session_names_keep_the_job_and_fit_sts_rules() -> None:
    assert session_name("d1a2b3c4d5e6f7", "feature/login #2", "0000000042") == "amplify-d1a2b3c4d5e6f7-feature-login-2-0000000042"
    long = session_name("d1a2b3c4d5e6f7", "b" * 200, "0000000042")
    assert len(long) == 64
    assert long.endswith("-0000000042")


@pytest.mark.parametrize(
    ("branch", "job_id"),
    [
        ("fé/ü-ß", "0000000001"),  # STS takes ASCII only
        ("x" * 44 + "/" + "y" * 20, "0000000001"),  # the cut falls on a separator
        ("main", "9" * 100),  # a job id longer than a session name
        ("main", "#"),  # nothing of the job id is allowed
    ],
)
def test_session_names_from_awkward_branches_and_jobs_are_still_valid(branch: str, job_id: str) -> None:
    name = session_name("d1a2b3c4d5e6f7", branch, job_id)
    assert STS_SESSION_NAME.fullmatch(name), name
    assert name.startswith("amplify-")
    assert "--" not in name


def test_session_durations_cover_the_build_within_sts_bounds() -> None:
    assert session_duration(0) == 900
    assert session_duration(60) == 900
    assert session_duration(30 * 60) == 30 * 60 + 300
    assert session_duration(48 * 3600) == 43200


def test_assuming_the_role_returns_temporary_credentials_not_the_console_s(db: None) -> None:
    role = aws_client("iam").create_role(RoleName="shop-build", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    credentials = assume_service_role(role_arn=role, app_id="d1", branch="main", job_id="0000000001", timeout_seconds=1800)
    assert set(credentials) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    console = aws_credentials()
    assert credentials["AWS_ACCESS_KEY_ID"] != console.access_key
    assert credentials["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # STS's temporary keys
    assert credentials["AWS_SECRET_ACCESS_KEY"] != console.secret_key
    assert credentials["AWS_SESSION_TOKEN"]


def test_the_request_names_the_session_and_lasts_the_build() -> None:
    with Stubber(aws_client("sts")) as stub:
        stub.add_response(
            "assume_role",
            {
                "Credentials": {
                    "AccessKeyId": "ASIAEXAMPLEEXAMPLE00",
                    "SecretAccessKey": "s" * 40,
                    "SessionToken": "t" * 40,
                    "Expiration": "2030-01-01T00:00:00Z",
                }
            },
            {"RoleArn": ROLE, "RoleSessionName": "amplify-d1-main-0000000007", "DurationSeconds": 2100},
        )
        credentials = assume_service_role(role_arn=ROLE, app_id="d1", branch="main", job_id="0000000007", timeout_seconds=1800)
        stub.assert_no_pending_responses()
    assert credentials == {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "s" * 40,
        "AWS_SESSION_TOKEN": "t" * 40,
    }


def _refused(code: str, message: str, status: int = 400, timeout_seconds: int = 1800) -> str:
    with Stubber(aws_client("sts")) as stub:
        stub.add_client_error("assume_role", service_error_code=code, service_message=message, http_status_code=status)
        with pytest.raises(ServiceRoleError) as error:
            assume_service_role(role_arn=ROLE, app_id="d1", branch="main", job_id="1", timeout_seconds=timeout_seconds)
    text = str(error.value)
    console = aws_credentials()
    assert console.secret_key not in text
    assert console.access_key not in text
    return text


def test_a_missing_role_or_a_trust_policy_that_refuses_says_access_denied() -> None:
    # STS answers AccessDenied alike for a role that does not exist and one that does not trust the caller.
    denied = f"User: arn:aws:iam::123456789012:user/console is not authorized to perform: sts:AssumeRole on {ROLE}"
    text = _refused("AccessDenied", denied, 403)
    assert text == (
        f"Cannot assume the service role {ROLE}: access denied. Check that the role exists and that its trust policy "
        "lets the console's AWS identity call sts:AssumeRole."
    )


def test_a_throttled_request_says_to_try_again() -> None:
    assert _refused("Throttling", "Rate exceeded") == (
        f"Cannot assume the service role {ROLE}: STS is throttling requests; run the build again in a moment."
    )


def test_a_build_longer_than_the_role_allows_says_what_to_change() -> None:
    text = _refused(
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", timeout_seconds=7200
    )
    assert text.startswith(f"Cannot assume the service role {ROLE}: the build needs credentials for 7500 seconds")
    assert "Raise the role's maximum session duration or shorten the build timeout." in text


def test_any_other_sts_error_is_reported_with_its_code() -> None:
    assert _refused("RegionDisabledException", "STS is not activated in this region.") == (
        f"Cannot assume the service role {ROLE}: sts:AssumeRole failed: STS is not activated in this region. "
        "(RegionDisabledException)."
    )


def test_an_unreachable_sts_says_which_role_and_why(settings: Any) -> None:
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AWS_MAX_ATTEMPTS = 1
    clear_client_cache()
    try:
        unreachable = rf"^Cannot assume the service role {ROLE}: Cannot reach AWS for sts:AssumeRole"
        with pytest.raises(ServiceRoleError, match=unreachable):
            assume_service_role(role_arn=ROLE, app_id="d1", branch="main", job_id="1", timeout_seconds=60)
    finally:
        clear_client_cache()
