"""Every mutating URL of the file browser: viewers get 403 and nothing changes, outsiders
go to sign-in, the role that may (operator, or admin for buckets) succeeds; every
read-only URL needs sign-in and lets viewers in. Also: no POST without a CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from apps.branches.models import Branch
from apps.storage.keys import form_value
from apps.storage.models import ExtraBucket, StorageTask
from apps.storage.tests.conftest import BUCKET, REGION, all_keys, url
from apps.storage.uploads import Ticket
from console.models import AuditEvent

EXTRA_BUCKET = "extra-bucket-for-tests"

# url name -> (form data, who may, answers 200 rather than a redirect, audited when it succeeds)
MUTATING: dict[str, tuple[dict[str, Any], str, bool, bool]] = {
    "storage_bucket_add": ({"name": EXTRA_BUCKET, "region": REGION}, "admin", False, True),
    "storage_bucket_remove": ({}, "admin", False, True),
    "storage_folder_create": ({"prefix": "", "name": "new-folder"}, "operator", False, True),
    "storage_delete": ({"keys": form_value("docs/a.txt"), "confirmed": "1"}, "operator", False, True),
    "storage_transfer": ({"mode": "copy", "go": "typed", "dest": "copies/", "keys": form_value("docs/a.txt")}, "operator",
                         False, True),
    "storage_upload_check": ({"keys": "docs/a.txt"}, "operator", True, False),
    "storage_upload_put": ({"note": "form body"}, "operator", True, True),
    "storage_upload_start": ({"key": "big.bin", "size": str(9 * 1024 * 1024)}, "operator", True, False),
    "storage_upload_part": ({}, "operator", True, False),
    "storage_upload_complete": ({"ticket": "{ticket}"}, "operator", True, True),
    "storage_upload_abort": ({"ticket": "{ticket}"}, "operator", True, True),
    "storage_task_retry": ({}, "operator", False, True),
}  # fmt: skip
READ_ONLY = {
    "storage_home", "storage_browse", "storage_object", "storage_download", "storage_preview", "storage_zip", "storage_task",
}  # fmt: skip


def storage_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            elif pattern.name and pattern.name.startswith("storage_"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_storage_url_is_classified() -> None:
    assert storage_url_names() == READ_ONLY | set(MUTATING)


@pytest.fixture
def world(branch: Branch, bucket: str, put: Callable[..., None], operator_user: Any, admin_user: Any) -> dict[str, Any]:
    put("docs/a.txt", body=b"hello")
    from console.aws import aws_client

    aws_client("s3", region=REGION).create_bucket(Bucket=EXTRA_BUCKET)
    extra = ExtraBucket.objects.create(branch=branch, name="another-added-bucket", region=REGION)
    # A delete whose worker died, for Retry (it deletes docs/old.txt when run).
    put("docs/old.txt", body=b"old")
    failed = StorageTask.objects.create(branch=branch, bucket=BUCKET, region=REGION, kind="DELETE", status="FAILED",
                                        retryable=True, total=1, payload={"files": ["docs/old.txt"]})  # fmt: skip
    aws_client("s3", region=REGION).create_bucket(Bucket="another-added-bucket")
    # An upload in progress with one part sent, started by each of the people who may finish it.
    tickets = {}
    for user in (operator_user, admin_user):
        key = f"parts-{user.username}.bin"
        upload_id = aws_client("s3", region=REGION).create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        aws_client("s3", region=REGION).upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b"p" * 10)
        tickets[user.username] = Ticket(bucket=BUCKET, key=key, upload_id=upload_id, size=10, part_bytes=8 * 1024 * 1024,
                                        user_pk=user.pk, overwrote=False).sign()  # fmt: skip
    return {"branch": branch, "extra": extra, "tickets": tickets, "failed_task": failed}


def target(name: str, world: dict[str, Any], username: str = "otto") -> tuple[str, dict[str, Any]]:
    branch: Branch = world["branch"]
    data = {k: (world["tickets"].get(username, "x") if v == "{ticket}" else v) for k, v in MUTATING[name][0].items()}
    if name == "storage_bucket_remove":
        return f"/apps/{branch.app.app_id}/branches/main/storage/added/{world['extra'].pk}/remove/", data
    if name == "storage_upload_put":
        return url(name, branch, key="uploaded.txt"), data
    if name == "storage_upload_part":
        return url(name, branch, ticket=world["tickets"].get(username, "x"), number="1"), data
    if name == "storage_task_retry":
        return f"/apps/{branch.app.app_id}/branches/main/storage/tasks/{world['failed_task'].pk}/retry/", data
    return url(name, branch), data


def snapshot(s3: Any) -> tuple[Any, ...]:
    from console.aws import aws_client

    client = aws_client("s3", region=REGION)
    uploads = sorted(u["Key"] for u in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))
    return (all_keys(s3), uploads, list(ExtraBucket.objects.values()), list(StorageTask.objects.values()))


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_viewers_are_refused_and_nothing_changes(name: str, viewer_client: Client, world: dict[str, Any], s3: Any) -> None:
    path, data = target(name, world)
    before = snapshot(s3)
    response = viewer_client.post(path, data)
    assert response.status_code == 403
    assert snapshot(s3) == before
    assert AuditEvent.objects.get(outcome="denied").target == path.split("?")[0]


@pytest.mark.parametrize("name", sorted(n for n, spec in MUTATING.items() if spec[1] == "admin"))
def test_operators_may_not_manage_buckets(name: str, operator_client: Client, world: dict[str, Any], s3: Any) -> None:
    path, data = target(name, world)
    before = snapshot(s3)
    assert operator_client.post(path, data).status_code == 403
    assert snapshot(s3) == before


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_outsiders_are_sent_to_sign_in(name: str, outsider_client: Client, world: dict[str, Any], s3: Any) -> None:
    path, data = target(name, world)
    before = snapshot(s3)
    response = outsider_client.post(path, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert snapshot(s3) == before


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_the_role_that_may_succeeds(name: str, world: dict[str, Any], request: pytest.FixtureRequest, s3: Any) -> None:
    _, who, renders, audited = MUTATING[name]
    client: Client = request.getfixturevalue(f"{who}_client")
    username = "ada" if who == "admin" else "otto"
    path, data = target(name, world, username)
    if name == "storage_upload_part":
        response = client.post(path, b"p" * 10, content_type="application/octet-stream")
    else:
        response = client.post(path, data)
    assert response.status_code == (200 if renders else 302), response.content.decode()[:500]
    assert AuditEvent.objects.filter(outcome="success", actor_name=username).exists() == audited
    assert not AuditEvent.objects.filter(outcome="denied").exists()


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_posts_without_a_csrf_token_are_refused(name: str, admin_user: Any, world: dict[str, Any], s3: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    path, data = target(name, world, "ada")
    before = snapshot(s3)
    assert client.post(path, data).status_code == 403
    assert snapshot(s3) == before


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_read_only_pages_need_sign_in_and_let_viewers_in(
    name: str, outsider_client: Client, viewer_client: Client, world: dict[str, Any]
) -> None:
    branch: Branch = world["branch"]
    task = StorageTask.objects.create(branch=branch, bucket=BUCKET, region=REGION, kind="DELETE", status="SUCCEEDED")
    query = {"storage_object": {"key": "docs/a.txt"}, "storage_download": {"key": "docs/a.txt"},
             "storage_preview": {"key": "docs/a.txt"}, "storage_zip": {"prefix": "docs/"}}.get(name, {})  # fmt: skip
    path = (
        f"/apps/{branch.app.app_id}/branches/main/storage/tasks/{task.pk}/"
        if name == "storage_task"
        else url(name, branch, **query)
    )
    refused = outsider_client.get(path)
    assert refused.status_code == 302
    assert refused["Location"].startswith("/accounts/login/")
    allowed = viewer_client.get(path)
    assert allowed.status_code == (302 if name in ("storage_download", "storage_preview") else 200)
