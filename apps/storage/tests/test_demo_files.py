"""The demo's files: folders, images, text, 120 logs; a second seed changes nothing."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from django.test import Client

from apps.branches.models import Branch
from apps.storage.demo import LOG_FILES, png, seed_demo_files
from apps.storage.tests.conftest import REGION, all_keys, page_names, url


def test_png_is_a_valid_image() -> None:
    data = png(3, 2, lambda x, y: (x * 80, y * 120, 7))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (3, 2)
    idat_length = struct.unpack(">I", data[33:37])[0]
    assert zlib.decompress(data[41 : 41 + idat_length]) == b"\x00" + bytes([0, 0, 7, 80, 0, 7, 160, 0, 7]) + b"\x00" + bytes(
        [0, 120, 7, 80, 120, 7, 160, 120, 7]
    )


def test_seeding_is_idempotent_and_fills_a_folder_past_one_page(
    viewer_client: Client, branch: Branch, s3: Any, bucket: str, calls: Any
) -> None:
    assert seed_demo_files(bucket, REGION) == len(all_keys(s3))
    first = all_keys(s3)
    puts = calls.count("PutObject")
    assert len([k for k in first if k.startswith("media/logs/")]) == LOG_FILES
    assert {"README.md", "media/images/logo.png", "media/empty/", "media/albums/2024/winter/snow.png"} <= set(first)
    assert s3.head_object(Bucket=bucket, Key="media/docs/todos.csv")["ContentType"] == "text/csv"
    assert seed_demo_files(bucket, REGION) == 0
    assert all_keys(s3) == first
    assert calls.count("PutObject") == puts
    logs = viewer_client.get(url("storage_browse", branch, prefix="media/logs/")).content.decode()
    assert len(page_names(logs)) == 100
    assert 'rel="next"' in logs
