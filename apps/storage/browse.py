"""Reads for the file browser: a folder's page, an object's details, counts.

A folder page is one ListObjectsV2 call (Delimiter "/"). Its position travels in the
URL as a signed cursor: the continuation tokens of the pages before it (the last
few, for Previous), bound to the bucket, folder, filter and page size, so a link can
be shared and a forged token never reaches S3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.storage import keys, s3
from apps.storage.buckets import Bucket
from console.cursors import Cursor, sign_cursor, unsign_cursor

PAGE_SIZES = (25, 50, 100, 250, 1000)
DEFAULT_PAGE_SIZE = 100
SORTS = ("name", "size", "modified")
COUNT_LIMIT = 100_000
_CURSOR_SALT = "storage.cursor"


@dataclass(frozen=True)
class Entry:
    kind: str  # "folder" or "file"
    key: str  # the object key, or the folder's prefix (ending with "/")
    name: str  # inside the listed folder
    size: int | None = None
    last_modified: datetime | None = None
    storage_class: str = ""

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"

    @property
    def form_value(self) -> str:
        return keys.form_value(self.key)

    @property
    def type_label(self) -> str:
        if self.is_folder:
            return "Folder"
        suffix = keys.suffix_of(self.key)
        return f"File ({suffix[1:].upper()})" if 1 < len(suffix) <= 9 else "File"


@dataclass(frozen=True)
class Listing:
    """What the cursor is bound to."""

    bucket: str
    prefix: str
    name_filter: str
    size: int

    def _scope(self) -> list[Any]:
        return [self.bucket, self.prefix, self.name_filter, self.size]

    def sign(self, cursor: Cursor) -> str:
        return sign_cursor(cursor, self._scope(), salt=_CURSOR_SALT)

    def unsign(self, value: str) -> Cursor:
        mismatch = "That page link belongs to another folder, filter or page size; showing the first page."
        return unsign_cursor(value, self._scope(), salt=_CURSOR_SALT, mismatch=mismatch)


@dataclass(frozen=True)
class FolderPage:
    entries: list[Entry]
    next_cursor: Cursor | None
    folders: int
    files: int


def folder_page(bucket: Bucket, listing: Listing, cursor: Cursor, *, sort: str = "name", descending: bool = False) -> FolderPage:
    """One page of the folder `listing.prefix`: names starting with the filter, S3's page
    order, then sorted within the page (folders first)."""
    page = s3.list_page(
        bucket.name, bucket.region, prefix=listing.prefix + listing.name_filter, max_keys=listing.size, token=cursor.token
    )
    folders = [Entry(kind="folder", key=p, name=keys.name_in(p, listing.prefix)) for p in page.folders]
    files = [
        Entry(
            kind="file",
            key=o.key,
            name=keys.name_in(o.key, listing.prefix),
            size=o.size,
            last_modified=o.last_modified,
            storage_class=o.storage_class,
        )
        for o in page.files
        if o.key != listing.prefix  # the folder's own marker object
    ]
    return FolderPage(
        entries=_sorted(folders, sort, descending) + _sorted(files, sort, descending),
        next_cursor=cursor.next(page.next_token) if page.next_token else None,
        folders=len(folders),
        files=len(files),
    )


def _sorted(entries: list[Entry], sort: str, descending: bool) -> list[Entry]:
    if sort == "size":
        return sorted(entries, key=lambda e: (e.size or 0, e.name), reverse=descending)
    if sort == "modified":
        floor = datetime.min
        return sorted(entries, key=lambda e: (_naive(e.last_modified) or floor, e.name), reverse=descending)
    return sorted(entries, key=lambda e: e.name, reverse=descending)


def _naive(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=None) if moment is not None else None


@dataclass(frozen=True)
class Details:
    key: str
    size: int
    content_type: str
    last_modified: datetime | None
    etag: str
    storage_class: str
    metadata: dict[str, str]
    version_id: str
    preview: str  # "image", "text" or ""
    text: str = ""
    truncated: bool = False


TEXT_PREVIEW_BYTES = 64 * 1024


def object_details(bucket: Bucket, key: str) -> Details | None:
    described = s3.head(bucket.name, bucket.region, key)
    if described is None:
        return None
    content_type = str(described.get("ContentType", ""))
    size = int(described.get("ContentLength", 0))
    preview = keys.preview_kind(key, content_type)
    text, truncated = "", False
    if preview == "text" and size:
        raw = s3.read_start(bucket.name, bucket.region, key, TEXT_PREVIEW_BYTES)
        text, truncated = raw.decode("utf-8", errors="replace"), size > TEXT_PREVIEW_BYTES
    return Details(
        key=key,
        size=size,
        content_type=content_type,
        last_modified=described.get("LastModified"),
        etag=str(described.get("ETag", "")).strip('"'),
        storage_class=str(described.get("StorageClass") or "STANDARD"),
        metadata={str(k): str(v) for k, v in (described.get("Metadata") or {}).items()},
        version_id=str(described.get("VersionId") or ""),
        preview=preview,
        text=text,
        truncated=truncated,
    )


def count_objects(bucket: Bucket, files: list[str], folders: list[str], limit: int = COUNT_LIMIT) -> int:
    """Objects a delete of the selection would remove (files + all under the folders),
    counted up to `limit` + 1."""
    total = len(files)
    for folder in folders:
        for _ in s3.walk(bucket.name, bucket.region, folder):
            total += 1
            if total > limit:
                return total
    return total
