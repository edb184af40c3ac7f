"""The README's configuration table lists every environment variable console/settings.py
reads, and no variable it does not read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# console/env.py's helpers (each takes the variable's name first) and os's own readers.
ENV_HELPERS = frozenset(
    {"env", "env_str", "env_required", "env_bool", "env_int", "env_float", "env_list", "env_url", "env_regions"}
)
# Read by make run (apps/demo, console/emulator.py), not settings.py: in the table on purpose.
READ_BY_MAKE_RUN = frozenset({"EMULATOR_PORT", "CONSOLE_ADMIN_PASSWORD"})


def _name_of(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    )


def settings_variables(source: str) -> set[str]:
    """Every literal variable name the source reads through a helper, os.environ or os.getenv."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            helper = isinstance(func, ast.Name) and func.id in ENV_HELPERS
            getenv = (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
            )
            environ_get = isinstance(func, ast.Attribute) and func.attr in ("get", "pop") and _is_os_environ(func.value)
            if (helper or getenv or environ_get) and (name := _name_of(node.args[0])):
                names.add(name)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and (name := _name_of(node.slice)):
            names.add(name)
        elif isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators) and (name := _name_of(node.left)):
            names.add(name)  # "NAME" in os.environ
    return names


def readme_variables(readme: str) -> set[str]:
    """The `NAME`s in the first column of the table under "Configuration (environment variables)"."""
    section = readme.split("## Configuration (environment variables)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # past the header and its rule
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}


def test_the_readme_table_lists_every_variable_settings_reads() -> None:
    read = settings_variables((ROOT / "console" / "settings.py").read_text())
    listed = readme_variables((ROOT / "README.md").read_text())
    assert len(read) > 40  # the walk finds the settings
    missing, extra = sorted(read - listed), sorted(listed - read - READ_BY_MAKE_RUN)
    assert (missing, extra) == ([], []), f"missing from the README table: {missing}; listed but not read: {extra}"


def test_the_walk_finds_each_way_of_reading() -> None:
    source = (
        "import os\n"
        "A = env_int('ONE', 1)\nB = env_bool('TWO', False)\nC = os.environ.get('THREE')\n"
        "D = os.environ['FOUR']\nE = os.getenv('FIVE', '')\nF = 'SIX' in os.environ\nG = env_list('SEVEN', [])\n"
        "H = other('NOT_A_SETTING')\n"
    )
    assert settings_variables(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN"}


def test_the_table_reader_takes_several_names_from_a_row() -> None:
    readme = (
        "# x\n## Configuration (environment variables)\n\n| variable | default | meaning |\n|---|---|---|\n"
        "| `A_ONE`, `A_TWO` | 1, `B_NOT` | see `C_NOT` |\n| `D` / `E` | x | y |\n\n## Next\n| `F` | | |\n"
    )
    assert readme_variables(readme) == {"A_ONE", "A_TWO", "D", "E"}
