"""Files for the demo branch's bucket: folders to browse, images and text to preview,
and a folder of 120 logs that pages at the default page size (100).

`seed_demo_files` is idempotent: it puts only the keys the bucket lacks.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable, Iterator

from apps.storage import s3

Pixel = tuple[int, int, int]
LOG_FILES = 120


def png(width: int, height: int, colour: Callable[[int, int], Pixel]) -> bytes:
    """A small RGB PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"".join(bytes(colour(x, y)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def _sunset(x: int, y: int) -> Pixel:
    if y > 44 and (x - 32) ** 2 + (y - 44) ** 2 < 140:
        return (255, 196, 64)
    if y > 44:
        return (24, 64 + y, 128 + y)
    return (255, max(40, 160 - 2 * y), 80 + y)


def _logo(x: int, y: int) -> Pixel:
    inside = abs(x - 32) + abs(y - 32) < 24
    return (255, 153, 0) if inside else (35, 47, 62)


def _grid(x: int, y: int) -> Pixel:
    return (11, 107, 203) if (x // 8 + y // 8) % 2 else (233, 242, 251)


def _snow(x: int, y: int) -> Pixel:
    flake = (x * 7 + y * 13) % 23 == 0
    return (255, 255, 255) if flake else (90 + y, 120 + y, 170 + y // 2)


README = """# Demo files

This bucket belongs to the demo branch's Amplify Storage (`todoFiles`).

- `media/images/`: a few PNG images (previewed on their page)
- `media/docs/`: text, Markdown, CSV and JSON files
- `media/albums/`: folders inside folders
- `media/logs/`: 120 log files, more than one page at the default page size
- `media/empty/`: an empty folder (only its marker object)
"""

CSV = "id,title,done,priority\n1,Buy milk,false,low\n2,Write the report,true,high\n3,Call the bank,false,medium\n"
NOTES = (
    "Meeting notes\n=============\n\n- Ship the file browser\n- Drag and drop works for whole folders\n- Zip downloads stream\n"
)
OVERVIEW = (
    "# Überblick Q3\n\nA file whose name has a space and non-ASCII letters.\n\n| month | todos |\n|---|---|\n| July | 12 |\n"
)


def demo_files() -> Iterator[tuple[str, bytes, str]]:
    """(key, bytes, content type) of every demo object."""
    yield "README.md", README.encode(), "text/markdown"
    yield "media/images/logo.png", png(64, 64, _logo), "image/png"
    yield "media/images/sunset.png", png(64, 64, _sunset), "image/png"
    yield "media/images/grid.png", png(48, 48, _grid), "image/png"
    yield "media/docs/notes.txt", NOTES.encode(), "text/plain"
    yield "media/docs/todos.csv", CSV.encode(), "text/csv"
    yield (
        "media/docs/settings.json",
        json.dumps({"theme": "calm", "pageSize": 100, "features": ["zip", "dnd"]}, indent=2).encode(),
        ("application/json"),
    )
    yield "media/docs/Überblick Q3.md", OVERVIEW.encode(), "text/markdown"
    yield "media/albums/2024/summer/beach.png", png(40, 40, _sunset), "image/png"
    yield "media/albums/2024/winter/snow.png", png(40, 40, _snow), "image/png"
    yield "media/albums/2025/notes.txt", b"Photos of 2025 go here.\n", "text/plain"
    yield "media/empty/", b"", "application/x-directory"
    for number in range(1, LOG_FILES + 1):
        lines = "".join(
            f"2025-01-{number % 28 + 1:02d}T10:{minute:02d}:00Z INFO request {number}-{minute} ok\n" for minute in range(5)
        )
        yield f"media/logs/app-{number:03d}.log", lines.encode(), "text/plain"


def seed_demo_files(bucket: str, region: str) -> int:
    """Put the demo's folders and files into `bucket`, skipping keys it already has;
    the number of objects put (0 when the bucket had them all)."""
    present = {item.key for prefix in ("README.md", "media/") for item in s3.walk(bucket, region, prefix)}
    written = 0
    for key, data, content_type in demo_files():
        if key not in present:
            s3.put(bucket, region, key, io.BytesIO(data), len(data), content_type)
            written += 1
    return written
