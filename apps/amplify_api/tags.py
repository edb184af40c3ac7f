"""Tags of apps and branches (the API's `tags`, TagResource, UntagResource, ListTagsForResource):
checked as AWS checks them, kept, and every change audited.

AWS's limits: at most 50 tags per resource; a key of 1 to 128 characters not starting with
`aws:`, a value of at most 256; letters, digits, spaces and `_ . : / = + - @`. botocore's
model spells the value's characters with Unicode classes (`\\p{L}`), which Python's `re`
lacks, so they are checked here by Unicode category.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from apps.amplify_api.models import ResourceTag
from apps.branches.models import App, Branch
from console.audit import audit_record

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
_SYMBOLS = frozenset("_.:/=+-@")


class TagsInvalid(ValueError):
    """Tags AWS would refuse; the message says which and why."""


def _allowed(text: str) -> bool:
    return all(char in _SYMBOLS or unicodedata.category(char)[0] in "LNZ" for char in text)


def check_tags(tags: dict[str, Any]) -> dict[str, str]:
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
            raise TagsInvalid(f"tag key {str(key)[:40]!r}: 1 to {MAX_KEY} characters.")
        if key.lower().startswith("aws:"):
            raise TagsInvalid(f"tag key {key[:40]!r}: the aws: prefix is reserved for AWS.")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise TagsInvalid(f"tag {key[:40]!r}: the value is a string of at most {MAX_VALUE} characters.")
        if not _allowed(key) or not _allowed(value):
            raise TagsInvalid(f"tag {key[:40]!r}: use letters, digits, spaces and _ . : / = + - @ only.")
    return dict(tags)


def tags_of(app: App, branch: Branch | None) -> dict[str, str]:
    rows = ResourceTag.objects.filter(app=app, branch=branch)
    return dict(rows.values_list("key", "value"))


def _target(app: App, branch: Branch | None) -> tuple[str, str]:
    return ("branch", f"{app.app_id}/{branch.name}") if branch is not None else ("app", app.app_id)


def tags_set(*, actor: Any, app: App, branch: Branch | None, tags: dict[str, Any]) -> dict[str, str]:
    """Add or change tags; the others stay. TagsInvalid (and nothing written) past AWS's limits."""
    tags = check_tags(tags)
    if not tags:
        return tags_of(app, branch)
    with transaction.atomic():
        current = tags_of(app, branch)
        if len(current | tags) > MAX_TAGS:
            raise TagsInvalid(f"a resource has at most {MAX_TAGS} tags; this would make {len(current | tags)}.")
        for key, value in tags.items():
            ResourceTag.objects.update_or_create(app=app, branch=branch, key=key, defaults={"value": value})
        target_type, target = _target(app, branch)
        # Keys only: a tag value may be anything its owner chose to put there.
        audit_record(
            actor=actor, action="tags.set", target_type=target_type, target=target, message=f"tagged {', '.join(sorted(tags))}"
        )
    return current | tags


def tags_remove(*, actor: Any, app: App, branch: Branch | None, keys: Iterable[str]) -> None:
    """Remove tags by key; keys the resource does not have are no error (as in AWS)."""
    keys = sorted(set(keys))
    with transaction.atomic():
        removed, _ = ResourceTag.objects.filter(app=app, branch=branch, key__in=keys).delete()
        target_type, target = _target(app, branch)
        audit_record(
            actor=actor,
            action="tags.remove",
            target_type=target_type,
            target=target,
            message=f"untagged {', '.join(keys)} ({removed} removed)",
        )


_ARN = re.compile(r"arn:aws:amplify:(?P<region>[^:]*):(?P<account>[0-9]{12}):apps/(?P<app>[^/]+)(?:/branches/(?P<branch>.+))?")


def parse_resource_arn(arn: str) -> tuple[str, str, str, str | None] | None:
    """(region, account, app id, branch name or None) of an app's or branch's ARN; None otherwise."""
    found = _ARN.fullmatch(arn)
    return (found["region"], found["account"], found["app"], found["branch"]) if found else None
