"""An app's rewrite and redirect rules as stored (SiteSettings.custom_rules): read, save, try out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.branches.models import App, Branch
from apps.hosting.delivery import manifest, resolve
from apps.hosting.models import Deployment, SiteSettings
from apps.hosting.rules import Outcome, Rule, RulesInvalid, first_match, parse_rules, rules_json
from console.audit import audit_record


def rules_version(stored: object) -> str:
    """A fingerprint of the stored rules, so that an edit made on an old view of them is refused."""
    return hashlib.sha256(json.dumps(stored, sort_keys=True).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class StoredRules:
    rules: list[Rule]
    # Rules stored by other means may not parse: then `rules` is empty, `problems` says why, and
    # `text` holds what is stored, for an admin to mend.
    problems: list[str]
    text: str
    version: str


def stored_rules(app: App) -> StoredRules:
    stored = SiteSettings.objects.filter(app=app).values_list("custom_rules", flat=True).first() or []
    try:
        rules = parse_rules(stored)
    except RulesInvalid as error:
        return StoredRules([], error.errors, json.dumps(stored, indent=4, ensure_ascii=False), rules_version(stored))
    return StoredRules(rules, [], rules_json(rules), rules_version(stored))


RULES_CHANGED = "Someone changed the rules after you opened this page, so nothing was saved. Here they are now."


class RulesChanged(ValidationError):
    """Someone saved the rules after the editor read them: nothing was saved."""

    def __init__(self) -> None:
        super().__init__(RULES_CHANGED)


def set_custom_rules(*, actor: Any, app: App, rules: list[Rule], expected_version: str | None = None, summary: str = "") -> None:
    """Store `rules` (validated again: they may have been built by hand) in order. With
    `expected_version` (rules_version of what the editor showed), a newer save is not overwritten."""
    data = [rule.as_json() for rule in rules]
    parse_rules(data)  # RulesInvalid
    with transaction.atomic():
        settings, _ = SiteSettings.objects.select_for_update().get_or_create(app=app)
        if expected_version is not None and rules_version(settings.custom_rules) != expected_version:
            raise RulesChanged()
        before = len(settings.custom_rules or [])
        settings.custom_rules = data
        settings.save(update_fields=["custom_rules", "updated_at"])
        audit_record(
            actor=actor,
            action="hosting.rules.update",
            target_type="app",
            target=app.app_id,
            message=summary or f"saved {len(data)} rewrite and redirect rules",
            detail={"rules": len(data), "before": before},
        )


def branches_with_deployment(app: App) -> list[Branch]:
    return list(app.branches.filter(live_deployment__isnull=False).select_related("live_deployment").order_by("name"))


def deployment_serves(deployment: Deployment | None, path: str) -> bool:
    """Whether serving finds a file for the decoded request path (a folder's path with its slash)."""
    return deployment is not None and resolve(manifest(deployment), path)[0] is not None


@dataclass(frozen=True)
class Trial:
    """What the rules make of one URL: the rule that applies (number, outcome), or None and what
    serving does then: the file, a slash added to a folder's path, or not found."""

    path: str
    query: str
    match: tuple[int, Outcome] | None
    file_exists: bool = False
    folder: bool = False


def try_rules(rules: list[Rule], url: str, deployment: Deployment | None) -> Trial:
    """`url`: a path with an optional query ("/docs?id=1"), as typed in the tester."""
    raw_path, _, query = url.split("#", 1)[0].partition("?")
    path = unquote(raw_path)
    match = first_match(rules, path, query, lambda p: deployment_serves(deployment, p))
    if match is not None:
        return Trial(path, query, match)
    folder = not path.endswith("/") and deployment_serves(deployment, path + "/")
    return Trial(path, query, None, deployment_serves(deployment, path), folder)
