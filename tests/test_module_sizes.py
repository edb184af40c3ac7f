"""The house rules on size and formatting: no product module over 500 lines (split it by
what it does), and the formatter formats all product code (no `# fmt: skip` outside tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_architecture import product_files

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 500


def product_modules(root: Path = ROOT) -> list[Path]:
    return product_files(root / "apps") + product_files(root / "console")


def too_long(paths: list[Path]) -> dict[str, int]:
    lengths = {str(path): len(path.read_text().splitlines()) for path in paths}
    return {name: lines for name, lines in lengths.items() if lines > LIMIT}


def skipping_the_formatter(paths: list[Path]) -> list[str]:
    return [f"{p.name}:{n}" for p in paths for n, line in enumerate(p.read_text().splitlines(), 1) if "fmt: skip" in line]


def test_no_product_module_is_over_500_lines() -> None:
    modules = product_modules()
    assert len(modules) > 100  # the walk sees the code
    assert too_long(modules) == {}


def test_the_formatter_formats_all_product_code() -> None:
    assert skipping_the_formatter(product_modules()) == []


@pytest.mark.parametrize("lines", [LIMIT + 1, 2 * LIMIT])
def test_a_long_module_and_a_formatter_skip_are_found(tmp_path: Path, lines: int) -> None:
    (tmp_path / "apps" / "storage").mkdir(parents=True)
    long = tmp_path / "apps" / "storage" / "long.py"
    long.write_text("x = 1\n" * lines + "y = [1,2]  # fmt: skip\n")
    (tmp_path / "apps" / "storage" / "tests").mkdir()
    (tmp_path / "apps" / "storage" / "tests" / "test_x.py").write_text("z = 1  # fmt: skip\n" * (LIMIT + 1))
    found = product_modules(tmp_path)
    assert [p.name for p in found] == ["long.py"]
    assert list(too_long(found).values()) == [lines + 1]
    assert skipping_the_formatter(found) == [f"long.py:{lines + 1}"]
