"""The client factory and the translation of botocore errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from console.aws import aws_client, clear_client_cache
from console.aws_errors import (
    AwsAccessDenied,
    AwsError,
    AwsNotFound,
    AwsThrottled,
    AwsUnavailable,
    aws_errors,
    translate,
)
from console.cloudformation import describe_stack


def client_error(code: str, message: str = "boom", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def test_access_denied_names_the_iam_action() -> None:
    error = translate(client_error("AccessDeniedException", "not authorized"), action="ssm:PutParameter")
    assert isinstance(error, AwsAccessDenied)
    assert "ssm:PutParameter" in str(error)
    assert "IAM policy" in str(error)


@pytest.mark.parametrize("code", ["ParameterNotFound", "ResourceNotFoundException", "NoSuchKey", "StackNotFoundException"])
def test_not_found_codes_become_not_found(code: str) -> None:
    assert isinstance(translate(client_error(code), action="x:Y"), AwsNotFound)


def test_cloudformation_validation_error_for_missing_stack_is_not_found() -> None:
    error = client_error("ValidationError", "Stack with id amplify-x does not exist")
    assert isinstance(translate(error, action="cloudformation:DescribeStacks"), AwsNotFound)


def test_throttling_and_network_errors_are_transient() -> None:
    throttled = translate(client_error("ThrottlingException"), action="dynamodb:Scan")
    assert isinstance(throttled, AwsThrottled)
    assert throttled.transient
    unreachable = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), action="s3:ListObjectsV2")
    assert isinstance(unreachable, AwsUnavailable)
    assert unreachable.transient


def test_missing_credentials_say_how_to_provide_them() -> None:
    error = translate(NoCredentialsError(), action="sts:GetCallerIdentity")
    assert isinstance(error, AwsAccessDenied)
    assert "credentials" in str(error)


def test_other_errors_keep_the_service_message_and_are_permanent() -> None:
    error = translate(client_error("ValidationException", "Value too long"), action="ssm:PutParameter")
    assert type(error) is AwsError
    assert not error.transient
    assert "Value too long" in str(error)


def test_context_manager_translates_and_chains() -> None:
    with pytest.raises(AwsNotFound) as caught, aws_errors("ssm:GetParameter"):
        raise client_error("ParameterNotFound")
    assert isinstance(caught.value.__cause__, ClientError)


def test_missing_stack_reads_as_none() -> None:
    assert describe_stack("amplify-d1a2b3c4d5e6f7-main-branch-779dbfc7c3") is None


def test_factory_applies_region_endpoint_retries_and_timeouts(settings: Any) -> None:
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:4999"
    settings.AWS_MAX_ATTEMPTS = 3
    settings.AWS_READ_TIMEOUT = 7.0
    clear_client_cache()
    client = aws_client("ssm", region="eu-west-1")
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:4999"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert client.meta.config.read_timeout == 7.0
    assert aws_client("ssm", region="eu-west-1") is client
    settings.AWS_ENDPOINT_URL = None
    clear_client_cache()


def test_throttling_is_retried_by_the_factory_clients() -> None:
    """The first two calls are throttled, the third succeeds: the caller sees success."""
    client = aws_client("ssm")
    attempts: list[int] = []

    def throttle_twice(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(1)
        if len(attempts) <= 2:
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(request.url, 400, {"x-amzn-errortype": "ThrottlingException"}, _RawBody(body))
        return None

    client.meta.events.register("before-send.ssm.DescribeParameters", throttle_twice)
    try:
        with aws_errors("ssm:DescribeParameters"):
            response = client.describe_parameters()
    finally:
        client.meta.events.unregister("before-send.ssm.DescribeParameters", throttle_twice)
    assert response["Parameters"] == []
    assert len(attempts) == 3


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self) -> bytes:
        return self.body
