"""Cognito's refusals reach the pages as sentences a person can act on, and keep the
class views rely on (not found, throttled)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from apps.users.cognito import cognito_errors
from console.aws_errors import AwsError, AwsNotFound, AwsThrottled


def raised(code: str, message: str = "Cognito said so.") -> AwsError:
    with pytest.raises(AwsError) as caught, cognito_errors("AdminCreateUser"):
        raise ClientError({"Error": {"Code": code, "Message": message}}, "AdminCreateUser")
    return caught.value


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("UsernameExistsException", AwsError, "A user with that sign-in name already exists in this user pool."),
        ("InvalidPasswordException", AwsError, "Cognito refused the password: Cognito said so"),
        ("InvalidParameterException", AwsError, "Cognito refused a value: Cognito said so"),
        ("LimitExceededException", AwsError, "A Cognito limit was reached (Cognito said so)"),
        ("TooManyRequestsException", AwsThrottled, "Cognito is receiving too many requests; try again in a moment."),
        ("UserNotFoundException", AwsNotFound, "There is no such user in this user pool (any more)."),
        ("GroupExistsException", AwsError, "A group with that name already exists in this user pool."),
        ("AliasExistsException", AwsError, "Another user already has that email address or phone number."),
    ],
)
def test_cognito_errors_are_told_in_words(code: str, kind: type[AwsError], words: str) -> None:
    error = raised(code)
    assert type(error) is kind
    assert str(error).startswith(words)
    assert error.code == code
    assert error.action == "cognito-idp:AdminCreateUser"


def test_other_errors_keep_the_general_message() -> None:
    error = raised("InternalErrorException", "Boom.")
    assert str(error) == "cognito-idp:AdminCreateUser failed: Boom. (InternalErrorException)"
