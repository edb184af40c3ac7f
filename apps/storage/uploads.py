"""Uploads from the browser, file by file.

A file up to one part goes in one request (PutObject). A larger one is cut by the
browser into parts; each part is one request whose body is copied to a spool file a
chunk at a time (on disk past 1 MiB) and sent to S3 from there (UploadPart), so a
web process holds at most a chunk of any upload, and S3 assembles the file
(CompleteMultipartUpload). The upload's identity travels as a signed ticket, so a
part can only go to an upload this console started, for this user, at its planned size.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO, Any, Protocol

from django.conf import settings
from django.core import signing

READ_CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
MAX_PARTS = 10_000
_TICKET_SALT = "storage.upload"
TICKET_MAX_AGE = 7 * 24 * 3600  # S3 keeps unfinished uploads until aborted


class UploadRefused(ValueError):
    """The upload cannot go ahead; the message says why. `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def size_problem(size: int) -> str:
    limit = settings.STORAGE_MAX_UPLOAD_BYTES
    if size > limit:
        return f"The file is {human_size(size)}; files of at most {human_size(limit)} can be uploaded here."
    return ""


def human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            if unit == "bytes":
                return "1 byte" if size == 1 else f"{size:,.0f} bytes"
            return f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TB"  # pragma: no cover


def part_bytes_for(size: int) -> int:
    """The part size for a file: the configured one, or larger when 10,000 parts would not hold it."""
    configured = int(settings.STORAGE_UPLOAD_PART_BYTES)
    needed = -(-size // MAX_PARTS)
    mib = 1024 * 1024
    return max(configured, -(-needed // mib) * mib)


@dataclass(frozen=True)
class Ticket:
    bucket: str
    key: str
    upload_id: str
    size: int
    part_bytes: int
    user_pk: int
    overwrote: bool

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_bytes))

    def part_length(self, number: int) -> int:
        if not 1 <= number <= self.part_count:
            raise UploadRefused(f"Part {number} is not one of the upload's {self.part_count} parts.")
        return min(self.part_bytes, self.size - (number - 1) * self.part_bytes)

    def sign(self) -> str:
        fields = [self.bucket, self.key, self.upload_id, self.size, self.part_bytes, self.user_pk, self.overwrote]
        return signing.dumps(fields, salt=_TICKET_SALT, compress=True)

    @classmethod
    def unsign(cls, value: str, *, bucket: str, user_pk: int) -> Ticket:
        try:
            fields: Any = signing.loads(value, salt=_TICKET_SALT, max_age=TICKET_MAX_AGE)
            ticket = cls(
                bucket=str(fields[0]),
                key=str(fields[1]),
                upload_id=str(fields[2]),
                size=int(fields[3]),
                part_bytes=int(fields[4]),
                user_pk=int(fields[5]),
                overwrote=bool(fields[6]),
            )
        except (signing.BadSignature, TypeError, ValueError, IndexError):
            raise UploadRefused("The upload ticket is damaged or expired; start the upload again.") from None
        if ticket.bucket != bucket or ticket.user_pk != user_pk:
            raise UploadRefused("That upload belongs to another bucket or person.", status=403)
        return ticket


def content_length(meta: dict[str, Any]) -> int:
    raw = str(meta.get("CONTENT_LENGTH") or "")
    if not raw.isdigit():
        raise UploadRefused("The request has no Content-Length; send the file's bytes as the body.", status=411)
    return int(raw)


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def spool(stream: Readable, length: int) -> IO[bytes]:
    """Copy exactly `length` bytes of a request body into a spool file, a chunk at a time."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the caller closes it)
    remaining = length
    try:
        while remaining:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise UploadRefused("The upload stopped before all its bytes arrived.")
            spooled.write(chunk)
            remaining -= len(chunk)
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return spooled
