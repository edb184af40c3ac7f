"""A branch whose outputs name one bucket (created in moto), and helpers to fill and read it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from django.urls import reverse

from apps.branches import services as branch_services
from apps.branches.models import Branch
from console.aws import aws_client

REGION = "us-east-1"
BUCKET = "shop-main-files"
FRIENDLY = "shopFiles"
PATHS = {"media/*": {"guest": ["get", "list"], "authenticated": ["get", "list", "write", "delete"]}}


def outputs_with_storage(bucket: str = BUCKET, region: str = REGION) -> dict[str, Any]:
    """A valid amplify_outputs.json (1.4) with a storage section naming `bucket`."""
    return {
        "version": "1.4",
        "storage": {
            "aws_region": region,
            "bucket_name": bucket,
            "buckets": [{"name": FRIENDLY, "bucket_name": bucket, "aws_region": region, "paths": PATHS}],
        },
    }


@pytest.fixture
def branch(db: None, make_repo: Callable[..., Path]) -> Branch:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    main = app.branches.get(name="main")
    main.backend_outputs = outputs_with_storage()
    main.save()
    return main


@pytest.fixture
def s3() -> Any:
    """A raw client for the tests' own reads and writes (not the console's)."""
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def bucket(branch: Branch, s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def put(bucket: str, s3: Any) -> Callable[..., None]:
    def put(*keys: str, body: bytes = b"x", content_type: str = "application/octet-stream") -> None:
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    return put


def all_keys(s3: Any, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def url(name: str, branch: Branch, **query: str) -> str:
    """A storage URL of the test bucket (or of the branch for storage_home and co.)."""
    args: list[Any] = [branch.app.app_id, branch.display_name]
    if name not in ("storage_home", "storage_bucket_add"):
        args.append(BUCKET)
    path = reverse(name, args=args)
    return f"{path}?{urlencode(query)}" if query else path


class CallCounter:
    """The S3 API calls the console's client makes (botocore's before-call event)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        aws_client("s3", region=REGION).meta.events.register("before-call.s3", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def count(self, name: str) -> int:
        return self.calls.count(name)


@pytest.fixture
def calls() -> Iterator[CallCounter]:
    counter = CallCounter()
    yield counter
    aws_client("s3", region=REGION).meta.events.unregister("before-call.s3", counter._seen)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def page_names(html: str) -> list[str]:
    """The names linked in a folder page's table, in order (as HTML text)."""
    return re.findall(
        r'<td class="entry-name"><a href="[^"]*"><span class="icon-(?:folder|file)" aria-hidden="true"></span>(.*?)</a>', html
    )
