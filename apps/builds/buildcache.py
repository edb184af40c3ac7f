"""The build cache (cache.paths), on the filesystem only: packed from a build's project
directory into one bounded tar.gz, unpacked into the next build's. The archive comes back
from storage the console does not fully control, so members that would land outside the
project (absolute paths, `..`, links out of it) are refused, and so is an archive that
unpacks larger than MAX_UNPACKED_BYTES. Patterns follow artifacts.py's glob rules. Each
branch keeps its last cache in one BuildCache row."""

from __future__ import annotations

import gzip
import io
import logging
import os
import stat
import tarfile
import zlib
from collections.abc import Buffer, Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from apps.branches.models import Branch
from apps.builds.artifacts import (
    MAX_MEMBER_PATH,
    MAX_UNPACKED_BYTES,
    MIB,
    ArtifactError,
    inside,
    literal_prefix,
    matches,
    normalized,
    walk,
)
from apps.builds.models import BuildCache
from apps.hosting import services as hosting
from console.aws_errors import AwsError

logger = logging.getLogger(__name__)


def _cache_path_problem(root: Path, pattern: str) -> str | None:
    text = pattern.strip()
    if not text:
        return "it is empty"
    if text.startswith(("/", "~")):
        return "it is an absolute path; cache paths are relative to the app root"
    if ".." in text.split("/"):
        return "it contains '..'"
    prefix = literal_prefix(normalized(text))
    try:
        resolved = (root / prefix).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return "it cannot be resolved"
    return None if inside(root, resolved) else "it resolves outside the project"


def safe_cache_paths(project_dir: Path, patterns: list[str]) -> tuple[list[str], list[str]]:
    """(accepted patterns, normalized and deduplicated; a warning naming each refused one)."""
    root = project_dir.resolve()
    accepted: list[str] = []
    warnings: list[str] = []
    for pattern in patterns:
        problem = _cache_path_problem(root, pattern)
        if problem is not None:
            warnings.append(f"cache path {pattern!r} refused: {problem}")
        elif (normal := normalized(pattern) or "**") not in accepted:  # "." is the whole project
            accepted.append(normal)
    return accepted, warnings


def _candidates(root: Path, pattern: str) -> Iterator[tuple[str, os.stat_result]]:
    """What a pattern may match: everything under its literal prefix, or the prefix itself.

    A prefix reached through a symlinked directory yields nothing: its files
    would be refused on restore anyway (see _member_problem).
    """
    prefix = literal_prefix(pattern)
    lexical = root / prefix
    try:
        if lexical.parent.resolve() != lexical.parent:
            return
        info = lexical.lstat()
    except (OSError, RuntimeError):  # missing, or a symlink loop on the way
        return
    if stat.S_ISDIR(info.st_mode):
        yield from walk(root, lexical)
    else:
        yield prefix, info


def _cacheable(root: Path, rel: str, info: os.stat_result) -> bool:
    if stat.S_ISREG(info.st_mode):
        return True
    if not stat.S_ISLNK(info.st_mode):
        return False  # directories come through their contents; devices and sockets never
    try:
        return inside(root, os.path.realpath(root / rel, strict=True))
    except OSError:
        return False


def _matches_or_under(rel: str, pattern: str) -> bool:
    """A pattern naming a directory (`.next/cache`) caches everything below it."""
    parts = rel.split("/")
    return any(matches("/".join(parts[:end]), [pattern]) for end in range(len(parts), 0, -1))


def _cache_entries(root: Path, patterns: list[str]) -> list[str]:
    entries = {
        rel
        for pattern in patterns
        for rel, info in _candidates(root, pattern)
        if _matches_or_under(rel, pattern) and _cacheable(root, rel, info)
    }
    return sorted(entries)


class _TooLarge(Exception):
    pass


class _BoundedBuffer(io.BytesIO):
    """Refuses to grow past `limit`, so an oversized cache stops compressing early."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.overflowed = False

    def write(self, data: Buffer, /) -> int:
        size = memoryview(data).nbytes
        if self.overflowed:
            return size  # the archive is being abandoned; swallow its last writes
        if self.tell() + size > self.limit:
            self.overflowed = True
            raise _TooLarge
        return super().write(data)


def _tar_member(root: Path, rel: str) -> tuple[tarfile.TarInfo, io.BufferedReader | None]:
    """A member built by hand: regular file or symlink, never a hard link, no owner names."""
    path = root / rel
    info = path.lstat()
    member = tarfile.TarInfo(rel)
    member.mtime = int(info.st_mtime)
    member.mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        member.type = tarfile.SYMTYPE
        member.linkname = os.readlink(path)
        return member, None
    member.size = info.st_size
    return member, path.open("rb")


def _tar_gz(root: Path, entries: list[str], max_bytes: int) -> bytes:
    sink = _BoundedBuffer(max_bytes)
    with tarfile.open(fileobj=sink, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
        for rel in entries:
            member, content = _tar_member(root, rel)
            if content is None:
                tar.addfile(member)
            else:
                with content:
                    tar.addfile(member, content)
    return sink.getvalue()


def _size_text(size: int) -> str:
    return f"{size // MIB} MB" if size >= MIB else f"{size} bytes"


def pack_cache(project_dir: Path, patterns: list[str], max_bytes: int) -> tuple[bytes | None, list[str]]:
    """A tar.gz of what the cache paths match (paths relative to the project), and warnings.

    None when nothing matched or the archive would exceed `max_bytes`.
    Symlinks are stored as symlinks, and only when they resolve inside the project.
    """
    root = project_dir.resolve()
    accepted, warnings = safe_cache_paths(root, patterns)
    entries = _cache_entries(root, accepted)
    if not entries:
        return None, warnings
    try:
        return _tar_gz(root, entries, max_bytes), warnings
    except _TooLarge:
        return None, [*warnings, f"cache larger than {_size_text(max_bytes)}, not saved"]
    except OSError as error:  # a file vanished or is unreadable: skip the cache, not the build
        return None, [*warnings, f"cache not saved: {error}"]


def _member_problem(root: Path, member: tarfile.TarInfo) -> str | None:
    """Why a cache member must not be extracted, or None.

    Checked here, before tarfile's own "data" filter, because that filter
    strips a leading "/" instead of refusing, and because Python 3.12 releases
    before 3.12.11 have known ways around it.
    """
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith("/") or PurePosixPath(name).is_absolute():
        return "absolute path"
    if ".." in parts or not parts:
        return "path with '..'" if parts else "empty name"
    if len(name) > MAX_MEMBER_PATH or len(member.linkname) > MAX_MEMBER_PATH:
        return "path too long"
    if member.islnk():
        return "hard link"  # pack_cache never writes them
    if not (member.isreg() or member.isdir() or member.issym()):
        return "device, fifo or other special file"
    if member.issym() and member.linkname.startswith("/"):
        return "symlink to an absolute path"
    for end in range(1, len(parts)):
        if root.joinpath(*parts[:end]).is_symlink():
            return "path through a symlink"
    if member.isdir() and root.joinpath(*parts).is_symlink():
        return "directory over a symlink"
    return None


def _extract(tar: tarfile.TarFile, root: Path, member: tarfile.TarInfo) -> bool:
    problem = _member_problem(root, member)
    if problem is not None:
        logger.warning("Build cache member %r refused: %s", member.name, problem)
        return False
    target = root / member.name
    if not member.isdir() and (target.is_symlink() or target.is_file()):
        # Replace rather than write into: a symlink (or a hard link) there would
        # carry the write to wherever it points.
        target.unlink()
    try:
        tar.extract(member, root, filter="data")
    except (tarfile.TarError, OSError) as error:
        logger.warning("Build cache member %r not restored: %s", member.name, error)
        return False
    return True


def _drop_escaping_links(root: Path, names: list[str]) -> int:
    """Remove restored symlinks that do not, now that everything is written, resolve inside root.

    Members are checked one by one, so a link checked early could be made to
    point elsewhere by a link written later (or dangle until the build fills
    its target in): the final state is what counts.
    """
    removed = 0
    for name in names:
        path = root / name
        if not path.is_symlink():
            continue
        try:
            contained = inside(root, os.path.realpath(path, strict=True))
        except OSError:
            contained = False
        if not contained:
            logger.warning("Build cache symlink %r removed: it does not resolve inside the project", name)
            path.unlink()
            removed += 1
    return removed


def _check_unpacked_size(members: list[tarfile.TarInfo]) -> None:
    total = sum(member.size for member in members if member.isreg())
    if total > MAX_UNPACKED_BYTES:
        raise ArtifactError(f"the build cache would unpack to {_size_text(total)}; the limit is {_size_text(MAX_UNPACKED_BYTES)}")


def unpack_cache(project_dir: Path, blob: bytes) -> int:
    """Restore a pack_cache archive into project_dir; the number of files and symlinks restored.

    Members that would write outside project_dir are skipped (and logged):
    absolute paths, "..", paths through symlinks, links out of the project,
    hard links, devices. Raises ArtifactError for an unreadable archive or one
    that would unpack to more than MAX_UNPACKED_BYTES.
    """
    root = project_dir.resolve()
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            members = tar.getmembers()
            _check_unpacked_size(members)
            restored = [member for member in members if _extract(tar, root, member)]
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise ArtifactError(f"the build cache is not a readable tar.gz archive: {error}") from None
    removed = _drop_escaping_links(root, [member.name for member in restored if member.issym()])
    return sum(1 for member in restored if not member.isdir()) - removed


def _saved_blob(saved: BuildCache) -> bytes | None:
    if not saved.in_bucket:
        return bytes(saved.blob)
    try:
        return hosting.get_blob(hosting.cache_key(saved.branch_id))
    except AwsError as error:
        raise ArtifactError(f"it could not be read from the hosting bucket: {error}") from None


def restore_cache(branch: Branch, project_dir: Path, say: Callable[[str], None]) -> None:
    """Unpack the branch's saved cache into the project, if it has one; a bad one is skipped."""
    saved = BuildCache.objects.filter(branch=branch).first()
    if saved is None:
        return
    try:
        blob = _saved_blob(saved)
        if blob is None:
            say("## Warning: the build cache is missing from the hosting bucket; building without it")
            return
        count = unpack_cache(project_dir, blob)
    except ArtifactError as error:
        say(f"## Warning: the build cache could not be restored ({error}); building without it")
        return
    say(f"## Restored the build cache: {count} files")


def save_cache(branch: Branch, section: dict[str, Any], project_dir: Path, say: Callable[[str], None]) -> None:
    """Pack what the spec's cache.paths name (backend and frontend) as the branch's cache, in the hosting bucket."""
    patterns = [p for part in ("backend", "frontend") for p in (section.get(part, {}).get("cache", {}) or {}).get("paths", [])]
    if not patterns:
        return
    blob, warnings = pack_cache(project_dir, patterns, settings.BUILD_CACHE_MAX_BYTES)
    for warning in warnings:
        say(f"## Warning: {warning}")
    if blob is None:
        return
    try:
        hosting.ensure_bucket()
        hosting.put_blob(hosting.cache_key(branch.pk), blob)
    except AwsError as error:
        say(f"## Warning: the build cache could not be saved ({error}); the next build starts without it")
        return
    BuildCache.objects.update_or_create(branch=branch, defaults={"blob": b"", "in_bucket": True, "size": len(blob)})
    say(f"## Saved the build cache ({len(blob) // 1024} KiB)")
