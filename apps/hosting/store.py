"""The hosting bucket (HOSTING_BUCKET): deployed files by content hash, and build caches.

    objects/<sha256>          a deployed file's bytes (metadata: its stored variants)
    objects/<sha256>.br|.gz   the same bytes pre-compressed, for compressible types
    build-caches/<branch>.tar.gz

An object's key is the hash of its bytes, so it is written once, never changed, and
shared by every deployment that holds the same file: a redeploy of an old version
finds all its objects there and uploads nothing. Variants are written before the
object itself, so an object that exists always has the variants its metadata names.
Being immutable, small objects are also kept in this process's memory (ObjectCache).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from console.aws import aws_client
from console.aws_errors import AwsNotFound, aws_errors

try:  # brotli variants where the package is there (it is pinned in requirements.txt)
    import brotli
except ImportError:  # pragma: no cover - exercised only without the package
    brotli = None

logger = logging.getLogger(__name__)

OBJECTS = "objects/"
CACHES = "build-caches/"
READ_CHUNK = 256 * 1024
DELETE_BATCH = 1000
# Compressing pays for text-like files from a few hundred bytes; very large ones are
# usually media or archives already, and would keep a build busy for little gain.
MIN_COMPRESS_BYTES = 256
MAX_COMPRESS_BYTES = 32 * 1024 * 1024
# A variant must save at least this share of the bytes to be worth storing and serving.
MIN_SAVING = 0.05
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/manifest+json",
    "application/xml",
    "application/wasm",
    "image/svg+xml",
    "image/x-icon",
    "font/ttf",
    "font/otf",
)
SUFFIX = {"br": ".br", "gzip": ".gz"}


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    encodings: str  # "br,gzip", "gzip" or ""
    uploaded: bool  # False: the object was already there


@dataclass(frozen=True)
class Opened:
    """A GetObject answer: its length, its Content-Range (ranged reads) and its bytes."""

    length: int
    content_range: str
    chunks: Iterator[bytes]


def bucket() -> str:
    return str(settings.HOSTING_BUCKET)


def s3() -> Any:
    return aws_client("s3")


def object_key(sha256: str, encoding: str = "") -> str:
    return OBJECTS + sha256 + (SUFFIX[encoding] if encoding else "")


def cache_key(branch_pk: int) -> str:
    return f"{CACHES}{branch_pk}.tar.gz"


def ensure_bucket() -> None:
    """Create the bucket if it is not there (the console owns it)."""
    client = s3()
    try:
        client.head_bucket(Bucket=bucket())
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    region = client.meta.region_name
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    # Another worker may make it first.
    with aws_errors("s3:CreateBucket"), contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket(), **extra)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def compressible(content_type: str, size: int) -> bool:
    kind = content_type.split(";")[0].strip()
    return MIN_COMPRESS_BYTES <= size <= MAX_COMPRESS_BYTES and kind.startswith(COMPRESSIBLE)


def _variants(data: bytes) -> dict[str, bytes]:
    """The compressed forms worth keeping (smaller by at least MIN_SAVING)."""
    found = {"gzip": gzip.compress(data, compresslevel=9, mtime=0)}
    if brotli is not None:
        # Quality 11 is several times slower for a few percent: builds wait for this.
        found["br"] = brotli.compress(data, quality=9 if len(data) <= 1024 * 1024 else 5)
    return {name: body for name, body in found.items() if len(body) <= len(data) * (1 - MIN_SAVING)}


def head(sha256: str) -> str | None:
    """The stored variants of an object ("" for none), or None if it is not stored."""
    try:
        answer = s3().head_object(Bucket=bucket(), Key=object_key(sha256))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(answer.get("Metadata", {}).get("encodings", ""))


def store_file(path: Path, content_type: str, sha256: str | None = None) -> StoredFile:
    """Store a file's bytes (and compressed variants) under its hash, unless already stored."""
    digest = sha256 or file_sha256(path)
    size = path.stat().st_size
    existing = head(digest)
    if existing is not None:
        return StoredFile(digest, size, existing, uploaded=False)
    client = s3()
    variants = _variants(path.read_bytes()) if compressible(content_type, size) else {}
    for encoding, body in variants.items():
        with aws_errors("s3:PutObject"):
            client.put_object(
                Bucket=bucket(),
                Key=object_key(digest, encoding),
                Body=body,
                ContentType=content_type,
                ContentEncoding=encoding,
            )
    encodings = ",".join(sorted(variants))
    with aws_errors("s3:PutObject"):
        # upload_file goes in parts for large files, so a 200 MB file never sits in memory.
        client.upload_file(
            str(path),
            bucket(),
            object_key(digest),
            ExtraArgs={"ContentType": content_type, "Metadata": {"encodings": encodings}},
        )
    return StoredFile(digest, size, encodings, uploaded=True)


class ObjectCache:
    """Whole small objects by key, least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int, max_object: int) -> None:
        self.max_bytes, self.max_object = max_bytes, max_object
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        """The largest object kept (0 when the cache is off)."""
        return min(self.max_object, self.max_bytes)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


memory = ObjectCache(max_bytes=settings.HOSTING_MEMORY_CACHE_MB * 1024 * 1024, max_object=256 * 1024)


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


def open_object(key: str, byte_range: tuple[int, int] | None = None) -> Opened:
    """An object's bytes, streamed; `byte_range` is (first, last) inclusive."""
    extra = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {}
    with aws_errors("s3:GetObject"):
        answer = s3().get_object(Bucket=bucket(), Key=key, **extra)
    return Opened(int(answer.get("ContentLength") or 0), str(answer.get("ContentRange") or ""), _chunks(answer["Body"]))


def read_small(key: str, size: int) -> bytes | None:
    """The whole object from memory, or read and remembered if small enough; None if too big."""
    if size > memory.limit:
        return None  # streamed instead
    found = memory.get(key)
    if found is None:
        with aws_errors("s3:GetObject"):
            found = s3().get_object(Bucket=bucket(), Key=key)["Body"].read()
        memory.put(key, found)
    return found


def put_blob(key: str, data: bytes) -> None:
    with aws_errors("s3:PutObject"):
        s3().put_object(Bucket=bucket(), Key=key, Body=data)


def get_blob(key: str) -> bytes | None:
    try:
        with aws_errors("s3:GetObject"):
            return bytes(s3().get_object(Bucket=bucket(), Key=key)["Body"].read())
    except AwsNotFound:
        return None


def get_blob_size(key: str) -> int | None:
    """The stored size of a blob, or None when there is none."""
    try:
        with aws_errors("s3:HeadObject"):
            return int(s3().head_object(Bucket=bucket(), Key=key)["ContentLength"])
    except AwsNotFound:
        return None


def iter_objects(prefix: str) -> Iterator[tuple[str, datetime]]:
    """(key, last modified) of every object under prefix, a page at a time."""
    pages = s3().get_paginator("list_objects_v2").paginate(Bucket=bucket(), Prefix=prefix)
    with aws_errors("s3:ListObjectsV2"):
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]


def delete_keys(keys: list[str]) -> list[str]:
    """Delete the keys; those S3 could not delete (each is logged)."""
    client = s3()
    failed: list[str] = []
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        with aws_errors("s3:DeleteObjects"):
            answer = client.delete_objects(Bucket=bucket(), Delete={"Objects": batch, "Quiet": True})
        for error in answer.get("Errors", []):
            logger.warning("Hosting bucket: %s not deleted: %s %s", error.get("Key"), error.get("Code"), error.get("Message"))
            failed.append(str(error.get("Key")))
    return failed
