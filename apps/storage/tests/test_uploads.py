"""Uploads: one request for small files, parts for large ones (UploadPart, S3 assembles),
overwriting asks first, a size limit with a clear message, tickets that cannot be
reused by someone else, and every upload audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.storage.tests.conftest import all_keys, url
from apps.storage.tests.uploading import MiB, PatternReader, pattern, post_body, post_json, upload_in_parts, upload_small
from console.models import AuditEvent


def test_a_small_file_goes_in_one_put_object(operator_client: Client, branch: Branch, s3: Any, bucket: str, calls: Any) -> None:
    response = upload_small(operator_client, branch, "docs/hello.txt", b"hello world", content_type="text/plain")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "key": "docs/hello.txt"}
    stored = s3.get_object(Bucket=bucket, Key="docs/hello.txt")
    assert stored["Body"].read() == b"hello world"
    assert stored["ContentType"] == "text/plain"
    assert calls.count("PutObject") == 1
    assert calls.count("UploadPart") == 0
    event = AuditEvent.objects.get(action="storage.upload")
    assert event.actor_name == "otto"
    assert event.target == f"{bucket}/docs/hello.txt"
    assert event.detail == {"bucket": bucket, "file": "docs/hello.txt", "bytes": 11, "parts": 1, "overwrote": False}


def test_the_content_type_is_guessed_when_the_browser_gives_none(operator_client: Client, branch: Branch, s3: Any,
                                                                  bucket: str) -> None:  # fmt: skip
    upload_small(operator_client, branch, "a.csv", b"a,b\n", content_type="")
    upload_small(operator_client, branch, "b.bin", b"\x00", content_type="not a type<script>")
    assert s3.head_object(Bucket=bucket, Key="a.csv")["ContentType"] == "text/csv"
    assert s3.head_object(Bucket=bucket, Key="b.bin")["ContentType"] == "application/octet-stream"


def test_a_30_mb_file_goes_in_parts_and_arrives_whole(
    operator_client: Client, branch: Branch, s3: Any, bucket: str, calls: Any
) -> None:
    size = 30_000_000
    done = upload_in_parts(operator_client, branch, "videos/big.bin", size)
    assert done.status_code == 200, done.content
    assert calls.count("CreateMultipartUpload") == 1
    assert calls.count("UploadPart") == 4  # 8 MiB parts
    assert calls.count("CompleteMultipartUpload") == 1
    assert calls.count("PutObject") == 0
    body = s3.get_object(Bucket=bucket, Key="videos/big.bin")["Body"]
    offset = 0
    while chunk := body.read(4 * MiB):
        assert chunk == pattern(offset, len(chunk)), f"bytes differ near offset {offset}"
        offset += len(chunk)
    assert offset == size
    event = AuditEvent.objects.get(action="storage.upload")
    assert event.detail["bytes"] == size
    assert event.detail["parts"] == 4


def test_a_part_of_the_wrong_size_or_number_is_refused(operator_client: Client, branch: Branch, bucket: str) -> None:
    started = post_json(operator_client, url("storage_upload_start", branch), {"key": "x.bin", "size": 10 * MiB})
    ticket = started.json()["ticket"]
    short = post_body(operator_client, url("storage_upload_part", branch, ticket=ticket, number="1"), PatternReader(0, 100), 100)
    assert short.status_code == 400
    assert "should have 8,388,608" in short.json()["error"]
    beyond = post_body(operator_client, url("storage_upload_part", branch, ticket=ticket, number="3"), PatternReader(0, 10), 10)
    assert beyond.status_code == 400
    assert "not one of the upload's 2 parts" in beyond.json()["error"]
    early = post_json(operator_client, url("storage_upload_complete", branch), {"ticket": ticket})
    assert early.status_code == 409
    assert "missing: [1, 2]" in early.json()["error"]


def test_a_ticket_is_bound_to_its_uploader_and_cannot_be_forged(
    operator_client: Client, admin_client: Client, branch: Branch, bucket: str
) -> None:
    ticket = post_json(operator_client, url("storage_upload_start", branch), {"key": "x.bin", "size": 10 * MiB}).json()["ticket"]
    someone_else = post_body(admin_client, url("storage_upload_part", branch, ticket=ticket, number="2"),
                             PatternReader(0, 2 * MiB), 2 * MiB)  # fmt: skip
    assert someone_else.status_code == 403
    forged = post_json(operator_client, url("storage_upload_complete", branch), {"ticket": ticket[:-3] + "abc"})
    assert forged.status_code == 400
    assert "damaged or expired" in forged.json()["error"]


def test_an_aborted_upload_leaves_nothing(operator_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    ticket = post_json(operator_client, url("storage_upload_start", branch), {"key": "x.bin", "size": 10 * MiB}).json()["ticket"]
    post_body(operator_client, url("storage_upload_part", branch, ticket=ticket, number="1"), PatternReader(0, 8 * MiB), 8 * MiB)
    assert post_json(operator_client, url("storage_upload_abort", branch), {"ticket": ticket}).status_code == 200
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert all_keys(s3) == []
    assert AuditEvent.objects.filter(action="storage.upload_abort").exists()


def test_overwriting_asks_first(operator_client: Client, branch: Branch, s3: Any, put: Callable[..., None]) -> None:
    put("docs/a.txt", "docs/b.txt", body=b"old")
    check = post_json(
        operator_client, url("storage_upload_check", branch), {"keys": ["docs/a.txt", "docs/new.txt", "docs/b.txt"]}
    )
    assert check.json() == {"existing": ["docs/a.txt", "docs/b.txt"]}
    refused = upload_small(operator_client, branch, "docs/a.txt", b"new")
    assert refused.status_code == 409
    assert "exists already" in refused.json()["error"]
    assert s3.get_object(Bucket="shop-main-files", Key="docs/a.txt")["Body"].read() == b"old"
    in_parts = post_json(operator_client, url("storage_upload_start", branch), {"key": "docs/b.txt", "size": 9 * MiB})
    assert in_parts.status_code == 409
    replaced = upload_small(operator_client, branch, "docs/a.txt", b"new", overwrite=True)
    assert replaced.status_code == 200
    assert s3.get_object(Bucket="shop-main-files", Key="docs/a.txt")["Body"].read() == b"new"
    assert AuditEvent.objects.get(action="storage.upload").detail["overwrote"] is True


def test_the_size_limit_is_enforced_with_a_clear_message(operator_client: Client, branch: Branch, bucket: str,
                                                         settings: Any) -> None:  # fmt: skip
    settings.STORAGE_MAX_UPLOAD_BYTES = 10 * MiB
    too_big = post_json(operator_client, url("storage_upload_start", branch), {"key": "big.bin", "size": 10 * MiB + 1})
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "The file is 10.0 MB; files of at most 10.0 MB can be uploaded here."
    settings.STORAGE_MAX_UPLOAD_BYTES = 100
    small_but_over = upload_small(operator_client, branch, "a.bin", b"x" * 101)
    assert small_but_over.status_code == 413
    assert "at most 100 bytes" in small_but_over.json()["error"]
    page = operator_client.get(url("storage_browse", branch)).content.decode()
    assert 'data-max-bytes="100"' in page
    assert "Files up to 100 bytes" in page


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "The name is empty."), ("folder/", "cannot end with /"), ("x" * 1025, "longer than S3's 1024 bytes")],
)
def test_bad_keys_are_refused(operator_client: Client, branch: Branch, bucket: str, key: str, message: str) -> None:
    response = upload_small(operator_client, branch, key, b"x")
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_body_shorter_than_its_length_is_refused(operator_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    class Short(PatternReader):
        def read(self, size: int = -1) -> bytes:
            return b""

    response = post_body(operator_client, url("storage_upload_put", branch, key="x.bin"), Short(0, 0), 50)
    assert response.status_code == 400
    assert "stopped before all its bytes arrived" in response.json()["error"]
    assert all_keys(s3) == []


def test_uploads_need_a_csrf_token(operator_user: Any, branch: Branch, bucket: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    assert upload_small(client, branch, "a.txt", b"x").status_code == 403
    page = client.get(url("storage_browse", branch)).content.decode()
    token = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    accepted = client.post(url("storage_upload_put", branch, key="a.txt"), b"x", content_type="application/octet-stream",
                           headers={"X-CSRFToken": token})  # fmt: skip
    assert accepted.status_code == 200


def test_creating_a_folder_puts_a_marker(operator_client: Client, branch: Branch, s3: Any, put: Callable[..., None]) -> None:
    put("docs/a.txt")
    response = operator_client.post(url("storage_folder_create", branch), {"prefix": "docs%2F", "name": " reports "})
    assert response.status_code == 302
    assert response["Location"].endswith("prefix=docs%2Freports%2F")
    assert "Folder reports created." in [str(m) for m in operator_client.get(response["Location"]).context["messages"]]
    assert s3.head_object(Bucket="shop-main-files", Key="docs/reports/")["ContentLength"] == 0
    again = operator_client.post(url("storage_folder_create", branch), {"prefix": "docs%2F", "name": "reports"}, follow=True)
    assert "already exists" in next(str(m) for m in again.context["messages"])
    for bad in ("a/b", "..", "tab\there", ""):
        refused = operator_client.post(url("storage_folder_create", branch), {"prefix": "", "name": bad}, follow=True)
        assert "The folder was not created" in next(str(m) for m in refused.context["messages"])
    assert all_keys(s3) == ["docs/a.txt", "docs/reports/"]
    assert AuditEvent.objects.filter(action="storage.folder_create").count() == 1


def test_an_upload_left_unfinished_is_aborted_after_a_day_and_others_tools_uploads_are_left_alone(
    operator_client: Client, branch: Branch, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.storage import services
    from apps.storage.models import PendingUpload
    from apps.storage.tasks import abort_stale_uploads

    finished = upload_in_parts(operator_client, branch, "videos/done.bin", 9 * MiB)
    assert finished.status_code == 200
    started = post_json(operator_client, url("storage_upload_start", branch), {"key": "videos/left.bin", "size": 10 * MiB})
    ticket = started.json()["ticket"]
    post_body(operator_client, url("storage_upload_part", branch, ticket=ticket, number="1"), PatternReader(0, 8 * MiB), 8 * MiB)
    # The tab closes here. Another tool has an upload of its own in the same bucket.
    theirs = s3.create_multipart_upload(Bucket=bucket, Key="app-uploads/avatar.png")["UploadId"]
    assert list(PendingUpload.objects.values_list("key", flat=True)) == ["videos/left.bin"]  # the finished one is forgotten

    assert abort_stale_uploads() == 0  # not a day old yet
    later = timezone.now() + timedelta(hours=25)
    monkeypatch.setattr(services.timezone, "now", lambda: later)
    assert abort_stale_uploads() == 1
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == [theirs]
    assert not PendingUpload.objects.exists()
    assert all_keys(s3) == ["videos/done.bin"]
    assert AuditEvent.objects.filter(action="storage.upload_abort", message__contains="aborted 1 upload").exists()


def test_a_json_body_nested_too_deeply_is_refused_clearly(operator_client: Client, branch: Branch) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = operator_client.post(url("storage_upload_start", branch), deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is nested too deeply."}
