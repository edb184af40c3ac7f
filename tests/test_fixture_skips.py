"""No test may pass under CI by skipping for a missing ../shared fixture: every test reaches
../shared through conftest.shared_fixture (and its helpers), which fails under CI=true and
skips elsewhere."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import conftest
from conftest import fixture_missing, shared_fixture, shared_fixture_files

ROOT = Path(__file__).resolve().parents[1]
# What a skip for missing input says; a skip for another reason (no bubblewrap, SQLite) is fine.
_FIXTURE_WORDS = ("shared", "fixture", "absent", "not available", "is not next to")
# A string naming a place under ../shared ("../shared/fixtures", "shared/fixtures/x").
_SHARED_PLACE = re.compile(r"(^|/)\.\./shared(/|$)|(^|/)shared/fixtures(/|$)")
# Where a path to ../shared may be built: the helper, and this file's own made-up layouts.
_MAY_NAME_SHARED = {Path("conftest.py"), Path("tests/test_fixture_skips.py")}


def _test_sources() -> list[Path]:
    skip = {".venv", "node_modules", ".git", "var"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skip.intersection(path.relative_to(ROOT).parts)
        and ("tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py")
    ]


def _where(path: Path, node: ast.AST) -> str:
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{where}:{getattr(node, 'lineno', '?')}: {ast.unparse(node)[:100]}"


def _skips_for_missing_input(path: Path) -> list[str]:
    """pytest.skip(...) / pytest.mark.skipif(...) calls whose reason or condition is about missing input."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        called = node.func
        is_skip = called.attr in ("skip", "skipif") and (
            (isinstance(called.value, ast.Name) and called.value.id == "pytest")
            or (isinstance(called.value, ast.Attribute) and called.value.attr == "mark")
        )
        if not is_skip:
            continue
        words = " ".join(ast.unparse(argument) for argument in [*node.args, *(k.value for k in node.keywords)]).lower()
        if any(word in words for word in _FIXTURE_WORDS):
            found.append(_where(path, node))
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, nodes) and node.body and isinstance(node.body[0], ast.Expr)
    }


def _names_shared(node: ast.AST, docstrings: set[int]) -> bool:
    """`... / "shared"`, .joinpath("shared"), Path("shared"), or a string (not a docstring)
    naming a place under ../shared."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return id(node) not in docstrings and bool(_SHARED_PLACE.search(node.value))
    parts: list[ast.expr] = []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        parts = [node.left, node.right]
    elif isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath")
        or (isinstance(node.func, ast.Name) and node.func.id in ("Path", "PurePath"))
    ):
        parts = node.args
    return any(isinstance(part, ast.Constant) and part.value == "shared" for part in parts)


def _own_paths_to_shared(path: Path) -> list[str]:
    """Paths to ../shared a module builds by hand. Such a test checks for itself whether its
    fixture is there, and may skip or return where CI must fail."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    return [_where(path, node) for node in ast.walk(tree) if _names_shared(node, docstrings)]


def test_no_test_skips_for_missing_input_but_through_the_helper() -> None:
    sources = _test_sources()
    assert len(sources) > 50  # the scan really saw the test suite
    offenders = [line for path in sources for line in _skips_for_missing_input(path)]
    # The helper itself is the one place allowed to skip.
    offenders = [line for line in offenders if not line.startswith("conftest.py:")]
    assert offenders == []


def test_no_test_finds_shared_by_itself() -> None:
    sources = [path for path in _test_sources() if path.relative_to(ROOT) not in _MAY_NAME_SHARED]
    offenders = [line for path in sources for line in _own_paths_to_shared(path)]
    assert offenders == [], "reach ../shared through conftest.shared_fixture / shared_fixture_files"


def test_the_scans_catch_a_skip_or_a_path_of_its_own(tmp_path: Path) -> None:
    sneaky = tmp_path / "test_sneaky.py"
    sneaky.write_text(
        '"""Reads ../shared/fixtures (a docstring may say so)."""\n'
        "import pytest\nfrom pathlib import Path\n\n"
        'HOOKS = Path(__file__).parents[2] / "shared" / "fixtures" / "github-webhooks"\n'
        'SCHEMAS = Path("../shared/fixtures/amplify-outputs-schema")\n'
        'INTROSPECTION = Path(__file__).parents[2].joinpath("shared", "fixtures")\n\n'
        "@pytest.mark.skipif(not HOOKS.is_dir(), reason='fixtures not available')\n"
        "def test_x():\n"
        '    pytest.skip("../shared fixtures are absent")\n'
    )
    assert len(_skips_for_missing_input(sneaky)) == 2
    assert sorted(line.split(":")[1] for line in _own_paths_to_shared(sneaky)) == ["5", "6", "7"]
    innocent = tmp_path / "test_innocent.py"
    innocent.write_text('SCOPE = ("shared", "d1a2")\nPATH = "/amplify/shared/d1a2/API_KEY"\n')
    assert _own_paths_to_shared(innocent) == []


def _outcome(call: Callable[[], object]) -> BaseException:
    """What the call raised. Caught here, not by pytest.raises: a Skipped where a Failed is
    expected would otherwise skip this test instead of failing it."""
    try:
        call()
    except BaseException as raised:  # pytest's Failed and Skipped are BaseExceptions
        return raised
    raise AssertionError(f"{call} neither failed nor skipped")


def test_under_ci_a_missing_fixture_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "SHARED_FIXTURES_DIR", tmp_path / "no-fixtures-here")
    monkeypatch.setenv("CI", "true")
    outcome = _outcome(lambda: shared_fixture("github-webhooks", "push.payload.json"))
    assert isinstance(outcome, pytest.fail.Exception), repr(outcome)
    assert str(outcome) == (
        f"{tmp_path}/no-fixtures-here/github-webhooks/push.payload.json is absent (../shared/fixtures next to the"
        " repository, or SHARED_FIXTURES_DIR) (under CI every ../shared fixture must be present)"
    )
    assert isinstance(_outcome(lambda: fixture_missing("push.payload.json is not available")), pytest.fail.Exception)
    # A folder to parametrize over gives one case, which fails, not an empty set, which skips.
    (missing,) = shared_fixture_files("model-introspection")
    assert isinstance(_outcome(lambda: shared_fixture("model-introspection", missing.name)), pytest.fail.Exception)


def test_elsewhere_a_missing_fixture_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "SHARED_FIXTURES_DIR", tmp_path / "no-fixtures-here")
    monkeypatch.delenv("CI", raising=False)
    outcome = _outcome(lambda: shared_fixture("github-webhooks"))
    assert isinstance(outcome, pytest.skip.Exception), repr(outcome)
    assert "github-webhooks is absent" in str(outcome)
    (missing,) = shared_fixture_files("github-webhooks")
    assert isinstance(_outcome(lambda: shared_fixture("github-webhooks", missing.name)), pytest.skip.Exception)


def test_a_present_fixture_is_given_whatever_ci_says(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "github-webhooks").mkdir()
    for name in ("b.json", "a.json", "README.md"):
        (tmp_path / "github-webhooks" / name).write_text("{}")
    monkeypatch.setattr(conftest, "SHARED_FIXTURES_DIR", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert shared_fixture("github-webhooks") == tmp_path / "github-webhooks"
    assert shared_fixture_files("github-webhooks") == [tmp_path / "github-webhooks" / n for n in ("a.json", "b.json")]


# One test of each way a module reads ../shared: a file, a folder, a parametrized folder.
_FIXTURE_TESTS = (
    "apps/branches/tests/test_githooks.py::test_the_table_covers_every_fixture",
    "apps/branches/tests/test_githooks.py::test_github_fixture_parses_to_its_event[push.payload.json]",
    "apps/datamanager/tests/test_sdl.py::test_custom_primary_keys_and_invented_foreign_keys_match_the_generator",
    "apps/branches/tests/test_outputs.py::test_real_model_introspection_documents_validate",
)


@pytest.mark.parametrize(("ci", "outcome"), [("true", "failed"), (None, "skipped")], ids=["CI=true", "no CI"])
def test_the_fixture_tests_without_their_fixtures(tmp_path: Path, ci: str | None, outcome: str) -> None:
    """The real tests, run with SHARED_FIXTURES_DIR at a folder that does not exist."""
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTEST_ADDOPTS")}
    env["SHARED_FIXTURES_DIR"] = str(tmp_path / "no-fixtures-here")
    if ci:
        env["CI"] = ci
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_FIXTURE_TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    summary = ran.stdout.strip().splitlines()[-1] if ran.stdout.strip() else ran.stderr
    counts = dict((word, int(number)) for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary))
    assert set(counts) == {outcome}, ran.stdout[-3000:]
    assert counts[outcome] >= len(_FIXTURE_TESTS), ran.stdout[-3000:]
    if ci:
        assert "under CI every ../shared fixture must be present" in ran.stdout
        assert ran.returncode == 1
    else:
        assert ran.returncode == 0


def test_ci_requires_the_fixtures_wherever_they_can_be(tmp_path: Path) -> None:
    script = (ROOT / ".ci" / "run").read_text()
    start = script.index("if [ -d ../shared/fixtures ]")
    block = script[start : script.index("\nfi\n", start) + 4]
    beside = tmp_path / "beside"
    (beside / "shared" / "fixtures").mkdir(parents=True)
    (beside / "checkout").mkdir()
    alone = tmp_path / "alone" / "checkout"
    alone.mkdir(parents=True)
    # The block as .ci/run runs it: in a checkout with ../shared next to it, and in one without.
    for checkout, expected in ((beside / "checkout", "CI=true"), (alone, "CI=")):
        ran = subprocess.run(
            ["bash", "-c", f'{block}\necho "CI=${{CI:-}}"'], cwd=checkout, capture_output=True, text=True, env={"CI": "true"}
        )
        assert ran.stdout.splitlines()[-1] == expected
