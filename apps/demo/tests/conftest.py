"""What the demo seeders' tests share: reading the seeded repositories, and Node.js present
or absent as the seeders see it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from apps.demo import nextjs_demo


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """node and npm on PATH; append to set what `node --version` prints."""
    printed = ["v20.11.1"]
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}" if name in ("node", "npm") else None)
    monkeypatch.setattr(nextjs_demo, "_node_version", lambda: printed[-1])
    return printed


@pytest.fixture
def no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR
