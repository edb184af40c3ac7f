"""A build's output in Amplify Hosting's deployment specification: the `.amplify-hosting`
folder with deploy-manifest.json, `static/` (served as files) and `compute/<name>/` (the server).

The build is hostile code, and the worker that reads its output has more rights than it
has: the folder, the manifest, `static/` and the compute folder must be what the build
wrote inside the project, never a symlink out of it. Files in `static/` go through the
same collector as a static site's artifacts (apps.builds.artifacts), which serves a
symlinked file only when it points at a file inside `static/` and leaves every other out.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from apps.builds.selectors import ArtifactError, ArtifactFile, collect_artifacts, read_workspace_file
from apps.compute.manifest import (
    DOCUMENT,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    ComputeResource,
    DeployManifest,
    ManifestInvalid,
    load_manifest,
)

HOSTING_FOLDER = ".amplify-hosting"


@dataclass
class HostingOutput:
    manifest: DeployManifest
    static_files: list[ArtifactFile]
    compute_dir: Path | None  # the folder that becomes the server's bundle
    compute: ComputeResource | None


def _relative_inside(base_directory: str) -> PurePosixPath | None:
    """baseDirectory as a path inside the project, or None when it would lead out of it."""
    shown = base_directory.strip() or "."
    normal = PurePosixPath(posixpath.normpath(shown))
    if normal.is_absolute() or shown.startswith("~") or ".." in normal.parts:
        return None
    return normal


def _is_real_directory(root: Path, path: Path) -> bool:
    """Whether path is a directory inside the resolved root, reached without any symlink on the way."""
    return path.is_relative_to(root) and path.resolve() == path and path.is_dir()


def _has_manifest(root: Path, folder: Path) -> bool:
    manifest = folder / MANIFEST_NAME
    if not os.path.lexists(manifest):
        return False
    if not _is_real_directory(root, folder) or not stat.S_ISREG(os.lstat(manifest).st_mode):
        shown = manifest.relative_to(root).as_posix()
        raise ManifestInvalid(f"{DOCUMENT}: {shown} must be a file in a folder the build wrote, not reached through a symlink")
    return True


def find_manifest(project: Path, base_directory: str) -> Path | None:
    """The folder holding the build's deploy-manifest.json, or None when the build wrote none.

    Amplify looks in baseDirectory first ("Please verify that it exists within the
    baseDirectory specified in your buildSpec"), then in `.amplify-hosting` at the app's
    root. `<baseDirectory>/.amplify-hosting` is looked at in between. Raises ManifestInvalid
    when the manifest is there but reached through a symlink.
    """
    root = project.resolve()
    candidates = []
    base = _relative_inside(base_directory)
    if base is not None:
        candidates += [root / base, root / base / HOSTING_FOLDER]
    candidates.append(root / HOSTING_FOLDER)
    for folder in candidates:
        if _has_manifest(root, folder):
            return folder
    return None


def _real_folder(root: Path, project: Path, folder: Path) -> Path:
    """folder as a path under the resolved project root, refusing any way out of it."""
    for start in (project, root):
        if folder.is_relative_to(start):
            inside = root / folder.relative_to(start)
            if ".." not in inside.relative_to(root).parts and _is_real_directory(root, inside):
                return inside
    raise ManifestInvalid(f"{folder.name}: the deployment bundle must be a folder inside the project, not a symlink")


def _static_files(folder: Path) -> list[ArtifactFile]:
    static = folder / "static"
    if not os.path.lexists(static):
        return []
    if not _is_real_directory(folder, static):
        raise ManifestInvalid("static: must be a folder the build wrote, not a symlink or a file")
    try:
        return collect_artifacts(folder, "static", ["**/*"], False)
    except ArtifactError:
        return []  # the folder is there and real: the only complaint left is that it holds no files


def _compute_dir(folder: Path, compute: ComputeResource) -> Path:
    where = f"compute/{compute.name}"
    compute_dir = folder / "compute" / compute.name
    if not os.path.lexists(compute_dir):
        raise ManifestInvalid(f"computeResources[0].name: {where}/ does not exist in {folder.name}/")
    if not _is_real_directory(folder, compute_dir):
        raise ManifestInvalid(f"computeResources[0].name: {where} must be a folder the build wrote, not a symlink or a file")
    entrypoint = compute_dir / posixpath.normpath(compute.entrypoint)
    try:
        is_file = entrypoint.parent.resolve() == entrypoint.parent and stat.S_ISREG(os.lstat(entrypoint).st_mode)
    except OSError:
        is_file = False
    if not is_file:
        raise ManifestInvalid(
            f"computeResources[0].entrypoint: {compute.entrypoint!r} is not a file in {where}/ "
            "(it must be a regular file there, not a symlink)"
        )
    return compute_dir


def read_hosting_output(project: Path, folder: Path) -> HostingOutput:
    """The manifest, static files and compute folder of the bundle in folder (from find_manifest)."""
    root = project.resolve()
    real = _real_folder(root, project, folder)
    try:
        data = read_workspace_file(root, real / MANIFEST_NAME, MAX_MANIFEST_BYTES)
    except ValueError as error:
        raise ManifestInvalid(f"{DOCUMENT}: {error}") from None
    if data is None:
        raise ManifestInvalid(f"{DOCUMENT}: {MANIFEST_NAME} is missing from {real.name}/ or is not a regular file")
    manifest = load_manifest(data)
    compute = manifest.compute
    return HostingOutput(
        manifest=manifest,
        static_files=_static_files(real),
        compute_dir=_compute_dir(real, compute) if compute else None,
        compute=compute,
    )
