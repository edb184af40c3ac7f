"""The buckets of a branch: those its amplify_outputs.json names, then those an admin added."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.branches.models import BUCKET, Branch
from apps.branches.selectors import outputs_refusal as refusal
from apps.storage.models import ExtraBucket
from console.env import AWS_REGION_PATTERN

# S3's rules for (general purpose) bucket names.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_ACCESS_WORDS = ("read", "get", "list", "write", "delete")


@dataclass(frozen=True)
class AccessPath:
    pattern: str  # as in the outputs, e.g. "media/{entity_id}/*"
    rules: tuple[tuple[str, str], ...]  # (who, "get, list, write")

    @property
    def folder(self) -> str:
        """The fixed folder the pattern starts with, to browse to ("media/")."""
        fixed = self.pattern.split("{", 1)[0].split("*", 1)[0]
        return fixed[: fixed.rfind("/") + 1]


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str
    label: str  # the friendly name of the outputs, or the bucket name
    source: str  # "outputs" or "added"
    default: bool = False
    paths: tuple[AccessPath, ...] = ()
    extra_pk: int | None = field(default=None, compare=False)
    # Why the console will not open it: the outputs name it but the branch's stack does not own it.
    refused: str = field(default="", compare=False)


def bucket_name_problem(name: str) -> str:
    """Why `name` cannot be an S3 bucket name, or "" when it can."""
    if not 3 <= len(name) <= 63:
        return "A bucket name has 3 to 63 characters."
    if not _BUCKET_NAME.match(name):
        return "A bucket name has lowercase letters, digits, dots and hyphens, and starts and ends with a letter or digit."
    if ".." in name or ".-" in name or "-." in name:
        return "A bucket name has no two dots in a row and no dot next to a hyphen."
    if _IP_ADDRESS.match(name):
        return "A bucket name is not an IP address."
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "That bucket name uses a prefix or suffix S3 reserves."
    return ""


def region_problem(region: str) -> str:
    return "" if re.fullmatch(AWS_REGION_PATTERN, region) else f"{region!r} is not an AWS region name like us-east-1."


def _access_paths(raw: Any) -> tuple[AccessPath, ...]:
    if not isinstance(raw, dict):
        return ()
    paths = []
    for pattern, rules in sorted(raw.items()):
        if not isinstance(rules, dict):
            continue
        described = tuple(
            (str(who), ", ".join(w for w in _ACCESS_WORDS if w in actions))
            for who, actions in sorted(rules.items())
            if isinstance(actions, list)
        )
        paths.append(AccessPath(pattern=str(pattern), rules=described))
    return tuple(paths)


def outputs_buckets(outputs: dict[str, Any] | None) -> list[Bucket]:
    """The buckets of an outputs document's storage section (the default one first)."""
    storage = (outputs or {}).get("storage")
    if not isinstance(storage, dict):
        return []
    found: dict[str, Bucket] = {}
    default_name = storage.get("bucket_name")
    for entry in storage.get("buckets") or []:
        if not isinstance(entry, dict) or not entry.get("bucket_name") or entry["bucket_name"] in found:
            continue
        name = str(entry["bucket_name"])
        found[name] = Bucket(
            name=name,
            region=str(entry.get("aws_region") or storage.get("aws_region") or ""),
            label=str(entry.get("name") or name),
            source="outputs",
            default=name == default_name,
            paths=_access_paths(entry.get("paths")),
        )
    if default_name and default_name not in found:
        found[str(default_name)] = Bucket(
            name=str(default_name),
            region=str(storage.get("aws_region") or ""),
            label=str(default_name),
            source="outputs",
            default=True,
        )
    return sorted(found.values(), key=lambda b: (not b.default, b.label.lower(), b.name))


def branch_buckets(branch: Branch) -> list[Bucket]:
    """The outputs' buckets (those the branch's stack does not own marked refused), then
    the ones an admin added; an added bucket stands in for a refused one of the same name."""
    added = {extra.name: extra for extra in ExtraBucket.objects.filter(branch=branch)}
    buckets = []
    for bucket in outputs_buckets(branch.backend_outputs):
        reason = refusal(branch, BUCKET, bucket.name)
        if reason and bucket.name not in added:
            bucket = replace(bucket, refused=reason)
        elif reason:
            continue
        buckets.append(bucket)
    known = {b.name for b in buckets}
    for extra in added.values():
        if extra.name not in known:
            buckets.append(Bucket(name=extra.name, region=extra.region, label=extra.name, source="added", extra_pk=extra.pk))
    return buckets


def bucket_get(branch: Branch, name: str) -> Bucket:
    """One of the branch's buckets, or 404: no view reaches a bucket the branch does not name,
    nor (403) one its outputs name that its stack does not own."""
    for bucket in branch_buckets(branch):
        if bucket.name == name:
            if bucket.refused:
                raise PermissionDenied(bucket.refused)
            return bucket
    raise Http404("This branch has no bucket of that name.")
