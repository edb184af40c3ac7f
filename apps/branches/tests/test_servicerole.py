"""The service role: ARN validation, session names and durations, AssumeRole."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.branches.servicerole import (
    ServiceRoleError,
    assume_service_role,
    session_duration,
    session_name,
    validate_role_arn,
)
from console.aws import aws_client, aws_credentials


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/amplify-build",
        "arn:aws:iam::123456789012:role/service-role/AmplifyConsoleServiceRole-AmplifyRole",
        "arn:aws-cn:iam::123456789012:role/a+b=c,d.e@f-g_h",
        "arn:aws-us-gov:iam::123456789012:role/x",
    ],
)
def test_role_arns_are_accepted(arn: str) -> None:
    assert validate_role_arn(f" {arn}\n") == arn


def test_no_role_is_allowed() -> None:
    assert validate_role_arn("   ") == ""


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/amplify-build",
        "arn:aws:iam::1234567890:role/short-account",
        "arn:azure:iam::123456789012:role/x",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/bad name",
        "arn:aws:iam::123456789012:role/" + "n" * 65,
        "arn:aws:iam::123456789012:role/" + "p/" * 1100 + "n",
    ],
)
def test_other_strings_are_refused_with_the_expected_shape(arn: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_role_arn(arn)
    assert error.value.messages == ["Enter an IAM role ARN such as arn:aws:iam::123456789012:role/amplify-build."]


def test_session_names_keep_the_job_and_fit_sts_rules() -> None:
    assert session_name("d1a2b3c4d5e6f7", "feature/login #2", "0000000042") == "amplify-d1a2b3c4d5e6f7-feature-login-2-0000000042"
    long = session_name("d1a2b3c4d5e6f7", "b" * 200, "0000000042")
    assert len(long) == 64
    assert long.endswith("-0000000042")


def test_session_durations_cover_the_build_within_sts_bounds() -> None:
    assert session_duration(60) == 900
    assert session_duration(30 * 60) == 30 * 60 + 300
    assert session_duration(48 * 3600) == 43200


def test_assuming_the_role_returns_temporary_credentials_not_the_console_s(db: None) -> None:
    role = aws_client("iam").create_role(RoleName="shop-build", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    credentials = assume_service_role(role_arn=role, app_id="d1", branch="main", job_id="0000000001", timeout_seconds=1800)
    assert set(credentials) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert credentials["AWS_ACCESS_KEY_ID"] != aws_credentials().access_key
    assert credentials["AWS_SECRET_ACCESS_KEY"] != aws_credentials().secret_key


def test_an_sts_failure_says_which_role_and_why(db: None, settings: object) -> None:
    from console.aws import clear_client_cache

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]  # nothing listens there
    settings.AWS_MAX_ATTEMPTS = 1  # type: ignore[attr-defined]
    clear_client_cache()
    try:
        with pytest.raises(
            ServiceRoleError, match=r"Cannot reach AWS for assume the service role arn:aws:iam::123456789012:role/shop-build"
        ):
            assume_service_role(
                role_arn="arn:aws:iam::123456789012:role/shop-build", app_id="d1", branch="main", job_id="1", timeout_seconds=60
            )
    finally:
        clear_client_cache()
