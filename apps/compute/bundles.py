"""Compute bundles: a compute resource's folder as a tar.gz in the hosting bucket.

Packed by the build's worker from the build's own folder (symlinks kept only when they
stay inside it, as for build caches), stored once per content under
compute-bundles/<sha256>.tar.gz, and unpacked on each machine that runs the server.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from apps.builds.selectors import ArtifactError
from apps.builds.services import pack_cache, unpack_cache
from apps.hosting import services as hosting

BUNDLES = "compute-bundles/"


class BundleError(Exception):
    """The bundle could not be packed, stored or read back; the message says why."""


def bundle_key(sha256: str) -> str:
    return f"{BUNDLES}{sha256}.tar.gz"


def pack_bundle(folder: Path, max_bytes: int) -> bytes:
    data, warnings = pack_cache(folder, ["**/*"], max_bytes)
    if data is None:
        detail = "; ".join(warnings) or "the folder is empty"
        raise BundleError(f"the compute bundle could not be packed: {detail}")
    return data


def store_bundle(data: bytes) -> tuple[str, bool]:
    """Store the packed bundle; its hash and whether it was uploaded now (False: already there)."""
    digest = hashlib.sha256(data).hexdigest()
    hosting.ensure_bucket()
    if hosting.get_blob_size(bundle_key(digest)) == len(data):
        return digest, False
    hosting.put_blob(bundle_key(digest), data)
    return digest, True


def unpack_bundle(sha256: str, target: Path) -> int:
    """Fetch the bundle, check it is the one the deployment names, unpack it into target."""
    data = hosting.get_blob(bundle_key(sha256))
    if data is None:
        raise BundleError(f"the compute bundle {sha256[:12]} is missing from the hosting bucket")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BundleError(f"the compute bundle {sha256[:12]} in the hosting bucket does not match its hash")
    try:
        return unpack_cache(target, data)
    except ArtifactError as error:
        raise BundleError(f"the compute bundle could not be unpacked: {error}") from None
