from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One mutating action: who, what, on which target, when, and how it ended.

    Never holds a secret value: `detail` passes through `console.audit.redact`.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Kept as text so the trail survives the user's deletion.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32)
    # Long enough for any SSM parameter path (1011 characters at most).
    target = models.CharField(max_length=1100)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    message = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target"])]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.target} ({self.outcome})"
