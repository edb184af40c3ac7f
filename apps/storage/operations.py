"""Deletes, copies and moves of a selection (files and whole folders), for the request
and for the worker alike.

Folders are walked a listing page at a time and worked on in batches of 1,000, so a
folder of any size needs the memory of one batch. Every object that fails is counted
and the first ones are kept with their reason; a move deletes only what it copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings

from apps.storage import keys, s3
from apps.storage.buckets import Bucket
from console.aws_errors import AwsError, AwsNotFound

BATCH = s3.DELETE_BATCH
KEPT_FAILURES = 200


@dataclass(frozen=True)
class Selection:
    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()  # prefixes ending with "/"

    def __bool__(self) -> bool:
        return bool(self.files or self.folders)

    def as_json(self) -> dict[str, list[str]]:
        return {"files": list(self.files), "folders": list(self.folders)}


@dataclass
class Outcome:
    done: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # the first KEPT_FAILURES

    def fail(self, key: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < KEPT_FAILURES:
            self.failures.append((key, reason))

    def as_json(self) -> dict[str, object]:
        return {"failures": [list(f) for f in self.failures]}


Progress = Callable[[Outcome], None]


def _no_progress(_: Outcome) -> None:
    return None


def _batches(items: Iterable[str], size: int = BATCH) -> Iterator[list[str]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class SelectionInvalid(ValueError):
    pass


def check_selection(selection: Selection) -> None:
    for folder in selection.folders:
        if not folder.endswith("/"):
            raise SelectionInvalid("A folder is a name ending with /; the top of the bucket cannot be selected.")
    for key in selection.files:
        if not key or key.endswith("/"):
            raise SelectionInvalid("A file name is not empty and does not end with /.")


# Delete


def delete(bucket: Bucket, selection: Selection, progress: Progress = _no_progress) -> Outcome:
    """Delete the files and everything under the folders (their markers too)."""
    check_selection(selection)
    outcome = Outcome()

    def doomed() -> Iterator[str]:
        yield from selection.files
        for folder in selection.folders:
            yield from (o.key for o in s3.walk(bucket.name, bucket.region, folder))

    for batch in _batches(doomed()):
        _delete_batch(bucket, batch, outcome)
        progress(outcome)
    return outcome


def _delete_batch(bucket: Bucket, batch: list[str], outcome: Outcome) -> list[str]:
    """Delete one batch; the keys deleted."""
    try:
        failures = s3.delete_batch(bucket.name, bucket.region, batch)
    except AwsError as error:
        for key in batch:
            outcome.fail(key, str(error))
        return []
    for key, reason in failures:
        outcome.fail(key, reason)
    failed = {key for key, _ in failures}
    outcome.done += len(batch) - len(failed)
    return [key for key in batch if key not in failed]


# Copy and move


@dataclass(frozen=True)
class Transfer:
    source: str
    target: str
    size: int | None  # None: not known yet (a selected file)


class TransferInvalid(ValueError):
    pass


def check_transfer(selection: Selection, destination: str) -> None:
    check_selection(selection)
    if not keys.is_folder_prefix(destination):
        raise TransferInvalid("The destination is a folder: empty (the top of the bucket) or ending with /.")
    for folder in selection.folders:
        if destination.startswith(folder):
            raise TransferInvalid(f"{keys.plain_name(keys.base_name(folder))} cannot go into itself or one of its own folders.")
    for item in (*selection.folders, *selection.files):
        if keys.parent_of(item) == destination:
            raise TransferInvalid(f"{keys.plain_name(keys.base_name(item))} is in that folder already; pick another one.")


def collisions(bucket: Bucket, selection: Selection, destination: str) -> list[str]:
    """Names of the selection that the destination holds already (a copy or move would replace
    them, or merge into a folder of the same name)."""

    def taken(item: str) -> bool:
        if keys.is_folder_prefix(item):
            page = s3.list_page(bucket.name, bucket.region, prefix=destination + keys.base_name(item) + "/", max_keys=1)
            return bool(page.files or page.folders)
        return s3.head(bucket.name, bucket.region, destination + keys.base_name(item)) is not None

    items = [*selection.folders, *selection.files]
    with ThreadPoolExecutor(max_workers=settings.STORAGE_COPY_THREADS, thread_name_prefix="s3-head") as pool:
        found = list(pool.map(taken, items))
    return [keys.base_name(item) for item, hit in zip(items, found, strict=True) if hit]


def transfers(bucket: Bucket, selection: Selection, destination: str) -> Iterator[Transfer]:
    """What goes where: a file keeps its name in the destination, a folder keeps its
    name and everything under it."""
    for key in selection.files:
        yield Transfer(source=key, target=destination + keys.base_name(key), size=None)
    for folder in selection.folders:
        root = destination + keys.base_name(folder) + "/"
        for item in s3.walk(bucket.name, bucket.region, folder):
            yield Transfer(source=item.key, target=root + item.key[len(folder) :], size=item.size)


def copy(bucket: Bucket, selection: Selection, destination: str, progress: Progress = _no_progress, *, skip: int = 0) -> Outcome:
    """Copy; the first `skip` objects (in the order copies go: files, then each folder's
    objects by key) were copied by an earlier attempt and are left alone."""
    return _transfer(bucket, selection, destination, move=False, progress=progress, skip=skip)


def move(bucket: Bucket, selection: Selection, destination: str, progress: Progress = _no_progress) -> Outcome:
    """Copy, then delete each source that was copied; sources that failed to copy stay."""
    return _transfer(bucket, selection, destination, move=True, progress=progress)


def _copy_one(bucket: Bucket, transfer: Transfer) -> str:
    """Copy one object; "" when done, else the reason it was not."""
    if transfer.source == transfer.target:
        return "already in that folder"
    try:
        size = transfer.size
        if size is None:
            described = s3.head(bucket.name, bucket.region, transfer.source)
            if described is None:
                return "no longer exists"
            size = int(described.get("ContentLength", 0))
        s3.copy(bucket.name, bucket.region, transfer.source, transfer.target, size)
    except AwsNotFound:
        return "no longer exists"
    except AwsError as error:
        return str(error)
    return ""


def _transfer(
    bucket: Bucket, selection: Selection, destination: str, *, move: bool, progress: Progress, skip: int = 0
) -> Outcome:
    check_transfer(selection, destination)
    outcome = Outcome()
    iterator = islice(transfers(bucket, selection, destination), skip, None)
    with ThreadPoolExecutor(max_workers=settings.STORAGE_COPY_THREADS, thread_name_prefix="s3-copy") as pool:
        while batch := list(islice(iterator, BATCH)):
            copied = []
            for transfer, reason in zip(batch, pool.map(lambda t: _copy_one(bucket, t), batch), strict=True):
                if reason:
                    outcome.fail(transfer.source, reason)
                elif move:
                    copied.append(transfer.source)
                else:
                    outcome.done += 1
            if move and copied:
                deleted = _delete_batch_after_copy(bucket, copied, outcome)
                outcome.done += deleted
            progress(outcome)
    return outcome


def _delete_batch_after_copy(bucket: Bucket, sources: list[str], outcome: Outcome) -> int:
    """Delete the copied sources; a failure leaves the object in both places, and says so."""
    scratch = Outcome()
    deleted = _delete_batch(bucket, sources, scratch)
    for key, reason in scratch.failures:
        outcome.fail(key, f"copied, but the original was not deleted: {reason}")
    outcome.failed += scratch.failed - len(scratch.failures)  # those past the kept ones
    return len(deleted)
