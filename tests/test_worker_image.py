"""The worker image's Node.js installations are laid out as the console reads them.

Docker does not run here, so the image is not built: this test reads the Dockerfile, makes
in a temporary folder the files its COPY and `ln -s` lines would make (each node a stand-in
printing its stage's major), and lets the console's own reader (apps.builds.nodejs) find
them. A Dockerfile that moves a major, drops npm, or sets BUILD_NODE_DIR elsewhere than the
console's default fails here. That the layout works in a real build, with real majors, is
tests/test_node_versions_worker.py's part (the same layout, made from the npm registry's
Node.js binaries, in the build sandbox the worker uses).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from apps.builds.nodejs import installed_nodes

ROOT = Path(__file__).resolve().parents[1]
LTS_MAJORS = {20, 22}


def _dockerfile() -> str:
    # Continued lines joined: one instruction a line.
    return (ROOT / "Dockerfile").read_text().replace("\\\n", " ")


def _node_stages(text: str) -> dict[str, int]:
    return {name: int(major) for major, name in re.findall(r"^FROM node:(\d+)-[\w.-]+ AS (\w+)$", text, re.M)}


def _copies(text: str) -> list[tuple[str, str, str]]:
    return re.findall(r"^COPY --from=(\w+) (\S+) (\S+)$", text, re.M)


def _links(text: str) -> list[tuple[str, str]]:
    return re.findall(r"ln -s (\S+) (\S+)", text)


def _image_env(text: str) -> dict[str, str]:
    return dict(re.findall(r"^ENV (\w+)=(\S+)$", text, re.M))


def _materialize(text: str, root: Path) -> None:
    """What the image's COPY and ln -s lines make, under root."""
    stages = _node_stages(text)
    for stage, source, destination in _copies(text):
        if stage not in stages:
            continue
        target = root / destination.lstrip("/")
        if source == "/usr/local/bin/node":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"#!/bin/sh\necho v{stages[stage]}.99.0\n")
            os.chmod(target, 0o755)  # noqa: S103 - as in the image
        elif source == "/usr/local/lib/node_modules/npm":
            (target / "bin").mkdir(parents=True)
            for script in ("npm-cli.js", "npx-cli.js"):
                (target / "bin" / script).write_text("// npm\n")
    for pointed, link in _links(text):
        (root / link.lstrip("/")).symlink_to(pointed)


def test_the_image_sets_build_node_dir_to_the_console_s_default() -> None:
    env = _image_env(_dockerfile())
    code = "import console.settings as s; print(s.BUILD_NODE_DIR)"
    clean = {k: v for k, v in os.environ.items() if k != "BUILD_NODE_DIR"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    assert env["BUILD_NODE_DIR"] == result.stdout.strip() == "/opt/amplify-node"


def test_the_image_has_node_lts_majors_each_with_npm_where_the_console_finds_them(tmp_path: Path, settings: Any) -> None:
    text = _dockerfile()
    assert set(_node_stages(text).values()) == LTS_MAJORS
    _materialize(text, tmp_path)
    settings.BUILD_NODE_DIR = tmp_path / _image_env(text)["BUILD_NODE_DIR"].lstrip("/")
    found = {i.major: i for i in installed_nodes() if not i.system}
    # The system's node (on PATH) is the default major; BUILD_NODE_DIR has the others.
    system = tmp_path / "usr/local/bin"
    system_major = int(subprocess.run([system / "node"], capture_output=True, text=True, check=True).stdout[1:3])
    assert {system_major, *found} == LTS_MAJORS
    assert system_major not in found
    for folder in [system, *(i.bin_dir for i in found.values())]:
        for tool, script in (("npm", "npm-cli.js"), ("npx", "npx-cli.js")):
            resolved = (folder / tool).resolve(strict=True)
            assert resolved.name == script, folder / tool
            # Each major's own npm, beside its node (lib/node_modules/npm).
            assert resolved.parents[1] == folder.parent / "lib" / "node_modules" / "npm", resolved


def test_the_image_installs_no_other_node_beside_these() -> None:
    """Debian's nodejs and npm would be a second system node in the image, and its npm could run
    before the image's (/usr/bin and /usr/local/bin both on PATH)."""
    apt = next(line for line in _dockerfile().splitlines() if "apt-get install" in line)
    assert not re.search(r"\b(nodejs|npm)\b", apt), apt
