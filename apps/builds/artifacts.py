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

import logging
import mimetypes
import os
import posixpath
import re
import stat
from collections.abc import Iterator
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
def glob_regex(pattern: str) -> re.Pattern[str]:
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


def normalized(pattern: str) -> str:
    """`./dist//x/` -> `dist/x`: the spelling the matcher compares against."""
    parts = [part for part in pattern.strip().split("/") if part not in ("", ".")]
    return "/".join(parts)


def matches(path: str, patterns: list[str]) -> bool:
    return any(glob_regex(pattern).fullmatch(path) for pattern in patterns)


def literal_prefix(pattern: str) -> str:
    """The leading segments without glob characters: where a match must live."""
    literal: list[str] = []
    for part in pattern.split("/"):
        if _GLOB_CHARS & set(part):
            break
        literal.append(part)
    return "/".join(literal)


# --- paths ---


def inside(root: Path, path: Path | str) -> bool:
    return os.path.commonpath([str(root), str(path)]) == str(root)


def walk(root: Path, top: Path) -> Iterator[tuple[str, os.stat_result]]:
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
    return target if inside(root, target) and target.is_file() else None


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
    if not inside(root, base):
        raise ArtifactError(f"baseDirectory {shown!r} is outside the project (a symlink leads out of it)")
    if not base.exists():
        raise ArtifactError(f"baseDirectory {shown!r} does not exist: did the build write it?")
    if not base.is_dir():
        raise ArtifactError(f"baseDirectory {shown!r} is not a directory")
    return base, shown


def _artifact_patterns(files: list[str]) -> list[str]:
    patterns = []
    for pattern in files:
        normal = normalized(pattern)
        if pattern.strip().startswith("/") or ".." in normal.split("/"):
            raise ArtifactError(f"frontend.artifacts.files pattern {pattern!r} must be relative to baseDirectory, without '..'")
        if normal:
            patterns.append(normal)
    return patterns


def _artifact_candidates(base: Path) -> Iterator[tuple[str, Path]]:
    """(path relative to base, real file) for regular files and for symlinks to files inside base."""
    for rel, info in walk(base, base):
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
        if matches(rel, patterns):
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
