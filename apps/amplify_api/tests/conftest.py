"""boto3 `amplify` clients signed with console access keys, against a live test server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from apps.amplify_api import keys

REGION = "us-east-1"


def amplify_client(endpoint: str, key_id: str, secret: str) -> Any:
    return boto3.client(
        "amplify",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def assert_valid_output(client: Any, operation: str, response: dict[str, Any]) -> None:
    """The response, as botocore parsed it, satisfies the operation's output shape."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    document = {name: value for name, value in response.items() if name != "ResponseMetadata"}
    report = ParamValidator().validate(document, shape)
    assert not report.has_errors(), report.generate_report()


def error_code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    """The error code and HTTP status of a refused call, as botocore parsed them."""
    return error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def api_endpoint(live_server: Any) -> str:
    return f"{live_server.url}/amplify-api"


@pytest.fixture
def client_for(api_endpoint: str) -> Callable[[Any], Any]:
    """An amplify client acting as `user`, with a new access key."""

    def make(user: Any) -> Any:
        new = keys.key_create(actor=None, username=user.get_username())
        return amplify_client(api_endpoint, new.key.access_key_id, new.secret_access_key)

    return make


@pytest.fixture
def admin_api(client_for: Callable[[Any], Any], admin_user: Any) -> Any:
    return client_for(admin_user)


@pytest.fixture
def viewer_api(client_for: Callable[[Any], Any], viewer_user: Any) -> Any:
    return client_for(viewer_user)


@pytest.fixture
def operator_api(client_for: Callable[[Any], Any], operator_user: Any) -> Any:
    return client_for(operator_user)
