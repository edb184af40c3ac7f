"""One zip of many objects, streamed as it is written.

zipfile writes to a stream it cannot seek (sizes go in data descriptors after each
entry); each object is read from S3 a chunk at a time, so neither the zip nor any
object is ever whole in memory. Entry names are made safe (keys.zip_entry_name).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from apps.storage import keys, s3
from apps.storage.buckets import Bucket
from apps.storage.operations import Selection
from console.aws_errors import AwsError

_DOS_EPOCH = (1980, 1, 1, 0, 0, 0)
ERRORS_ENTRY = "ERRORS.txt"


@dataclass(frozen=True)
class Member:
    key: str
    name: str  # relative to the zipped folder, before it is made safe
    size: int | None
    last_modified: datetime | None


class _Sink:
    """A write-only stream (no seek, no tell) whose bytes the generator hands out."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> Iterator[bytes]:
        """What was written since the last drain, as one chunk (nothing when nothing was)."""
        if self._chunks:
            data = b"".join(self._chunks)
            self._chunks.clear()
            yield data


def members(bucket: Bucket, selection: Selection, base: str) -> Iterator[Member]:
    """The objects of the selection, named relative to `base` (the folder on the page):
    a file by its own name, a folder's objects under the folder's name."""
    for key in selection.files:
        yield Member(key=key, name=keys.base_name(key), size=None, last_modified=None)
    for folder in selection.folders:
        root = keys.name_in(folder, base) if folder.startswith(base) else keys.base_name(folder)
        for item in s3.walk(bucket.name, bucket.region, folder):
            yield Member(key=item.key, name=f"{root}/{item.key[len(folder) :]}", size=item.size, last_modified=item.last_modified)


def _date_time(moment: datetime | None) -> tuple[int, int, int, int, int, int]:
    if moment is None:
        return time.localtime()[:6]
    stamp = moment.timetuple()[:6]
    return stamp if stamp >= _DOS_EPOCH else _DOS_EPOCH


def zip_chunks(bucket: Bucket, entries: Iterable[Member]) -> Iterator[bytes]:
    sink = _Sink()
    taken: set[str] = set()
    failures: list[str] = []
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for member in entries:
            is_folder = member.key.endswith("/")
            name = keys.zip_entry_name(member.name)
            if is_folder:
                if name:
                    archive.mkdir(keys.unique_name(name + "/", taken))
                    yield from sink.drain()
                continue
            try:
                chunks = s3.open_chunks(bucket.name, bucket.region, member.key)
            except AwsError as error:
                failures.append(f"{keys.plain_name(member.key)}: {error}")
                continue
            info = zipfile.ZipInfo(keys.unique_name(name or "unnamed", taken), date_time=_date_time(member.last_modified))
            stored = keys.suffix_of(member.key) in keys.COMPRESSED_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            # Zip64 needs deciding before the entry's first byte; unknown sizes get it to be safe.
            large = member.size is None or member.size >= zipfile.ZIP64_LIMIT
            try:
                with archive.open(info, mode="w", force_zip64=large) as out:
                    for chunk in chunks:
                        out.write(chunk)
                        yield from sink.drain()
            except AwsError as error:
                failures.append(f"{keys.plain_name(member.key)}: stopped part-way ({error}); its entry is incomplete")
            yield from sink.drain()
        if failures:
            text = "These objects are missing from this zip:\n" + "\n".join(failures) + "\n"
            archive.writestr(keys.unique_name(ERRORS_ENTRY, taken), text)
    yield from sink.drain()
