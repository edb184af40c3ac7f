"""Reading and writing a build's workspace from the worker, which runs with more
rights than the build: never through a symlink, never from a FIFO or a device."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_workspace_file(root: Path, path: Path, max_bytes: int) -> bytes | None:
    """The bytes of path if it is a plain file inside root, reached without symlinks; else None.

    Raises ValueError when the file is larger than max_bytes."""
    # Every folder on the way must be the folder itself, not a symlink (out of the root or not).
    try:
        expected = root.resolve() / path.parent.relative_to(root)
    except ValueError:
        return None
    if path.parent.resolve() != expected:
        return None
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > max_bytes:
            raise ValueError(f"{path.name} is {info.st_size} bytes; at most {max_bytes} are read")
        return handle.read(max_bytes + 1)[:max_bytes]


def read_small_file(folder: Path, name: str, max_bytes: int = 64) -> str:
    """A short marker file the build writes (its text, stripped; "" when unusable)."""
    with contextlib.suppress(ValueError):
        data = read_workspace_file(folder, folder / name, max_bytes)
        return data.decode("ascii", errors="replace").strip() if data else ""
    return ""


def write_workspace_file(path: Path, text: str) -> None:
    """Write a file the build will read, replacing whatever the repository left there
    (a symlink is removed, never followed)."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
