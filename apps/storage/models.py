from __future__ import annotations

from django.conf import settings
from django.db import models
from django.template.defaultfilters import pluralize

from console.progress import ProgressTask


class ExtraBucket(models.Model):
    """A bucket an admin added to a branch's file browser by name, beside those of its outputs."""

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="extra_buckets")
    name = models.CharField(max_length=63)
    region = models.CharField(max_length=32)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="storage_extra_bucket_unique_per_branch")]

    def __str__(self) -> str:
        return self.name


class StorageTask(ProgressTask):
    """A delete, copy or move of many objects, run by a worker; the page shows its progress.
    Its payload is the selection: {"files": [...], "folders": [...], "dest": "prefix/"}; its
    report {"failures": [[key, reason], ...]} (the first ones)."""

    class Kind(models.TextChoices):
        DELETE = "DELETE", "Delete"
        COPY = "COPY", "Copy"
        MOVE = "MOVE", "Move"

    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="storage_tasks")
    bucket = models.CharField(max_length=63)
    region = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    failed = models.PositiveIntegerField(default=0)

    class Meta(ProgressTask.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in {self.bucket} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return min(100, int(100 * (self.done + self.failed) / self.total)) if self.total else 0

    @property
    def progress_text(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done} of {self.total} object{pluralize(self.total)} done{failed}"

    @property
    def retry_text(self) -> str:
        return f"Continues after the {self.resume_at} object{pluralize(self.resume_at)} already handled."


class PendingUpload(models.Model):
    """A multipart upload the console started and has not completed or aborted yet: one left
    behind (a closed tab, a lost connection) is aborted after STALE_UPLOAD_HOURS, since S3
    keeps, and bills, its parts until then. Only uploads the console started are touched."""

    bucket = models.CharField(max_length=63)
    region = models.CharField(max_length=32)
    key = models.CharField(max_length=1024)
    upload_id = models.CharField(max_length=1024, unique=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.bucket}/{self.key}"
