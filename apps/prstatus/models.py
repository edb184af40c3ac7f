"""Deploy status on pull requests: where an app reports (its git host's API and a sealed
token), what each pull request should show (its commit status and one comment), and every
call made to say so."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.branches.models import App


class Provider(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"


DEFAULT_API_URLS = {Provider.GITHUB: "https://api.github.com", Provider.GITLAB: "https://gitlab.com/api/v4"}


class Reporting(models.Model):
    """One app's pull request reporting: the git host's API, the repository, the token."""

    app = models.OneToOneField(App, on_delete=models.CASCADE, related_name="pr_reporting")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    api_url = models.URLField(max_length=500)
    # GitHub: owner/name. GitLab: the project's path (group/sub/project) or numeric id.
    repository = models.CharField(max_length=255)
    # The API token, sealed (console.sealed); never shown again once saved.
    token_sealed = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.repository}"


class State(models.TextChoices):
    """A build's state as the commit status shows it (each provider has its own words)."""

    RUNNING = "running", "Building"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class PullRequest(models.Model):
    """What one pull request should show, and how far the git host has been told.

    Each build event and the close write the wanted status and comment and bump `version`;
    a worker sends what is missing and records the versions it got through, so a retry
    resends only what failed and a newer event supersedes an older one still waiting.
    Kept after the preview is gone: the comment's id is needed to mark it torn down."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="pr_reports")
    number = models.PositiveIntegerField()
    # The wanted commit status: of `sha` (the build's commit), linking to the job's page.
    sha = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, blank=True)
    description = models.CharField(max_length=140, blank=True)
    target_url = models.URLField(max_length=1000, blank=True)
    # The wanted comment (Markdown), and the id of the one posted (a string: GitHub's are big).
    body = models.TextField(blank=True)
    comment_id = models.CharField(max_length=40, blank=True)
    version = models.PositiveIntegerField(default=0)
    status_version = models.PositiveIntegerField(default=0)
    comment_version = models.PositiveIntegerField(default=0)
    # Tries of the current version; a worker holds the report until `lease_until` while it sends.
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The latest failure to reach the git host ("" once a later try got through).
    problem = models.TextField(blank=True)
    problem_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["app", "number"], name="pr_report_unique_number")]

    def __str__(self) -> str:
        return f"#{self.number} of {self.app_id}"

    @property
    def in_sync(self) -> bool:
        return self.status_version == self.comment_version == self.version


class Call(models.Model):
    """One call to the git host's API and its outcome (the token is never part of it)."""

    class Action(models.TextChoices):
        STATUS = "status", "Commit status"
        COMMENT_CREATE = "comment_create", "Comment created"
        COMMENT_UPDATE = "comment_update", "Comment updated"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="pr_calls")
    number = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=1000)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.response_code or self.error[:40]})"

    @property
    def ok(self) -> bool:
        return self.response_code is not None and 200 <= self.response_code < 300
