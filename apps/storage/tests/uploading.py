"""Uploading through the console's endpoints the way storage.js does, with bodies that
are generated as they are read (so the test itself never holds a file)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from apps.branches.models import Branch
from apps.storage.tests.conftest import url

MiB = 1024 * 1024


# A pattern with a prime period, so bytes at the wrong offset (a part out of place) show.
_PERIOD = 65_521
_BLOCK = 64 * 1024
_BASE = bytes(((i * 2_654_435_761) >> 11) & 0xFF for i in range(_PERIOD))
_EXTENDED = _BASE + _BASE[:_BLOCK]


def pattern(offset: int, length: int) -> bytes:
    """The bytes at [offset, offset + length) of the endless pattern (for small checks)."""
    return b"".join(_EXTENDED[(p % _PERIOD) : (p % _PERIOD) + min(_BLOCK, offset + length - p)]
                    for p in range(offset, offset + length, _BLOCK))  # fmt: skip


class PatternReader:
    """A request body: `length` bytes of the pattern from `offset`, made on demand in 64 KiB blocks."""

    def __init__(self, offset: int, length: int) -> None:
        self.position, self.end = offset, offset + length

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.end - self.position:
            size = self.end - self.position
        size = min(size, _BLOCK)
        start = self.position % _PERIOD
        self.position += size
        return _EXTENDED[start : start + size]

    def readline(self, size: int = -1) -> bytes:  # part of the WSGI input protocol
        return self.read(size)


def post_json(client: Client, path: str, data: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json.dumps(data), content_type="application/json", headers=headers)


def post_body(client: Client, path: str, body: Any, length: int) -> Any:
    """POST `length` bytes read from `body` (a file-like) without building them in memory."""
    return client.generic(
        "POST", path, b"", content_type="application/octet-stream",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(length)},
    )  # fmt: skip


def upload_in_parts(client: Client, branch: Branch, key: str, size: int, *, overwrite: bool = False) -> Any:
    """start, every part (pattern bytes), complete; returns the complete response."""
    started = post_json(
        client, url("storage_upload_start", branch), {"key": key, "size": size, "type": "", "overwrite": overwrite}
    )
    assert started.status_code == 200, started.content
    ticket, part_bytes, parts = started.json()["ticket"], started.json()["part_bytes"], started.json()["parts"]
    for number in range(1, parts + 1):
        offset = (number - 1) * part_bytes
        length = min(part_bytes, size - offset)
        path = url("storage_upload_part", branch, ticket=ticket, number=str(number))
        answer = post_body(client, path, PatternReader(offset, length), length)
        assert answer.status_code == 200, answer.content
    return post_json(client, url("storage_upload_complete", branch), {"ticket": ticket})


def upload_small(
    client: Client, branch: Branch, key: str, data: bytes, *, content_type: str = "", overwrite: bool = False
) -> Any:
    query = {"key": key, "type": content_type, "overwrite": "1" if overwrite else "0"}
    return client.post(url("storage_upload_put", branch, **query), data, content_type="application/octet-stream")
