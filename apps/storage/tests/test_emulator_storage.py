"""Against a real moto server process (over HTTP): the web process's memory during a
30 MB upload in parts, and presigned links a browser would follow.

Here the emulator keeps the bytes in its own process, so what tracemalloc sees in this
one is the console's share alone: the test client, the view, botocore.
"""

from __future__ import annotations

import tracemalloc
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.storage.tests.conftest import BUCKET, REGION, CallCounter, url
from apps.storage.tests.uploading import MiB, pattern, upload_in_parts
from console.aws import clear_client_cache
from console.emulator import EMULATOR_CREDENTIALS, Emulator

pytestmark = pytest.mark.emulator

UPLOAD_BYTES = 30_000_000
PEAK_LIMIT = 12 * MiB


@pytest.fixture(autouse=True)
def on_the_emulator(emulator: Emulator, settings: Any) -> Iterator[None]:
    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.fixture
def s3(emulator: Emulator) -> Any:
    return boto3.client(
        "s3", region_name=REGION, endpoint_url=emulator.endpoint_url,
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip


def test_a_30_mb_upload_in_parts_does_not_grow_the_web_process_by_the_file_size(
    operator_client: Client, branch: Branch, s3: Any, bucket: str
) -> None:
    calls = CallCounter()
    tracemalloc.start()
    try:
        done = upload_in_parts(operator_client, branch, "big/upload.bin", UPLOAD_BYTES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert done.status_code == 200, done.content
    assert calls.count("UploadPart") == 4
    assert calls.count("PutObject") == 0
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB for a {UPLOAD_BYTES / MiB:.0f} MiB upload"
    stored = s3.get_object(Bucket=BUCKET, Key="big/upload.bin")["Body"]
    offset = 0
    while chunk := stored.read(4 * MiB):
        assert chunk == pattern(offset, len(chunk))
        offset += len(chunk)
    assert offset == UPLOAD_BYTES


def test_a_presigned_download_is_a_short_lived_attachment(viewer_client: Client, branch: Branch, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="docs/page.html", Body=b"<script>alert(1)</script>", ContentType="text/html")
    response = viewer_client.get(url("storage_download", branch, key="docs/page.html"))
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in location
    assert "X-Amz-Expires=300" in location
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.read() == b"<script>alert(1)</script>"
        assert fetched.headers["Content-Disposition"].startswith("attachment")
        assert fetched.headers["Content-Type"] == "application/octet-stream"


def test_an_image_preview_is_inline_with_a_type_from_its_name(
    viewer_client: Client, branch: Branch, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="img/logo.png", Body=b"\x89PNG\r\n\x1a\nfake", ContentType="text/html")
    location = viewer_client.get(url("storage_preview", branch, key="img/logo.png"))["Location"]
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.headers["Content-Type"] == "image/png"
        assert fetched.headers["Content-Disposition"].startswith("inline")
