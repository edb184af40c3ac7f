"""Who may import whom. console/ (the foundation) imports no feature app; a feature app
imports another only through its public modules (models, selectors, services). The
crossings that predate the rule are listed in KNOWN and may only go away: a new one
fails here, naming the module and what it imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = frozenset({"models", "selectors", "services"})
# An app's modules other apps still reach into, to be made public or moved (the split of
# `branches` into builds and git apps removes most of them). Shrink only.
KNOWN = frozenset(
    {
        ("amplify_api", "apps.branches.git"),
        ("amplify_api", "apps.branches.joblog"),
        ("amplify_api", "apps.branches.jobs"),
        ("amplify_api", "apps.branches.patterns"),
        ("amplify_api", "apps.branches.servicerole"),
        ("amplify_api", "apps.branches.webhooks"),
        ("datamanager", "apps.branches.fields"),
        ("datamanager", "apps.branches.outputs"),
        ("demo", "apps.branches.gitsync"),
        ("demo", "apps.branches.isolation"),
        ("demo", "apps.branches.jobs"),
        ("demo", "apps.datamanager.dynamo"),
        ("demo", "apps.datamanager.schema"),
        ("demo", "apps.datamanager.sources"),
        ("demo", "apps.sandboxes.inventory"),
        ("demo", "apps.secrets.scopes"),
        ("demo", "apps.secrets.ssm"),
        ("demo", "apps.storage.buckets"),
        ("demo", "apps.storage.demo"),
        ("demo", "apps.users.demo"),
    }
)


def _imports(path: Path) -> list[str]:
    """Every module a file imports (`from apps.x import y` counts as apps.x.y when y is a module)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            names += [f"{node.module}.{a.name}" for a in node.names] if len(parts) == 2 else [node.module]
    return names


def _product_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if not {"tests", "migrations"} & set(p.relative_to(folder).parts)]


def crossings(root: Path = ROOT) -> set[tuple[str, str]]:
    """(importing app, imported module) for every import of another app's non-public module."""
    found = set()
    for path in _product_files(root / "apps"):
        app = path.relative_to(root).parts[1]
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "apps" and len(parts) >= 3 and parts[1] != app and parts[2] not in PUBLIC:
                found.add((app, ".".join(parts[:3])))
    return found


def test_the_foundation_imports_no_feature_app() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _product_files(ROOT / "console")
        for name in _imports(path)
        if name.startswith("apps.")
    ]
    assert offenders == []


def test_apps_meet_only_through_public_modules() -> None:
    found = crossings()
    assert found - KNOWN == set(), "import the other app's selectors or services instead"
    assert KNOWN - found == set(), "a listed crossing is gone: remove it from KNOWN"


@pytest.mark.parametrize(
    ("source", "crossing"),
    [
        ("from apps.branches.runner import run_job\n", ("storage", "apps.branches.runner")),
        ("from apps.branches import gitsync\n", ("storage", "apps.branches.gitsync")),
        ("import apps.secrets.ssm\n", ("storage", "apps.secrets.ssm")),
    ],
)
def test_a_planted_crossing_is_found(tmp_path: Path, source: str, crossing: tuple[str, str]) -> None:
    (tmp_path / "apps" / "storage").mkdir(parents=True)
    (tmp_path / "apps" / "storage" / "planted.py").write_text(source)
    (tmp_path / "apps" / "storage" / "fine.py").write_text("from apps.branches.selectors import app_get\n")
    assert crossings(tmp_path) == {crossing}
