"""Next.js builds that wrote no deploy manifest, adapted to the deployment specification.

Amplify Hosting runs Next.js apps with its own adapter; the console runs Next's standalone
output instead (`output: 'standalone'`): `.next/standalone/server.js` is a Node.js server
that needs nothing else of the project. Around it the adapter serves, as files,

- `.next/static/**` at `/_next/static/...` (content-hashed, so cached for a year), and
- `public/**` at the root, each top-level entry with its own route (`/logo.svg`,
  `/images/*`) that falls back to the server, as Next serves a public file ahead of a
  page of the same path and the page otherwise;

and every other path goes to the server. The manifest it writes goes through the same
checks as one a build wrote (apps.compute.manifest).

The project is read like any build output (apps.builds): never through a symlink out of it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from apps.builds.selectors import ArtifactError, ArtifactFile, collect_artifacts, inside, read_workspace_file
from apps.compute.hosting_output import HostingOutput
from apps.compute.manifest import ComputeResource, ManifestInvalid, parse_manifest

NEXT_SSR_FRAMEWORK = "Next.js - SSR"
NEXT_SSG_FRAMEWORK = "Next.js - SSG"
WEB_COMPUTE = "WEB_COMPUTE"
MAX_PACKAGE_JSON_BYTES = 1024 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
SERVER = ComputeResource(name="default", runtime="nodejs20.x", entrypoint="server.js")
MAX_ROUTES = 25  # the specification's limit
# How to turn the standalone output on, by config file; the first two when there is none yet.
CONFIG_EXAMPLES = {
    "next.config.js": "module.exports = { output: 'standalone' }",
    "next.config.mjs": "export default { output: 'standalone' }",
    "next.config.ts": "export default { output: 'standalone' }",
    "next.config.cjs": "module.exports = { output: 'standalone' }",
    "next.config.mts": "export default { output: 'standalone' }",
}


class AdapterError(ValueError):
    """Why a Next.js build cannot be run, worded for the person who wrote it."""


# --- reading the project ---


def _read_json(root: Path, relative: str) -> Any:
    """A JSON file of the project, or None when it is missing, too large, not JSON or outside the project.

    A symlink is followed only when it stays inside the project (pnpm links node_modules/next)."""
    path = root / relative
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError:
        return None
    if not inside(root, real):
        return None
    try:
        data = read_workspace_file(root, real, MAX_PACKAGE_JSON_BYTES)
        return json.loads(data) if data is not None else None
    except (ValueError, RecursionError):  # too large, not UTF-8, not JSON
        return None


def _declared_next(package: Any) -> str | None:
    """The version range package.json asks for `next` with, if it does."""
    if not isinstance(package, dict):
        return None
    for key in ("dependencies", "devDependencies"):
        section = package.get(key)
        if isinstance(section, dict) and "next" in section:
            declared = section["next"]
            return declared if isinstance(declared, str) else ""
    return None


def is_nextjs(project: Path, platform: str = "", framework: str = "") -> bool:
    """Whether the app is a server-rendered Next.js app.

    An app on WEB_COMPUTE or labelled "Next.js - SSR" is; one labelled "Next.js - SSG" is a
    static export, whatever its package.json says; otherwise Next in package.json decides.
    """
    if platform == WEB_COMPUTE or framework == NEXT_SSR_FRAMEWORK:
        return True
    if framework == NEXT_SSG_FRAMEWORK:
        return False
    return _declared_next(_read_json(project.resolve(), "package.json")) is not None


def _next_version(root: Path) -> str:
    """The installed Next.js version, else the range package.json declares, else "unknown"."""
    installed = _read_json(root, "node_modules/next/package.json")
    candidates = [installed.get("version") if isinstance(installed, dict) else None]
    candidates.append(_declared_next(_read_json(root, "package.json")))
    for version in candidates:
        if isinstance(version, str) and 0 < len(version.strip()) <= 128:
            return version.strip()
    return "unknown"


# --- the standalone server ---


def _missing_standalone(root: Path) -> AdapterError:
    configs = [name for name in CONFIG_EXAMPLES if os.path.lexists(root / name)]
    shown = configs or ["next.config.js", "next.config.mjs"]
    where = " or ".join(f"{name} ({CONFIG_EXAMPLES[name]})" for name in shown)
    return AdapterError(f"Next.js builds need the standalone output: add `output: 'standalone'` to {where}")


def _real_directory(root: Path, relative: str) -> Path | None:
    """The directory at root/relative when no symlink leads to it; None when there is none."""
    path = root / relative
    if not os.path.lexists(path):
        return None
    if path.resolve() != path or not path.is_dir():
        raise AdapterError(f"{relative} must be a folder the build wrote, not a symlink or a file")
    return path


def _standalone(root: Path) -> Path:
    standalone = _real_directory(root, ".next/standalone")
    if standalone is None:
        raise _missing_standalone(root)
    server = standalone / SERVER.entrypoint
    if not os.path.lexists(server):
        raise _missing_standalone(root)
    if not stat.S_ISREG(os.lstat(server).st_mode):
        raise AdapterError(".next/standalone/server.js must be a file the build wrote, not a symlink")
    return standalone


# --- files and routes ---


def _files(root: Path, relative: str) -> list[ArtifactFile]:
    folder = _real_directory(root, relative)
    if folder is None:
        return []
    try:
        return collect_artifacts(folder.parent, folder.name, ["**/*"], False)
    except ArtifactError:
        return []  # a real folder without files


def _public_routes(public: list[ArtifactFile]) -> list[dict[str, Any]]:
    """One route per top-level entry of public/: `/robots.txt` exactly, `/images/*` for a folder.

    Each falls back to the server, as Next itself serves a page when no public file has the
    path: `public/blog/cover.png` must not hide the page `/blog/hello`.
    """
    entries = sorted({(f.path.split("/", 1)[0], "/" in f.path) for f in public})
    # `*` is the spec's wildcard and cannot be escaped: such a name is left to the server.
    entries = [(name, is_folder) for name, is_folder in entries if "*" not in name]
    if len(entries) + 2 > MAX_ROUTES:
        # Too many for a route each: folders keep theirs, and every other path with a dot
        # tries the files first (a top-level file without a dot is then left to the server).
        entries = [(name, True) for name, is_folder in entries if is_folder] + [("*.*", False)]
    return [
        {
            "path": f"/{name}/*" if is_folder else f"/{name}",
            "target": {"kind": "Static"},
            "fallback": {"kind": "Compute", "src": SERVER.name},
        }
        for name, is_folder in entries
    ]


def _manifest_document(public: list[ArtifactFile], version: str) -> dict[str, Any]:
    routes = [
        {"path": "/_next/static/*", "target": {"kind": "Static", "cacheControl": IMMUTABLE}},
        *_public_routes(public),
        {"path": "/*", "target": {"kind": "Compute", "src": SERVER.name}},
    ]
    return {
        "version": 1,
        "routes": routes,
        "computeResources": [{"name": SERVER.name, "runtime": SERVER.runtime, "entrypoint": SERVER.entrypoint}],
        "framework": {"name": "next", "version": version},
    }


def adapt_nextjs(project: Path) -> HostingOutput:
    """The hosting output of a Next.js build from its standalone output."""
    root = project.resolve()
    standalone = _standalone(root)
    next_static = [
        ArtifactFile(path=f"_next/static/{f.path}", source=f.source, size=f.size) for f in _files(root, ".next/static")
    ]
    # Next's own files win: a public/_next/... could only shadow them.
    public = [f for f in _files(root, "public") if not (f.path == "_next" or f.path.startswith("_next/"))]
    try:
        manifest = parse_manifest(_manifest_document(public, _next_version(root)))
    except ManifestInvalid as error:
        raise AdapterError(f"The Next.js adapter could not describe this build: {error}") from None
    return HostingOutput(
        manifest=manifest,
        static_files=sorted(next_static + public, key=lambda f: f.path),
        compute_dir=standalone,
        compute=SERVER,
    )
