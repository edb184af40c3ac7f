"""Sending one delivery: the message of an event, signed webhooks and mail.

A webhook goes to the addresses checked just before sending (never re-resolved by the
HTTP client), with a short timeout, and redirects are not followed. The outcome says
whether trying again may help (transient) or not (permanent)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.views.decorators.debug import sensitive_variables

from apps.builds.models import Job
from apps.builds.selectors import job_url
from apps.notifications.models import Event, Subscription
from apps.notifications.targets import checked_addresses
from console.outbound import exchange, is_transient

SIGNATURE_HEADER = "X-Console-Signature"
TIMESTAMP_HEADER = "X-Console-Timestamp"
EVENT_HEADER = "X-Console-Event"
DELIVERY_HEADER = "X-Console-Delivery"
_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_code: int | None = None
    error: str = ""
    transient: bool = False


def summary(job: Job, event: str) -> str:
    """One line: "Build failed: Shop / main #3 (commit 1a2b3c4d5e6f)"."""
    commit = f" (commit {job.commit_id[:12]})" if job.commit_id else ""
    return f"{Event(event).label}: {job.branch.app.name} / {job.branch.name} #{job.job_id}{commit}"


def payload(job: Job, event: str, delivery_pk: int) -> dict[str, Any]:
    """The webhook body: Slack's `text` (a link to the job) and the same facts as fields."""
    url = job_url(job)
    text = f"{summary(job, event)} <{url}|View job>"
    if event == Event.FAILED and job.status_reason:
        text += f"\n{job.status_reason}"
    return {
        "text": text,
        "event": event,
        "delivery_id": delivery_pk,
        "app": {"id": job.branch.app.app_id, "name": job.branch.app.name},
        "branch": job.branch.name,
        "job_id": job.job_id,
        "status": job.status,
        "job_url": url,
        "commit": {"id": job.commit_id, "message": job.commit_message},
        "reason": job.status_reason,
    }


@sensitive_variables("secret")
def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@sensitive_variables("secret", "headers")
def send_webhook(subscription: Subscription, secret: str, body: bytes, *, event: str, delivery_pk: int) -> Outcome:
    try:
        addresses = checked_addresses(subscription.target)
    except ValidationError as error:
        return Outcome(ok=False, error=" ".join(error.messages))
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "amplify-console-notifications",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_pk),
    }
    try:
        reply = exchange(
            "POST", subscription.target, addresses[0], headers=headers, body=body, timeout=settings.NOTIFICATIONS_TIMEOUT_SECONDS
        )
    except (OSError, http.client.HTTPException) as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:_ERROR_LIMIT], transient=True)
    code, location = reply.status, reply.location
    if 200 <= code < 300:
        return Outcome(ok=True, response_code=code)
    if 300 <= code < 400:
        return Outcome(
            ok=False, response_code=code, error=f"Redirect to {location or '(no Location)'} not followed."[:_ERROR_LIMIT]
        )
    return Outcome(ok=False, response_code=code, error=f"The receiver answered HTTP {code}.", transient=is_transient(code))


def send_email(subscription: Subscription, job: Job, event: str) -> Outcome:
    lines = [summary(job, event), "", f"App: {job.branch.app.name} ({job.branch.app.app_id})", f"Branch: {job.branch.name}"]
    lines += [f"Job: #{job.job_id} ({job.get_status_display()})", f"Commit: {job.commit_id or 'not known yet'}"]
    if job.status_reason:
        lines.append(f"Reason: {job.status_reason}")
    if job.failed_command:
        lines.append(
            f"Failed command: {job.failed_command}" + (f" (exit code {job.exit_code})" if job.exit_code is not None else "")
        )
    lines += ["", f"View the job: {job_url(job)}"]
    message = EmailMessage(
        subject=f"[{job.branch.app.name}] {summary(job, event)}", body="\n".join(lines), to=[subscription.target]
    )
    try:
        message.send()
    except (OSError, ValueError) as error:  # smtplib's errors are OSErrors
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:_ERROR_LIMIT], transient=True)
    return Outcome(ok=True)


def body_of(job: Job, event: str, delivery_pk: int) -> bytes:
    return json.dumps(payload(job, event, delivery_pk), separators=(",", ":")).encode()
