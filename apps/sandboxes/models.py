"""The sandbox inventory, kept in the database so the page renders at once and a
sandbox's history (first seen, deleted when and by whom) outlives its stack."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from console.progress import ProgressTask


class Sandbox(models.Model):
    class Status(models.TextChoices):
        # The toolchain's mapping of CloudFormation statuses (see console.stack_status).
        DEPLOYED = "DEPLOYED", "Deployed"
        DEPLOYING = "DEPLOYING", "Deploying"
        FAILED = "FAILED", "Failed"
        DELETING = "DELETING", "Deleting"
        DELETED = "DELETED", "Deleted"
        UNKNOWN = "UNKNOWN", "Unknown"

    # A stack id (ARN) names one stack for ever: a sandbox deployed again after a
    # delete is a new stack, and a new row, so the old row keeps its history.
    stack_id = models.CharField(max_length=512, unique=True)
    stack_name = models.CharField(max_length=128, db_index=True)
    region = models.CharField(max_length=32)
    namespace = models.CharField(max_length=128, db_index=True)  # sanitized package.json name
    identifier = models.CharField(max_length=64, db_index=True)  # the owner: OS user or --identifier
    backend_hash = models.CharField(max_length=10)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    stack_status = models.CharField(max_length=64)
    status_reason = models.CharField(max_length=1000, blank=True)
    created_time = models.DateTimeField(null=True)
    last_updated = models.DateTimeField(null=True, db_index=True)
    resource_count = models.PositiveIntegerField(null=True)
    secret_count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deleted_by_name = models.CharField(max_length=150, blank=True)  # "" = gone outside the console

    class Meta:
        ordering = ["-last_updated", "stack_name"]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self) -> str:
        return f"{self.stack_name} ({self.region})"

    @property
    def is_gone(self) -> bool:
        return self.status == self.Status.DELETED

    @property
    def deletion_status(self) -> str:
        """Its deletion's status, "" when none was asked for."""
        deletion = getattr(self, "deletion", None)  # the reverse one-to-one raises AttributeError when absent
        return deletion.status if deletion is not None else ""

    @property
    def deletion_active(self) -> bool:
        return self.deletion_status in SandboxDeletion.ACTIVE

    def idle_days(self, now: datetime | None = None) -> int | None:
        if self.last_updated is None:
            return None
        return max(0, ((now or timezone.now()) - self.last_updated).days)

    def is_stale(self, stale_after_days: int, now: datetime | None = None) -> bool:
        idle = self.idle_days(now)
        return not self.is_gone and idle is not None and idle >= stale_after_days

    def age_bucket(self, policy: InventorySettings, now: datetime | None = None) -> str:
        """The sandbox's age bucket: "fresh", "idle" or "stale" (see InventorySettings.fresh_days);
        "unknown" without a last update. The database's form of the same rule: selectors.age_bucket_filters."""
        idle = self.idle_days(now)
        if idle is None:
            return "unknown"
        if self.is_stale(policy.stale_after_days, now):
            return "stale"
        return "fresh" if idle < policy.fresh_days else "idle"


class SandboxDeletion(ProgressTask):
    """Deleting a sandbox's stack (and, if asked, its secrets): asked for on the page, the
    CLI or by the retention policy, carried out by a worker that follows CloudFormation to
    DELETE_COMPLETE or DELETE_FAILED. One per sandbox: asking again after a failure starts
    it anew. A progress task (console.progress), except that a stalled one is handed to
    another worker rather than failed: CloudFormation goes on deleting when a worker dies."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Delete requested"
        RUNNING = "RUNNING", "Deleting"
        SUCCEEDED = "SUCCEEDED", "Deleted"
        FAILED = "FAILED", "Delete failed"

    ACTIVE = (Status.PENDING, Status.RUNNING)

    sandbox = models.OneToOneField(Sandbox, on_delete=models.CASCADE, related_name="deletion")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    with_secrets = models.BooleanField(default=False)
    # Who asked (created_by, or the policy or command line by name); they become the
    # sandbox's deleted_by only once the stack is really gone.
    requested_by_name = models.CharField(max_length=150, blank=True)

    class Meta(ProgressTask.Meta):
        pass

    def __str__(self) -> str:
        return f"deletion of {self.sandbox_id} ({self.status})"

    @property
    def progress_text(self) -> str:
        return self.get_status_display()


class InventorySettings(models.Model):
    """One row: how stale is stale, and the optional retention policy (off by default)."""

    stale_after_days = models.PositiveSmallIntegerField(default=14)
    retention_enabled = models.BooleanField(default=False)
    retention_days = models.PositiveSmallIntegerField(default=30)
    retention_with_secrets = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"stale after {self.stale_after_days} days"

    @classmethod
    def load(cls) -> InventorySettings:
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row

    def stale_before(self, now: datetime | None = None) -> datetime:
        return (now or timezone.now()) - timedelta(days=self.stale_after_days)

    @property
    def fresh_days(self) -> int:
        """A live sandbox updated fewer days ago than this is fresh; from then until it turns
        stale, idle. Half the stale period (at least a day), so the split follows the one setting."""
        return max(1, self.stale_after_days // 2)

    def fresh_after(self, now: datetime | None = None) -> datetime:
        return (now or timezone.now()) - timedelta(days=self.fresh_days)

    def retention_before(self, now: datetime | None = None) -> datetime:
        return (now or timezone.now()) - timedelta(days=self.retention_days)


class RegionScan(models.Model):
    """The last refresh of one region: when, how many, and the error if it failed."""

    region = models.CharField(max_length=32, unique=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    succeeded_at = models.DateTimeField(null=True)
    sandboxes = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["region"]

    def __str__(self) -> str:
        return self.region
