"""Incoming webhooks: create, delete, and the trigger that starts a WEB_HOOK job."""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.branches.models import Branch
from apps.builds import jobs
from apps.builds.models import Job, Webhook
from console.audit import audit_record
from console.ratelimit import within_rate

# A slow git host must not hold a web worker: past this the runner resolves the commit.
# Compared against when the id is unknown, so both paths cost the same.
_DUMMY_TOKEN = secrets.token_urlsafe(32)


class WebhookDenied(Exception):
    pass


class WebhookRateLimited(Exception):
    pass


def trigger_url(request: HttpRequest, webhook: Webhook) -> str:
    return request.build_absolute_uri(webhook.trigger_path)


def _checked_name(branch: Branch, name: str, *, renaming: Webhook | None = None) -> str:
    """The name, stripped; ValidationError when blank or taken by another webhook of the branch."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the webhook a name, e.g. the system that will call it."})
    taken = branch.webhooks.filter(name=name)
    if renaming is not None:
        taken = taken.exclude(pk=renaming.pk)
    if taken.exists():
        raise ValidationError({"name": f"This branch already has a webhook named {name!r}."})
    return name


def webhook_create(*, actor: Any, branch: Branch, name: str) -> Webhook:
    name = _checked_name(branch, name)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            branch=branch, webhook_id=str(uuid.uuid4()), name=name, token=secrets.token_urlsafe(32), created_by=actor
        )
        audit_record(
            actor=actor,
            action="webhook.create",
            target_type="webhook",
            target=f"{branch.app.app_id}/{branch.name}/{webhook.webhook_id}",
            message=f"created webhook {name!r}",
        )
    return webhook


def webhook_update(*, actor: Any, webhook: Webhook, branch: Branch, name: str) -> Webhook:
    """Rename the webhook or point it at another branch of the same app (its URL stays)."""
    if branch.app_id != webhook.branch.app_id:
        raise ValidationError({"branch": "A webhook can only move to a branch of the same app."})
    name = _checked_name(branch, name, renaming=webhook)
    with transaction.atomic():
        webhook.branch, webhook.name = branch, name
        webhook.save(update_fields=["branch", "name", "updated_at"])
        audit_record(
            actor=actor,
            action="webhook.update",
            target_type="webhook",
            target=f"{branch.app.app_id}/{branch.name}/{webhook.webhook_id}",
            message=f"webhook {name!r} now builds {branch.name}",
        )
    return webhook


def webhook_delete(*, actor: Any, webhook: Webhook) -> None:
    target = f"{webhook.branch.app.app_id}/{webhook.branch.name}/{webhook.webhook_id}"
    with transaction.atomic():
        webhook.delete()
        audit_record(actor=actor, action="webhook.delete", target_type="webhook", target=target)


def webhook_authenticate(webhook_id: str, token: str) -> Webhook:
    """The webhook whose id and token match, compared in constant time; else WebhookDenied."""
    webhook = Webhook.objects.select_related("branch__app").filter(webhook_id=webhook_id).first() if webhook_id else None
    expected = webhook.token if webhook else _DUMMY_TOKEN
    if not hmac.compare_digest(expected.encode(), (token or "").encode()) or webhook is None:
        raise WebhookDenied
    return webhook


def _check_rate(webhook: Webhook) -> None:
    """At most WEBHOOK_RATE_LIMIT_PER_MINUTE calls in any 60 s."""
    if not within_rate(f"webhook:{webhook.webhook_id}", settings.WEBHOOK_RATE_LIMIT_PER_MINUTE):
        raise WebhookRateLimited


def webhook_start_build(webhook: Webhook) -> Job:
    """A WEB_HOOK job at the branch's head commit, which the worker resolves when it clones:
    the call never waits on git (a slow remote would hold the web worker). It is automatic:
    the runner skips it on a skip marker or when no changed file is under the app's paths."""
    _check_rate(webhook)
    branch = webhook.branch
    Webhook.objects.filter(pk=webhook.pk).update(last_triggered_at=timezone.now())
    return jobs.job_start(branch=branch, job_type=Job.Type.WEB_HOOK, triggered_by=f"webhook {webhook.name}", automatic=True)
