"""Who may import whom. console/ (the foundation) imports no feature app; a feature app
imports another only through its public modules (models, selectors, services). The
apps depend on each other in one direction only (no cycle), and the core (`branches`)
on no feature app. A violation fails here, naming the module and what it imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = frozenset({"models", "selectors", "services"})


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


def product_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if not {"tests", "migrations"} & set(p.relative_to(folder).parts)]


def crossings(root: Path = ROOT) -> set[tuple[str, str]]:
    """(importing app, imported module) for every import of another app's non-public module."""
    found = set()
    for path in product_files(root / "apps"):
        app = path.relative_to(root).parts[1]
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "apps" and len(parts) >= 3 and parts[1] != app and parts[2] not in PUBLIC:
                found.add((app, ".".join(parts[:3])))
    return found


def app_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """app -> the other apps its product modules import."""
    graph: dict[str, set[str]] = {}
    for path in product_files(root / "apps"):
        app = path.relative_to(root).parts[1]
        imported = {name.split(".")[1] for name in _imports(path) if name.startswith("apps.") and name.count(".") >= 1}
        graph.setdefault(app, set()).update(imported - {app})
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path (first == last), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for other in sorted(graph.get(node, ())):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_apps_depend_in_one_direction() -> None:
    assert cycle_in(app_graph()) == []


def test_the_core_depends_on_no_feature_app() -> None:
    assert app_graph()["branches"] == set()


def test_a_planted_cycle_is_found(tmp_path: Path) -> None:
    for app, source in {
        "builds": "from apps.branches.models import Branch\n",
        "branches": "from apps.builds.models import Job\n",
    }.items():
        (tmp_path / "apps" / app).mkdir(parents=True)
        (tmp_path / "apps" / app / "models.py").write_text(source)
    assert cycle_in(app_graph(tmp_path)) == ["branches", "builds", "branches"]
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_foundation_imports_no_feature_app() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in product_files(ROOT / "console")
        for name in _imports(path)
        if name.startswith("apps.")
    ]
    assert offenders == []


def test_apps_meet_only_through_public_modules() -> None:
    found = crossings()
    assert found == set(), "import the other app's selectors or services instead"


@pytest.mark.parametrize(
    ("source", "crossing"),
    [
        ("from apps.builds.runner import run_job\n", ("storage", "apps.builds.runner")),
        ("from apps.gitops import gitsync\n", ("storage", "apps.gitops.gitsync")),
        ("import apps.secrets.ssm\n", ("storage", "apps.secrets.ssm")),
    ],
)
def test_a_planted_crossing_is_found(tmp_path: Path, source: str, crossing: tuple[str, str]) -> None:
    (tmp_path / "apps" / "storage").mkdir(parents=True)
    (tmp_path / "apps" / "storage" / "planted.py").write_text(source)
    (tmp_path / "apps" / "storage" / "fine.py").write_text("from apps.branches.selectors import app_get\n")
    assert crossings(tmp_path) == {crossing}


def _queued_names(path: Path) -> list[str]:
    """Task names a module passes to console.queue.send / send_on_commit as literals."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"send", "send_on_commit"} and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
            elif isinstance(first, ast.JoinedStr):  # f"apps.x.tasks.{...}": its fixed part
                found.append(str(getattr(first.values[0], "value", "")))
    return found


def test_services_name_the_tasks_they_queue_instead_of_importing_them() -> None:
    """Only tasks modules (and management commands, which run task code in-process) import a
    tasks module: services, views and the rest queue by name through console.queue."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in product_files(ROOT / "apps")
        if path.name != "tasks.py" and "commands" not in path.parts
        for name in _imports(path)
        if name.startswith("apps.") and ".tasks" in name
    ]
    assert offenders == []


def test_every_queued_name_is_a_task(db: None) -> None:
    from console.queue import task_named

    names = [name for path in product_files(ROOT / "apps") for name in _queued_names(path)]
    assert len(names) >= 10, names  # the scan sees the call sites
    for name in names:
        if name.endswith("."):  # an f-string's fixed part: some task of that module
            assert name.startswith("apps."), name
            assert name.endswith(".tasks."), name
        else:
            assert task_named(name).name == name


def test_insights_reads_the_core_builds_and_sandboxes_and_nothing_imports_it() -> None:
    """Insights only reads (through selectors and models); no app may depend on its charts."""
    graph = app_graph()
    assert graph["insights"] == {"branches", "builds", "sandboxes"}
    assert sorted(app for app, imported in graph.items() if "insights" in imported) == []
