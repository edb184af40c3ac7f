"""Build notifications: who hears of an app's builds (subscriptions), and each message
sent to them (deliveries)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.branches.models import App, Branch
from apps.builds.models import Job


class Event(models.TextChoices):
    STARTED = "started", "Build started"
    SUCCEEDED = "succeeded", "Build succeeded"
    FAILED = "failed", "Build failed"


class Subscription(models.Model):
    """An email address or an outgoing webhook told of some events of one branch (or all)."""

    class Kind(models.TextChoices):
        EMAIL = "EMAIL", "Email"
        WEBHOOK = "WEBHOOK", "Webhook"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="notification_subscriptions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # An email address, or the webhook's http(s) URL.
    target = models.CharField(max_length=2000)
    # None: every branch of the app.
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    events = models.JSONField(default=list)
    # A webhook's signing secret, sealed (console.sealed); shown once when made or rotated.
    secret_sealed = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "target", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target}"

    @property
    def is_webhook(self) -> bool:
        return self.kind == self.Kind.WEBHOOK

    @property
    def event_labels(self) -> list[str]:
        return [Event(event).label for event in Event.values if event in self.events]


class Delivery(models.Model):
    """One message of one event to one subscription, tried until it succeeds or runs out of tries."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=16, choices=Event.choices)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} of {self.job} to {self.subscription}"
