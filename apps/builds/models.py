"""Builds: jobs, their steps and logs, the build cache, incoming webhooks.

The tables keep the names they had under `branches` (db_table): moving the models here
changed no table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from apps.branches.models import Branch


class Job(models.Model):
    """One build or deploy of a branch. `job_id` counts up per branch, like Amplify's."""

    class Type(models.TextChoices):
        RELEASE = "RELEASE", "Release"
        RETRY = "RETRY", "Retry"
        MANUAL = "MANUAL", "Manual"
        WEB_HOOK = "WEB_HOOK", "Webhook"

    class Status(models.TextChoices):
        CREATED = "CREATED", "Created"
        PENDING = "PENDING", "Pending"
        PROVISIONING = "PROVISIONING", "Provisioning"
        RUNNING = "RUNNING", "Running"
        FAILED = "FAILED", "Failed"
        SUCCEED = "SUCCEED", "Succeeded"
        CANCELLING = "CANCELLING", "Cancelling"
        CANCELLED = "CANCELLED", "Cancelled"
        # An automatic build not run: a skip marker in the commit message, or no changed
        # file under the app's paths (status_reason says which).
        SKIPPED = "SKIPPED", "Skipped"

    ACTIVE = (Status.PROVISIONING, Status.RUNNING, Status.CANCELLING)
    WAITING = (Status.CREATED, Status.PENDING)
    ENDED = (Status.FAILED, Status.SUCCEED, Status.CANCELLED, Status.SKIPPED)

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="jobs")
    job_id = models.PositiveIntegerField()
    job_type = models.CharField(max_length=16, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    # What to build: a commit resolved when the job starts or given by the trigger.
    commit_id = models.CharField(max_length=40, blank=True)
    commit_message = models.TextField(blank=True)
    commit_time = models.DateTimeField(null=True, blank=True)
    triggered_by = models.CharField(max_length=200, blank=True)
    # RETRY re-runs `source_job`'s commit; a redeploy switches hosting to its deployment.
    source_job = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    redeploy = models.BooleanField(default=False)
    # Started by a push, a poll or an incoming webhook: the runner skips it when the commit
    # message carries a skip marker or no changed file is under the app's paths. A build
    # started by hand (page, StartJob, retry) always runs.
    automatic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Set by the worker that claimed it; the reaper fails jobs whose heartbeat stops.
    worker = models.CharField(max_length=255, blank=True)
    process_group = models.IntegerField(null=True, blank=True)
    # process_identity() of the group's leader: the reaper kills the group only while the
    # same process still holds that id, never one that took it over after a restart.
    process_started = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    failed_command = models.TextField(blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    log_size = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "branches_job"
        ordering = ["-job_id"]
        constraints = [models.UniqueConstraint(fields=["branch", "job_id"], name="job_id_unique_per_branch")]
        indexes = [models.Index(fields=["branch", "status", "job_id"])]

    def __str__(self) -> str:
        return f"{self.branch} #{self.job_id}"

    @property
    def padded_id(self) -> str:
        return f"{self.job_id:010d}"

    @property
    def is_ended(self) -> bool:
        return self.status in self.ENDED

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.ended_at or timezone.now()) - self.started_at).total_seconds()


class JobStep(models.Model):
    class Name(models.TextChoices):
        BUILD = "BUILD", "Build"
        DEPLOY = "DEPLOY", "Deploy"
        VERIFY = "VERIFY", "Verify"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=8, choices=Name.choices)
    status = models.CharField(max_length=16, choices=Job.Status.choices, default=Job.Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The first log chunk written after the step started: a step's log runs from its
    # chunk to the next started step's (the API serves each step's log on its own).
    first_log_seq = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "branches_jobstep"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="step_unique_per_job")]

    def __str__(self) -> str:
        return f"{self.job} {self.name}"


class LogChunk(models.Model):
    """A piece of a job's log, in order; the job page polls for chunks after the last seen."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_chunks")
    seq = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "branches_logchunk"
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="log_chunk_unique_seq")]

    def __str__(self) -> str:
        return f"{self.job} log {self.seq}"


class BuildCache(models.Model):
    branch = models.OneToOneField(Branch, on_delete=models.CASCADE, related_name="build_cache")
    # Caches saved before the hosting bucket held them; new ones are in the bucket (blob empty).
    blob = models.BinaryField(blank=True, default=b"")
    in_bucket = models.BooleanField(default=False)
    size = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "branches_buildcache"

    def __str__(self) -> str:
        return f"cache of {self.branch}"


class Webhook(models.Model):
    """An incoming webhook: POST .../webhooks?id=<webhook_id>&token=<token>&operation=startbuild."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="webhooks")
    webhook_id = models.CharField(max_length=36, unique=True)
    name = models.CharField(max_length=100)
    token = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    last_triggered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "branches_webhook"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def trigger_path(self) -> str:
        """Where to POST to start a build (the page adds scheme and host)."""
        return f"{reverse('webhook_trigger')}?id={self.webhook_id}&token={self.token}&operation=startbuild"
