"""Which Node.js a build runs on.

A worker has the system's `node` on PATH (the default) and, under BUILD_NODE_DIR, more
installations laid out `<dir>/<major>/bin/node` (with `npm`/`npx` beside it, or the
system's npm, whose `#!/usr/bin/env node` runs it with whichever node is first on PATH).
A build asks for a major, first match wins:

1. an `nvm use <version>` / `nvm install <version>` line of the build spec's commands, as
   Amplify's build image reads them (no nvm runs here: the console reads those lines before
   the build, and the build's `nvm` answers them with a log line); else a phase's
   `runtime-versions: {nodejs: <version>}`;
2. the branch's Node.js version setting;
3. the app's Node.js version setting;
4. the system's node.

The chosen installation's `bin` goes first on the build's PATH. A major this worker does
not have fails the build before any command runs, naming the majors it has.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.builds.sandbox import DEFAULT_PATH

# nvm's names of the LTS lines (`nvm use lts/jod`).
LTS_CODENAMES = {
    "argon": 4,
    "boron": 6,
    "carbon": 8,
    "dubnium": 10,
    "erbium": 12,
    "fermium": 14,
    "gallium": 16,
    "hydrogen": 18,
    "iron": 20,
    "jod": 22,
    "krypton": 24,
}
# `nvm use|install ...` where a command starts: a line's start, after ; & | ( or then/do/else.
_NVM_CALL = re.compile(r"(?:^|[;&|(]|\b(?:then|do|else)\b)\s*nvm\s+(use|install)\b((?:[ \t]+[^\s;&|()<>]+)*)", re.M)
_VERSION = re.compile(r"v?(\d{1,3})(?:\.(?:\d+|x))?(?:\.(?:\d+|x))?")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_NODE_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")

# Each phase script starts with this: `nvm` lines answer with a log line instead of failing
# (exported, so `bash -c "nvm use 22"` answers too), and the log shows the node that runs.
SCRIPT_PREAMBLE = r"""nvm() {
  local running
  running="$(node --version 2>/dev/null || echo none)"
  case "${1:-}" in
    use|install)
      printf '## nvm %s: this build runs on Node.js %s, chosen from the spec before it started' "$*" "$running"
      printf ' (nvm itself is not installed here)\n' ;;
    current|version) node --version ;;
    *) printf '## nvm %s: not available here; Node.js is chosen from nvm use/install lines or the settings\n' "$*" ;;
  esac
}
export -f nvm
if command -v node >/dev/null 2>&1; then printf '## node --version: %s\n' "$(node --version 2>&1)"; fi
"""


class NodeUnavailable(Exception):
    """The build asks for a Node.js this worker cannot give; the message says which it has."""


@dataclass(frozen=True)
class NodeInstall:
    major: int
    version: str  # as `node --version` prints it: v22.23.5
    bin_dir: Path
    system: bool = False

    @property
    def node(self) -> Path:
        return self.bin_dir / "node"

    def describe(self) -> str:
        return f"{self.major} ({self.version}{', the default' if self.system else ''})"


@dataclass(frozen=True)
class NodeChoice:
    install: NodeInstall | None  # None: this worker has no Node.js at all
    source: str
    note: str = ""

    def log_lines(self) -> list[str]:
        if self.install is None:
            return ["## Node.js: none is installed on this worker"]
        lines = [f"## Node.js {self.install.version.lstrip('v')} (from {self.source})"]
        return [*lines, f"## {self.note}"] if self.note else lines

    def apply(self, env: dict[str, str]) -> None:
        """Put the chosen node first on the build's PATH, trusting the system's certificate authorities."""
        if self.install is None:
            return
        if not self.install.system:
            env["PATH"] = f"{self.install.bin_dir}:{env.get('PATH', DEFAULT_PATH)}"
        with_system_certificates(env)


@dataclass(frozen=True)
class _Wish:
    text: str  # what asked, for the log: "amplify.yml nvm use 22"
    version: str  # "22", "v22.1.0", "lts/*", "node", "system"


# --- what this worker has


def installed_nodes() -> list[NodeInstall]:
    """The system's node (if any) and each `<BUILD_NODE_DIR>/<major>/bin/node`, by major.
    An installation under BUILD_NODE_DIR wins over the system's of the same major."""
    found: dict[int, NodeInstall] = {}
    system = shutil.which("node", path=DEFAULT_PATH)
    if system is not None and (version := _version_of(system)):
        found[_major(version)] = NodeInstall(_major(version), version, Path(system).parent, system=True)
    base = Path(settings.BUILD_NODE_DIR)
    folders = sorted(base.iterdir()) if base.is_dir() else []
    for folder in folders:
        node = folder / "bin" / "node"
        if folder.name.isdigit() and os.access(node, os.X_OK) and (version := _version_of(str(node))):
            found[_major(version)] = NodeInstall(_major(version), version, node.parent)
    return [found[major] for major in sorted(found)]


def _version_of(node: str) -> str | None:
    try:
        info = os.stat(node)
    except OSError:
        return None
    return _cached_version(node, info.st_mtime_ns, info.st_size)


@cache
def _cached_version(node: str, _mtime: int, _size: int) -> str | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out if _NODE_VERSION.fullmatch(out) else None


def _major(version: str) -> int:
    return int(version.lstrip("v").split(".", 1)[0])


# --- what the build asks for


def nvm_wishes(commands: Iterable[str], env: dict[str, str]) -> list[_Wish]:
    """The `nvm use`/`nvm install` calls of the commands, their variables filled in from the
    build's environment. No version: the project's .nvmrc (`version` ""), as nvm reads it."""
    wishes = []
    for command in commands:
        for verb, args in _NVM_CALL.findall(command):
            expanded = _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), args)
            words = expanded.split()
            version = next((w for w in words if not w.startswith("-")), "")
            if not version and any(w == "--lts" or w.startswith("--lts=") for w in words):
                lts = next(w for w in words if w.startswith("--lts"))
                version = f"lts/{lts.partition('=')[2] or '*'}"
            wishes.append(_Wish(text=f"amplify.yml nvm {verb}{args}".rstrip(), version=version))
    return wishes


# --- the choice


def choose_node(
    *,
    commands: Iterable[str],
    env: dict[str, str],
    branch_setting: str,
    app_setting: str,
    nvmrc: str | None,
    runtime_versions: Iterable[str] = (),
) -> NodeChoice:
    """The build's Node.js (see the module's docstring), or NodeUnavailable. `runtime_versions`
    are the spec's `runtime-versions: {nodejs: ...}` values (CodeBuild's key, which Amplify's
    spec schema takes): after nvm lines, before the settings."""
    installs = installed_nodes()
    wishes = nvm_wishes(commands, env) or [
        _Wish(f"amplify.yml runtime-versions nodejs: {version}", version) for version in runtime_versions
    ]
    if wishes:
        return _from_spec(wishes, installs, nvmrc)
    if branch_setting:
        return _resolve(_Wish("the branch's Node.js version setting", branch_setting), installs)
    if app_setting:
        return _resolve(_Wish("the app's Node.js version setting", app_setting), installs)
    default = next((i for i in installs if i.system), None)
    return NodeChoice(default, "the worker's default, no version asked")


def _from_spec(wishes: list[_Wish], installs: list[NodeInstall], nvmrc: str | None) -> NodeChoice:
    choices = []
    for wish in wishes:
        if not wish.version:
            if not nvmrc:
                raise NodeUnavailable(f"{wish.text} names no version and the project has no .nvmrc to read one from.")
            wish = _Wish(f"{wish.text} (.nvmrc: {nvmrc})", nvmrc)
        choices.append(_resolve(wish, installs))
    majors = sorted({c.install.major for c in choices if c.install is not None})
    if len(majors) > 1:
        raise NodeUnavailable(
            f"The build spec asks for Node.js {' and '.join(map(str, majors))} ({'; '.join(w.text for w in wishes)}): "
            "a build here runs on one Node.js; keep one nvm line."
        )
    return choices[0]


def _resolve(wish: _Wish, installs: list[NodeInstall]) -> NodeChoice:
    asked = wish.version.strip()
    lowered = asked.lower()
    if lowered == "system":
        install = next((i for i in installs if i.system), None)
        if install is None:
            raise NodeUnavailable(f"{wish.text}: this worker has no system Node.js. {_installed(installs)}")
        return NodeChoice(install, wish.text)
    if lowered in ("node", "stable", "latest", "lts/*"):
        # LTS lines are the even majors.
        wanted = [i for i in installs if lowered != "lts/*" or i.major % 2 == 0]
        if not wanted:
            raise NodeUnavailable(f"{wish.text}: no such Node.js here. {_installed(installs)}")
        return NodeChoice(wanted[-1], wish.text, note=f"{asked} is the newest of this worker's Node.js: {wanted[-1].major}")
    if lowered.startswith("lts/") and lowered[4:] in LTS_CODENAMES:
        return _by_major(wish, LTS_CODENAMES[lowered[4:]], installs, note="")
    matched = _VERSION.fullmatch(asked)
    if matched is None:
        raise NodeUnavailable(
            f"{wish.text}: {asked!r} is not a Node.js version this console understands "
            "(a major such as 22, 22.1, v22.1.0, lts/*, lts/jod, node, latest or system)."
        )
    major = int(matched.group(1))
    exact = asked.lstrip("v") != str(major)
    note = f"{asked} asked; this worker has one Node.js per major, so {major} runs" if exact else ""
    return _by_major(wish, major, installs, note)


def _by_major(wish: _Wish, major: int, installs: list[NodeInstall], note: str) -> NodeChoice:
    install = next((i for i in installs if i.major == major), None)
    if install is None:
        raise NodeUnavailable(
            f"Node.js {major} is not installed on this worker (asked by {wish.text}). {_installed(installs)} "
            f"Ask for one of them, or install Node.js {major} as {Path(settings.BUILD_NODE_DIR) / str(major) / 'bin' / 'node'}."
        )
    if note:
        note = f"{note} ({install.version})"
    return NodeChoice(install, wish.text, note)


def _installed(installs: list[NodeInstall]) -> str:
    if not installs:
        return "This worker has no Node.js installed."
    return f"Installed: {', '.join(i.describe() for i in installs)}."


def other_runtimes_note(phases: list[dict[str, Any]]) -> str | None:
    """The spec's `runtime-versions` other than nodejs, which builds cannot switch: a log line
    saying so, rather than a silent ignore (None when there are none)."""
    asked = sorted(
        {
            f"{name} {version}"
            for phase in phases
            for name, version in (phase.get("runtime-versions") or {}).items()
            if name != "nodejs"
        }
    )
    if not asked:
        return None
    return f"## runtime-versions {', '.join(asked)}: not honoured (only nodejs is chosen); builds use the worker's own"


# --- trusting the system's certificate authorities

SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def with_system_certificates(env: dict[str, str]) -> None:
    """Let Node.js trust the system's certificate authorities (a company's, or a proxy's, added
    with update-ca-certificates) as well as the ones compiled into it. The official builds
    trust only their own, and npm's global npmrc (where a `cafile` may be set) is per
    installation (`<major>/etc/npmrc`): without this, a node under BUILD_NODE_DIR fails
    `npm ci` behind a TLS-inspecting proxy that the system's node passes. A build's own
    NODE_EXTRA_CA_CERTS is kept."""
    if "NODE_EXTRA_CA_CERTS" not in env and SYSTEM_CA_BUNDLE.is_file():
        env["NODE_EXTRA_CA_CERTS"] = str(SYSTEM_CA_BUNDLE)
