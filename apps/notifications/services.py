"""Writes of notifications: subscriptions (audited), their webhook secrets (shown once),
the deliveries a job's start or end queues, and redeliveries.

Secrets never reach the audit trail, logs or pages after they were shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.views.decorators.debug import sensitive_variables

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.builds.services import JobEvent
from apps.notifications.models import Delivery, Event, Subscription
from apps.notifications.targets import checked_addresses
from console.audit import audit_record
from console.queue import send_on_commit
from console.sealed import seal, unseal

_SEALED_AS = "notification-webhook-secrets"
DELIVER_TASK = "apps.notifications.tasks.deliver"


@dataclass(frozen=True)
class Saved:
    subscription: Subscription
    secret: str  # a webhook's new signing secret, to show once ("" otherwise)


def secret_of(subscription: Subscription) -> str | None:
    """The webhook's signing secret, or None if it cannot be read (SECRET_KEY changed)."""
    return unseal(_SEALED_AS, subscription.secret_sealed) if subscription.secret_sealed else None


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def validate_target(kind: str, target: str) -> str:
    """The target as stored; ValidationError (keyed `target`) with the reason it is refused."""
    target = target.strip()
    if kind == Subscription.Kind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise ValidationError({"target": f"{target!r} is not an email address."}) from None
        return target
    if len(target) > 2000:
        raise ValidationError({"target": "The URL is longer than 2000 characters."})
    try:
        checked_addresses(target)
    except ValidationError as error:
        raise ValidationError({"target": error.messages}) from None
    return target


def _validate_events(events: list[str]) -> list[str]:
    chosen = [event for event in Event.values if event in events]
    if not chosen or len(chosen) != len(set(events)):
        raise ValidationError({"events": "Choose at least one of: build started, succeeded, failed."})
    return chosen


def _detail(subscription: Subscription) -> dict[str, Any]:
    return {
        "kind": subscription.kind,
        "target": subscription.target,
        "branch": subscription.branch.name if subscription.branch else "(all)",
        "events": subscription.events,
    }


def _audit(actor: Any, action: str, subscription: Subscription, message: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        target_type="notification",
        target=f"{subscription.app.app_id}/{subscription.pk}",
        message=message or str(subscription),
        detail=_detail(subscription),
    )


@sensitive_variables("secret")
def subscription_create(*, actor: Any, app: App, kind: str, target: str, branch: Branch | None, events: list[str]) -> Saved:
    if kind not in Subscription.Kind.values:
        raise ValidationError({"kind": "Choose email or webhook."})
    if branch is not None and branch.app_id != app.pk:
        raise ValidationError({"branch": "That branch is not this app's."})
    target = validate_target(kind, target)
    chosen = _validate_events(events)
    secret = _new_secret() if kind == Subscription.Kind.WEBHOOK else ""
    with transaction.atomic():
        subscription = Subscription.objects.create(
            app=app,
            kind=kind,
            target=target,
            branch=branch,
            events=chosen,
            secret_sealed=seal(_SEALED_AS, secret) if secret else "",
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _audit(actor, "notification.create", subscription)
    return Saved(subscription, secret)


def subscription_update(
    *, actor: Any, subscription: Subscription, target: str, branch: Branch | None, events: list[str]
) -> Subscription:
    """Change where, which branch and which events; a webhook keeps its secret."""
    if branch is not None and branch.app_id != subscription.app_id:
        raise ValidationError({"branch": "That branch is not this app's."})
    target = validate_target(subscription.kind, target)
    chosen = _validate_events(events)
    with transaction.atomic():
        subscription.target, subscription.branch, subscription.events = target, branch, chosen
        subscription.save(update_fields=["target", "branch", "events", "updated_at"])
        _audit(actor, "notification.update", subscription)
    return subscription


def subscription_delete(*, actor: Any, subscription: Subscription) -> None:
    with transaction.atomic():
        _audit(actor, "notification.delete", subscription)
        subscription.delete()


@sensitive_variables("secret")
def secret_rotate(*, actor: Any, subscription: Subscription) -> str:
    """A new signing secret for a webhook (returned to show once); the old one stops working."""
    if not subscription.is_webhook:
        raise ValidationError("Only webhooks have a signing secret.")
    secret = _new_secret()
    with transaction.atomic():
        subscription.secret_sealed = seal(_SEALED_AS, secret)
        subscription.save(update_fields=["secret_sealed", "updated_at"])
        _audit(actor, "notification.rotate_secret", subscription, message=f"New signing secret for {subscription}")
    return secret


def _queue(delivery: Delivery) -> None:
    send_on_commit(DELIVER_TASK, delivery.pk)


def notify_job_event(job_pk: int, event: JobEvent) -> None:
    """A delivery for each subscription of the job's app that wants this event of its branch
    (a listener of builds: runs in the transaction that changed the job)."""
    job = Job.objects.select_related("branch").filter(pk=job_pk).first()
    if job is None:
        return
    wanted = Subscription.objects.filter(app_id=job.branch.app_id).filter(Q(branch__isnull=True) | Q(branch_id=job.branch_id))
    for subscription in wanted:
        if str(event) in subscription.events:
            _queue(Delivery.objects.create(subscription=subscription, event=str(event), job=job))


def delivery_redeliver(*, actor: Any, delivery: Delivery) -> Delivery:
    """Send the same event again, as a new delivery (the old one stays in the list)."""
    if delivery.status == Delivery.Status.PENDING:
        raise ValidationError("This delivery is still being tried.")
    with transaction.atomic():
        again = Delivery.objects.create(subscription=delivery.subscription, event=delivery.event, job=delivery.job)
        audit_record(
            actor=actor,
            action="notification.redeliver",
            target_type="notification",
            target=f"{delivery.subscription.app.app_id}/{delivery.subscription_id}",
            message=f"Redelivery of delivery {delivery.pk} ({delivery.event} of job #{delivery.job.job_id}) as {again.pk}",
        )
        _queue(again)
    return again
