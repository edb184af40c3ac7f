"""Git operations: deliveries from git hosts and polls, and teardowns of previews and
disconnected branches. The tables keep the names they had under `branches` (db_table)."""

from __future__ import annotations

from django.db import models

from apps.branches.models import App
from console.progress import ProgressTask


class GitDelivery(models.Model):
    """One accepted git-host webhook delivery (or poll finding), and what came of it."""

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"
        POLL = "poll", "Poll"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="git_deliveries")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    delivery_id = models.CharField(max_length=100)
    event = models.CharField(max_length=64)
    outcome = models.CharField(max_length=500)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "branches_gitdelivery"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "provider", "delivery_id"], name="git_delivery_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event} {self.delivery_id}"


class Teardown(ProgressTask):
    """Removing a preview or a disconnected branch: jobs, hosted files, stack, branch.

    Kept after it ends so a failure stays visible (with CloudFormation's reason)
    and can be retried (every step again: each is safe to repeat); never silently left
    behind. A progress task (console.progress) like data and storage tasks: `done` of
    `total` counts its steps.
    """

    class Kind(models.TextChoices):
        PREVIEW = "PREVIEW", "Pull request closed"
        DISCONNECT = "DISCONNECT", "Branch deleted in git"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        RUNNING = "RUNNING", "Running"
        FAILED = "FAILED", "Failed"
        SUCCEEDED = "SUCCEEDED", "Succeeded"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="teardowns")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    branch_name = models.CharField(max_length=255)
    stack_name = models.CharField(max_length=128)
    delete_stack = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # CloudFormation's reasons can be long: text, in the column it always had.
    error = models.TextField(blank=True, db_column="reason")
    # The steps finished so far, in order (each is safe to repeat on a retry).
    steps_done = models.JSONField(default=list, blank=True)
    # Every step is safe to repeat: a failed teardown may always be retried.
    retryable = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(ProgressTask.Meta):
        db_table = "branches_teardown"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"teardown of {self.branch_name} ({self.status})"

    @property
    def progress_text(self) -> str:
        return f"{self.done} of {self.total} steps done"

    @property
    def retry_text(self) -> str:
        return "Runs every step again (each is safe to repeat)."
