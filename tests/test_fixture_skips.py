"""No test may pass under CI by skipping for a missing ../shared fixture: every such test
goes through conftest.fixture_missing, which fails under CI=true and skips elsewhere."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

import conftest
from conftest import fixture_missing, shared_fixture

ROOT = Path(__file__).resolve().parents[1]
# What a skip for missing input says; a skip for another reason (no bubblewrap, SQLite) is fine.
_FIXTURE_WORDS = ("shared", "fixture", "absent", "not available", "is not next to")


def _test_sources() -> list[Path]:
    skip = {".venv", "node_modules", ".git"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skip.intersection(path.relative_to(ROOT).parts)
        and ("tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py")
    ]


def _skips_for_missing_input(path: Path) -> list[str]:
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
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:100]}")
    return found


def test_no_test_skips_for_missing_input_but_through_fixture_missing() -> None:
    sources = _test_sources()
    assert len(sources) > 50  # the scan really saw the test suite
    offenders = [line for path in sources for line in _skips_for_missing_input(path)]
    # The helper itself is the one place allowed to skip.
    offenders = [line for line in offenders if not line.startswith("conftest.py:")]
    assert offenders == []


def test_the_scan_catches_a_skip_for_a_missing_fixture(tmp_path: Path) -> None:
    sneaky = tmp_path / "test_sneaky.py"
    sneaky.write_text('import pytest\n\ndef test_x():\n    pytest.skip("../shared fixtures are absent")\n')
    assert len(_skips_for_missing_input(sneaky)) == 1


def test_under_ci_a_missing_fixture_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "SHARED_DIR", tmp_path / "no-shared-here")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=re.escape("under CI every ../shared fixture must be present")):
        shared_fixture("fixtures", "github-webhooks")
    with pytest.raises(pytest.fail.Exception):
        fixture_missing("GitHub webhook fixture push.payload.json is not available")


def test_elsewhere_a_missing_fixture_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "SHARED_DIR", tmp_path / "no-shared-here")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="is absent"):
        shared_fixture("fixtures")


def test_a_present_fixture_is_given_whatever_ci_says(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    monkeypatch.setattr(conftest, "SHARED_DIR", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert shared_fixture("fixtures") == tmp_path / "fixtures"


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
