"""Reading what a demo seeder committed to its bare repository."""

from __future__ import annotations

import subprocess
from pathlib import Path


def files_on_main(bare: Path) -> set[str]:
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "main"], cwd=bare, capture_output=True, text=True, check=True
    ).stdout
    return set(listed.splitlines())


def head_of_main(bare: Path) -> str:
    return subprocess.run(["git", "rev-parse", "main"], cwd=bare, capture_output=True, text=True, check=True).stdout
