"""Sending one delivery: the message of an event, signed webhooks and mail.

A webhook goes to the addresses checked just before sending (never re-resolved by the
HTTP client), with a short timeout, and redirects are not followed. The outcome says
whether trying again may help (transient) or not (permanent)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from apps.builds.models import Job
from apps.notifications.models import Event, Subscription
from apps.notifications.targets import IPAddress, checked_addresses

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


def job_url(job: Job) -> str:
    path = reverse("job_detail", args=[job.branch.app.app_id, job.branch.display_name, job.job_id])
    return f"{str(settings.CONSOLE_URL).rstrip('/')}{path}"


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


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, address, timeout)
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


@sensitive_variables("secret", "headers")
def send_webhook(subscription: Subscription, secret: str, body: bytes, *, event: str, delivery_pk: int) -> Outcome:
    try:
        addresses = checked_addresses(subscription.target)
    except ValidationError as error:
        return Outcome(ok=False, error=" ".join(error.messages))
    parts = urlsplit(subscription.target)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "amplify-console-notifications",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_pk),
    }
    connection = (_PinnedHTTPS if https else _PinnedHTTP)(host, port, addresses[0], settings.NOTIFICATIONS_TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        code = response.status
        location = response.getheader("Location", "")
        response.read(64 * 1024)
    except (OSError, http.client.HTTPException) as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:_ERROR_LIMIT], transient=True)
    finally:
        connection.close()
    if 200 <= code < 300:
        return Outcome(ok=True, response_code=code)
    if 300 <= code < 400:
        return Outcome(
            ok=False, response_code=code, error=f"Redirect to {location or '(no Location)'} not followed."[:_ERROR_LIMIT]
        )
    transient = code >= 500 or code in (408, 429)
    return Outcome(ok=False, response_code=code, error=f"The receiver answered HTTP {code}.", transient=transient)


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
