"""Signature Version 4 on the Amplify-compatible API, over real HTTP to the live server:
who may call it (a valid, active key of an active user), what a signature must cover
(service, date, body), and what each role may do once signed in."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from apps.amplify_api import keys
from apps.amplify_api.models import AccessKey
from apps.amplify_api.tests.conftest import REGION, amplify_client, assert_valid_output
from apps.branches.models import App, Branch
from console.models import AuditEvent


def error_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    """The error code, HTTP status and message, as botocore parsed them."""
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


@pytest.fixture
def new_key(admin_user: Any, live_server: Any) -> keys.NewKey:
    """A key of the admin; asks for the live server so the database is shared with it."""
    return keys.key_create(actor=None, username=admin_user.get_username())


def client_of(api_endpoint: str, new: keys.NewKey) -> Any:
    return amplify_client(api_endpoint, new.key.access_key_id, new.secret_access_key)


def signed(
    url: str,
    key_id: str,
    secret: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    service: str = "amplify",
    headers: dict[str, str] | None = None,
) -> AWSRequest:
    """A request signed as botocore signs them, built by hand so a test can alter it."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    SigV4Auth(Credentials(key_id, secret), service, REGION).add_auth(request)
    return request


def send(request: AWSRequest, body: bytes | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Send the request with urllib (the body replaced if given): status, headers (names
    lower-case), JSON document."""
    data = request.body if body is None else body
    outgoing = urllib.request.Request(
        request.url, data=data or None, method=request.method, headers={k: str(v) for k, v in request.headers.items()}
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=120) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, json.loads(error.read())


@contextmanager
def signing_clock(offset: timedelta) -> Iterator[None]:
    """boto3 signs as if its clock were `offset` from the real one (the server's is untouched)."""
    moment = datetime.now(UTC).replace(tzinfo=None) + offset
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        yield


# --- Who may call -------------------------------------------------------------------


def test_a_correctly_signed_call_works(api_endpoint: str, new_key: keys.NewKey) -> None:
    client = client_of(api_endpoint, new_key)
    response = client.list_apps()
    assert_valid_output(client, "ListApps", response)
    assert response["apps"] == []


def test_a_wrong_secret_is_refused(api_endpoint: str, new_key: keys.NewKey) -> None:
    client = amplify_client(api_endpoint, new_key.key.access_key_id, new_key.secret_access_key + "x")
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "signature" in message.lower()


def test_an_unknown_access_key_id_is_refused(api_endpoint: str, new_key: keys.NewKey) -> None:
    unknown = "AKCN" + "A" * 16
    assert not AccessKey.objects.filter(access_key_id=unknown).exists()
    with pytest.raises(ClientError) as refused:
        amplify_client(api_endpoint, unknown, new_key.secret_access_key).list_apps()
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "unknown or has been revoked" in message


def test_a_revoked_key_is_refused_though_it_worked_just_before(api_endpoint: str, new_key: keys.NewKey) -> None:
    client = client_of(api_endpoint, new_key)
    client.list_apps()
    keys.key_revoke(actor=None, access_key_id=new_key.key.access_key_id)
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "revoked" in message


def test_a_key_of_a_deactivated_user_is_refused(api_endpoint: str, new_key: keys.NewKey, admin_user: Any) -> None:
    client = client_of(api_endpoint, new_key)
    client.list_apps()
    admin_user.is_active = False
    admin_user.save(update_fields=["is_active"])
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "inactive" in message


def test_using_a_key_records_when_it_was_last_used(api_endpoint: str, new_key: keys.NewKey) -> None:
    assert new_key.key.last_used_at is None
    before = datetime.now(UTC)
    client_of(api_endpoint, new_key).list_apps()
    new_key.key.refresh_from_db()
    assert new_key.key.last_used_at is not None
    assert new_key.key.last_used_at >= before - timedelta(seconds=1)


# --- What a signature must cover ----------------------------------------------------


@pytest.mark.parametrize("minutes", [-10, 10])
def test_a_request_dated_ten_minutes_off_is_refused(api_endpoint: str, new_key: keys.NewKey, minutes: int) -> None:
    client = client_of(api_endpoint, new_key)
    with signing_clock(timedelta(minutes=minutes)), pytest.raises(ClientError) as refused:
        client.list_apps()
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "expired" in message
    # The same client, on time, is accepted: only the date was wrong.
    client.list_apps()


@pytest.mark.parametrize("minutes", [-2, 2])
def test_a_request_dated_two_minutes_off_is_accepted(api_endpoint: str, new_key: keys.NewKey, minutes: int) -> None:
    client = client_of(api_endpoint, new_key)
    with signing_clock(timedelta(minutes=minutes)):
        response = client.list_apps()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_an_unsigned_boto3_call_is_refused(api_endpoint: str, new_key: keys.NewKey) -> None:
    client = boto3.client(
        "amplify",
        endpoint_url=api_endpoint,
        region_name=REGION,
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "not signed" in message


def test_a_plain_get_is_refused_in_the_services_error_shape(api_endpoint: str, new_key: keys.NewKey) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{api_endpoint}/apps", timeout=120)
    with refused.value as error:
        document = json.loads(error.read())
        assert error.code == 401
        assert error.headers["x-amzn-ErrorType"] == "UnauthorizedException"
        assert error.headers["Content-Type"].startswith("application/json")
    assert list(document) == ["message"]
    assert "not signed" in document["message"]


def test_a_request_signed_for_another_service_is_refused(api_endpoint: str, new_key: keys.NewKey) -> None:
    key_id, secret = new_key.key.access_key_id, new_key.secret_access_key
    # Control: the same hand-made request signed for amplify is accepted.
    assert send(signed(f"{api_endpoint}/apps", key_id, secret))[0] == 200
    status, headers, document = send(signed(f"{api_endpoint}/apps", key_id, secret, service="s3"))
    assert (status, headers["x-amzn-errortype"]) == (401, "UnauthorizedException")
    assert "'s3'" in document["message"]


def test_a_body_changed_after_signing_is_refused(api_endpoint: str, new_key: keys.NewKey, make_repo: Callable[..., Path]) -> None:
    repo = make_repo(("main",))
    body = json.dumps({"name": "Signed", "repository": str(repo)}).encode()
    request = signed(f"{api_endpoint}/apps", new_key.key.access_key_id, new_key.secret_access_key, method="POST", body=body)

    tampered = body.replace(b'"Signed"', b'"Forged"')
    status, headers, document = send(request, body=tampered)
    assert (status, headers["x-amzn-errortype"]) == (401, "UnauthorizedException")
    assert "signature" in document["message"].lower()
    assert not App.objects.exists()

    # The request as signed goes through: the refusal was the body's change alone.
    status, _, document = send(request)
    assert status == 200, document
    assert list(App.objects.values_list("name", flat=True)) == ["Signed"]


def test_an_unsigned_payload_is_refused(api_endpoint: str, new_key: keys.NewKey) -> None:
    url, key_id, secret = f"{api_endpoint}/apps", new_key.key.access_key_id, new_key.secret_access_key
    # Control: the header with the body's real hash is accepted.
    assert send(signed(url, key_id, secret, headers={"X-Amz-Content-SHA256": hashlib.sha256(b"").hexdigest()}))[0] == 200
    request = signed(url, key_id, secret, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert "x-amz-content-sha256" in request.headers["Authorization"].lower()
    status, headers, document = send(request)
    assert (status, headers["x-amzn-errortype"]) == (401, "UnauthorizedException")
    assert "Unsigned payloads" in document["message"]


def test_an_unknown_path_signed_properly_is_an_unknown_operation(api_endpoint: str, new_key: keys.NewKey) -> None:
    client = client_of(api_endpoint, new_key)

    def to_unknown_path(request: AWSRequest, **kwargs: Any) -> None:
        request.url = request.url.replace("/amplify-api/apps", "/amplify-api/nothing-here")

    client.meta.events.register("before-sign.amplify.ListApps", to_unknown_path)
    with pytest.raises(ClientError) as refused:
        client.list_apps()
    code, status, message = error_of(refused)
    assert "nothing-here" in message
    assert (code, status) == ("UnknownOperationException", 404)


# --- Roles --------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_create_an_app(admin_api: Any, viewer_api: Any, make_repo: Callable[..., Path]) -> None:
    repo = make_repo(("main",))
    app_id = admin_api.create_app(name="Site", repository=str(repo))["app"]["appId"]
    assert [app["appId"] for app in viewer_api.list_apps()["apps"]] == [app_id]
    assert viewer_api.get_app(appId=app_id)["app"]["name"] == "Site"

    with pytest.raises(ClientError) as refused:
        viewer_api.create_app(name="Not allowed", repository=str(repo))
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "admin role" in message
    assert list(App.objects.values_list("app_id", flat=True)) == [app_id]
    denied = AuditEvent.objects.get(action="permission.denied")
    assert (denied.actor_name, denied.target, denied.outcome) == ("vera", "CreateApp", AuditEvent.Outcome.DENIED)
    assert denied.detail == {"required": "admin"}


def test_an_operator_cannot_create_an_app(operator_api: Any, make_repo: Callable[..., Path]) -> None:
    repo = make_repo(("main",))
    with pytest.raises(ClientError) as refused:
        operator_api.create_app(name="Not allowed", repository=str(repo))
    code, status, message = error_of(refused)
    assert (code, status) == ("UnauthorizedException", 401)
    assert "admin role" in message
    assert not App.objects.exists()
    assert AuditEvent.objects.filter(action="permission.denied", actor_name="otto", target="CreateApp").count() == 1


# --- Paths --------------------------------------------------------------------------


def test_a_branch_name_with_a_slash_works_in_the_path(admin_api: Any, make_repo: Callable[..., Path]) -> None:
    repo = make_repo(("main", "feature/login"))
    app_id = admin_api.create_app(name="Site", repository=str(repo))["app"]["appId"]

    created = admin_api.create_branch(appId=app_id, branchName="feature/login")
    assert_valid_output(admin_api, "CreateBranch", created)
    assert created["branch"]["branchName"] == "feature/login"

    got = admin_api.get_branch(appId=app_id, branchName="feature/login")
    assert_valid_output(admin_api, "GetBranch", got)
    assert got["branch"]["branchName"] == "feature/login"

    updated = admin_api.update_branch(appId=app_id, branchName="feature/login", description="Sign-in page")
    assert_valid_output(admin_api, "UpdateBranch", updated)
    assert Branch.objects.get(app__app_id=app_id, name="feature/login").description == "Sign-in page"

    deleted = admin_api.delete_branch(appId=app_id, branchName="feature/login")
    assert_valid_output(admin_api, "DeleteBranch", deleted)
    assert deleted["branch"]["branchName"] == "feature/login"
    assert not Branch.objects.filter(app__app_id=app_id).exists()
