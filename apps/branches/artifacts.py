"""Frontend artifacts and the build cache, on the filesystem only.

Everything here reads or writes a build's project directory, which holds code
the console did not write: a build may leave symlinks to anywhere, and a cache
archive comes back from storage the console does not fully control. So every
function keeps to the project directory: symlinks are never followed out of it,
and cache members that would land outside it are refused.

Glob patterns (frontend.artifacts.files, cache.paths) follow bash `globstar`
rules on POSIX paths: `*`, `?` and `[...]` stay inside one path segment, `**`
as a whole segment spans any number of them (including none, so `**/*.css`
matches `site.css` too). Dotfiles match like any other name, so `.well-known/`
ships with `**/*`.
"""

from __future__ import annotations

import gzip
import io
import logging
import mimetypes
import os
import posixpath
import re
import stat
import tarfile
import zlib
from collections.abc import Buffer, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
# A cache blob is size-limited when packed, but one read back from storage may
# be a decompression bomb: refuse to write more than this many bytes.
MAX_UNPACKED_BYTES = 4 * 1024 * MIB
# Beyond PATH_MAX, path resolution degrades to string handling, which is how
# archive filters have been tricked before; real caches never get near it.
MAX_MEMBER_PATH = 2048
_GLOB_CHARS = frozenset("*?[")


class ArtifactError(ValueError):
    """A build output problem worth showing to the person who wrote the build spec."""


@dataclass(frozen=True)
class ArtifactFile:
    path: str  # POSIX path as served: relative, no leading "/"
    source: Path  # absolute path of a regular file on disk
    size: int


# --- globs ---


def _segment_regex(segment: str) -> str:
    out, i = "", 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[" and (end := segment.find("]", i + 2)) != -1:
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = "".join("\\" + c if c in "\\[" else c for c in (body[1:] if negate else body))
            out += f"[^/{body}]" if negate else f"[{body}]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return out


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex that fully matches the relative POSIX paths the pattern names."""
    parts = pattern.split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += _segment_regex(part) + ("" if last else "/")
    return re.compile(regex, re.DOTALL)


def _normalized(pattern: str) -> str:
    """`./dist//x/` -> `dist/x`: the spelling the matcher compares against."""
    parts = [part for part in pattern.strip().split("/") if part not in ("", ".")]
    return "/".join(parts)


def _matches(path: str, patterns: list[str]) -> bool:
    return any(_glob_regex(pattern).fullmatch(path) for pattern in patterns)


def _literal_prefix(pattern: str) -> str:
    """The leading segments without glob characters: where a match must live."""
    literal: list[str] = []
    for part in pattern.split("/"):
        if _GLOB_CHARS & set(part):
            break
        literal.append(part)
    return "/".join(literal)


# --- paths ---


def _inside(root: Path, path: Path | str) -> bool:
    return os.path.commonpath([str(root), str(path)]) == str(root)


def _walk(root: Path, top: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(path relative to root, lstat) of everything under top, never entering symlinked directories."""
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in (*dirnames, *filenames):
            full = os.path.join(dirpath, name)
            yield PurePosixPath(os.path.relpath(full, root)).as_posix(), os.lstat(full)


def _resolved_file_inside(root: Path, path: Path) -> Path | None:
    """The real file a symlink names, if it is a regular file inside root."""
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError:  # dangling, a loop, or a path too long to resolve
        return None
    return target if _inside(root, target) and target.is_file() else None


# --- frontend artifacts ---


def _base_directory(project_dir: Path, base_directory: str) -> tuple[Path, str]:
    """The real base directory and its name for messages; refuses any way out of the project."""
    shown = base_directory.strip() or "."
    if PurePosixPath(shown).is_absolute() or shown.startswith("~"):
        raise ArtifactError(f"baseDirectory {shown!r} is outside the project: it must be a path relative to the app root")
    normal = posixpath.normpath(shown)
    if normal == ".." or normal.startswith("../"):
        raise ArtifactError(f"baseDirectory {shown!r} is outside the project")
    root = project_dir.resolve()
    base = (root / normal).resolve()
    if not _inside(root, base):
        raise ArtifactError(f"baseDirectory {shown!r} is outside the project (a symlink leads out of it)")
    if not base.exists():
        raise ArtifactError(f"baseDirectory {shown!r} does not exist: did the build write it?")
    if not base.is_dir():
        raise ArtifactError(f"baseDirectory {shown!r} is not a directory")
    return base, shown


def _artifact_patterns(files: list[str]) -> list[str]:
    patterns = []
    for pattern in files:
        normal = _normalized(pattern)
        if pattern.strip().startswith("/") or ".." in normal.split("/"):
            raise ArtifactError(f"frontend.artifacts.files pattern {pattern!r} must be relative to baseDirectory, without '..'")
        if normal:
            patterns.append(normal)
    return patterns


def _artifact_candidates(base: Path) -> Iterator[tuple[str, Path]]:
    """(path relative to base, real file) for regular files and for symlinks to files inside base."""
    for rel, info in _walk(base, base):
        if stat.S_ISREG(info.st_mode):
            yield rel, base / rel
        elif stat.S_ISLNK(info.st_mode) and (target := _resolved_file_inside(base, base / rel)) is not None:
            yield rel, target


def collect_artifacts(project_dir: Path, base_directory: str, files: list[str], discard_paths: bool) -> list[ArtifactFile]:
    """The files to host, sorted by served path.

    With `discard_paths` every file is served by its name alone; when two files
    share a name, the one whose original path sorts last wins (as a zip that is
    extracted flat would end up).
    """
    base, shown = _base_directory(project_dir, base_directory)
    patterns = _artifact_patterns(files)
    found: dict[str, ArtifactFile] = {}
    for rel, source in sorted(_artifact_candidates(base)):
        if _matches(rel, patterns):
            path = rel.rsplit("/", 1)[-1] if discard_paths else rel
            found[path] = ArtifactFile(path=path, source=source, size=source.stat().st_size)
    if not found:
        raise ArtifactError(f"no files matched frontend.artifacts.files {files!r} in {shown!r}")
    return [found[path] for path in sorted(found)]


# --- content types ---

# Fixed answers for the web's own types: the system's mime.types differs from
# one machine to the next (and .js was text/plain or missing on some).
_CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
}
# Served as UTF-8 text: browsers otherwise guess, and guess wrong for non-ASCII.
_UTF8_TYPES = ("application/json", "application/manifest+json", "text/javascript", "application/javascript")
OCTET_STREAM = "application/octet-stream"


def content_type_for(path: str) -> str:
    """The Content-Type to serve a hosted file with."""
    suffix = PurePosixPath(path).suffix.lower()
    kind = _CONTENT_TYPES.get(suffix)
    if kind is None:
        guessed, encoding = mimetypes.guess_type(PurePosixPath(path).name, strict=False)
        # `app.js.gz` is gzip bytes, not JavaScript: we serve no Content-Encoding.
        kind = guessed if guessed and not encoding else OCTET_STREAM
    if kind.startswith("text/") or kind in _UTF8_TYPES or kind.endswith("+json"):
        return f"{kind}; charset=utf-8"
    return kind


# --- build cache ---


def _cache_path_problem(root: Path, pattern: str) -> str | None:
    text = pattern.strip()
    if not text:
        return "it is empty"
    if text.startswith(("/", "~")):
        return "it is an absolute path; cache paths are relative to the app root"
    if ".." in text.split("/"):
        return "it contains '..'"
    prefix = _literal_prefix(_normalized(text))
    try:
        resolved = (root / prefix).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return "it cannot be resolved"
    return None if _inside(root, resolved) else "it resolves outside the project"


def safe_cache_paths(project_dir: Path, patterns: list[str]) -> tuple[list[str], list[str]]:
    """(accepted patterns, normalized and deduplicated; a warning naming each refused one)."""
    root = project_dir.resolve()
    accepted: list[str] = []
    warnings: list[str] = []
    for pattern in patterns:
        problem = _cache_path_problem(root, pattern)
        if problem is not None:
            warnings.append(f"cache path {pattern!r} refused: {problem}")
        elif (normal := _normalized(pattern) or "**") not in accepted:  # "." is the whole project
            accepted.append(normal)
    return accepted, warnings


def _candidates(root: Path, pattern: str) -> Iterator[tuple[str, os.stat_result]]:
    """What a pattern may match: everything under its literal prefix, or the prefix itself.

    A prefix reached through a symlinked directory yields nothing: its files
    would be refused on restore anyway (see _member_problem).
    """
    prefix = _literal_prefix(pattern)
    lexical = root / prefix
    try:
        if lexical.parent.resolve() != lexical.parent:
            return
        info = lexical.lstat()
    except (OSError, RuntimeError):  # missing, or a symlink loop on the way
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk(root, lexical)
    else:
        yield prefix, info


def _cacheable(root: Path, rel: str, info: os.stat_result) -> bool:
    if stat.S_ISREG(info.st_mode):
        return True
    if not stat.S_ISLNK(info.st_mode):
        return False  # directories come through their contents; devices and sockets never
    try:
        return _inside(root, os.path.realpath(root / rel, strict=True))
    except OSError:
        return False


def _matches_or_under(rel: str, pattern: str) -> bool:
    """A pattern naming a directory (`.next/cache`) caches everything below it."""
    parts = rel.split("/")
    return any(_matches("/".join(parts[:end]), [pattern]) for end in range(len(parts), 0, -1))


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
            inside = _inside(root, os.path.realpath(path, strict=True))
        except OSError:
            inside = False
        if not inside:
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
