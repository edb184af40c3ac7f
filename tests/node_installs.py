"""Node.js majors for tests of a build's Node.js choice, laid out as BUILD_NODE_DIR expects.

The binary is the official one, from the npm registry's `node-linux-<arch>` package (`npm
pack`; nodejs.org need not be reachable), unpacked once per version into
~/.cache/amplify-console-tests/node (or CONSOLE_TEST_CACHE). It has no npm: the layout gives
each major `bin/npm` and `bin/npx` links to the system's npm, whose `#!/usr/bin/env node`
runs it with the node first on PATH, the chosen one (the worker image gives each major its
own npm instead; tests/test_worker_image.py checks that layout).

When the registry cannot be reached the tests that need a major skip, except under CI or
with CONSOLE_REQUIRE_NODE=1, where they fail. `make test-node` (or `python -m
tests.node_installs`) fills the cache beforehand.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

CACHE_ROOT = Path(os.environ.get("CONSOLE_TEST_CACHE") or Path.home() / ".cache" / "amplify-console-tests")
# Pinned, so the cache key is the version and every run tests the same binary.
NODE_TEST_VERSIONS = {22: "22.23.5"}
_ARCHES = {"x86_64": "x64", "aarch64": "arm64", "arm64": "arm64"}


class RegistryUnreachable(Exception):
    pass


def cached_node(major: int) -> Path:
    """The `node` binary of NODE_TEST_VERSIONS[major] in the cache, fetched on first use."""
    version = NODE_TEST_VERSIONS[major]
    arch = _ARCHES.get(platform.machine())
    if arch is None:
        raise RegistryUnreachable(f"no node-linux package for this machine ({platform.machine()})")
    package = f"node-linux-{arch}"
    target = CACHE_ROOT / "node" / f"{package}-{version}"
    node = target / "bin" / "node"
    if node.exists():
        return node
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    command = ["npm", "pack", f"{package}@{version}", "--pack-destination", str(partial), "--cache", str(CACHE_ROOT / "npm")]
    try:
        packed = subprocess.run(command, cwd=partial, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise RegistryUnreachable(f"npm pack {package}@{version}: {error}") from None
    if packed.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise RegistryUnreachable(f"npm pack {package}@{version} failed: {(packed.stderr or packed.stdout).strip()[-500:]}")
    tarball = partial / f"{package}-{version}.tgz"
    with tarfile.open(tarball) as archive:
        member = archive.getmember("package/bin/node")
        source = archive.extractfile(member)
        assert source is not None, member
        (partial / "bin").mkdir()
        with source, open(partial / "bin" / "node", "wb") as out:
            shutil.copyfileobj(source, out)
    tarball.unlink()
    os.chmod(partial / "bin" / "node", 0o755)  # noqa: S103 - build users run it
    _check(partial / "bin" / "node", version)
    try:
        partial.rename(target)
    except OSError:  # another test process cached it meanwhile: keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    return node


def _check(node: Path, version: str) -> None:
    # The real binary (tens of MB), not a stub, and it runs here.
    assert node.stat().st_size > 10_000_000, f"{node} is {node.stat().st_size} bytes: not a Node.js binary"
    printed = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    assert printed.strip() == f"v{version}", printed


def lay_out(base: Path, nodes: dict[int, Path]) -> Path:
    """`base/<major>/bin/node` (a hard link to the cached binary, or a copy) with `npm` and
    `npx` links to the system's npm; returns base, to be BUILD_NODE_DIR."""
    npm = shutil.which("npm")
    assert npm is not None, "the system's npm is needed beside each major"
    npm_bin = Path(npm).resolve().parent  # .../node_modules/npm/bin
    for major, node in nodes.items():
        folder = base / str(major) / "bin"
        folder.mkdir(parents=True)
        try:
            os.link(node, folder / "node")
        except OSError:
            shutil.copy2(node, folder / "node")
        (folder / "npm").symlink_to(npm_bin / "npm-cli.js")
        (folder / "npx").symlink_to(npm_bin / "npx-cli.js")
    return base


def require_node(major: int) -> Path:
    """cached_node(major), or skip the test when the registry is unreachable (fail under CI or
    with CONSOLE_REQUIRE_NODE=1: there the test must run)."""
    try:
        return cached_node(major)
    except RegistryUnreachable as error:
        from conftest import under_ci  # here: the module also runs alone, without Django set up

        if os.environ.get("CONSOLE_REQUIRE_NODE") == "1" or under_ci():
            pytest.fail(f"Node.js {major} for the tests could not be fetched, and under CI it must be: {error}")
        pytest.skip(f"Node.js {major} could not be fetched from the npm registry (unreachable?): {error}")


if __name__ == "__main__":
    for wanted in NODE_TEST_VERSIONS:
        print(cached_node(wanted))
