from __future__ import annotations

from django.conf import settings
from django.db import models
from django.template.defaultfilters import pluralize

from apps.branches.models import OutputsDocumentField
from console.progress import ProgressTask


class SchemaUpload(models.Model):
    """An amplify_outputs.json an operator uploaded for a branch whose builds have
    not captured one (validated before it is kept)."""

    branch = models.OneToOneField("branches.Branch", on_delete=models.CASCADE, related_name="schema_upload")
    document = OutputsDocumentField()
    file_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"outputs of {self.branch}"


class DataTask(ProgressTask):
    """A long seed or import, run by a worker; the page shows its progress."""

    class Kind(models.TextChoices):
        SEED = "SEED", "Seed"
        IMPORT = "IMPORT", "Import"

    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Not started"  # an uploaded CSV awaiting its column mapping
        PENDING = "PENDING", "Waiting"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Done"
        FAILED = "FAILED", "Failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="data_tasks")
    model_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    refused = models.PositiveIntegerField(default=0)

    class Meta(ProgressTask.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.refused) / self.total) if self.total else 0

    @property
    def progress_text(self) -> str:
        refused = f", {self.refused} refused" if self.refused else ""
        return f"{self.done} written{refused} of {self.total}"

    @property
    def retry_text(self) -> str:
        attempt = f" (attempt {self.attempts + 1})" if self.attempts > 1 else ""
        return f"Continues after the {self.resume_at} record{pluralize(self.resume_at)} already handled{attempt}."


class GridPreference(models.Model):
    """How one person lays out one model's grid: hidden columns, widths, and string fields
    they marked as holding storage paths. It changes no data, so anyone signed in keeps their own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey("branches.Branch", on_delete=models.CASCADE, related_name="+")
    model_name = models.CharField(max_length=255)
    hidden = models.JSONField(default=list)
    widths = models.JSONField(default=dict)
    file_fields = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "branch", "model_name"], name="one_grid_preference")]

    def __str__(self) -> str:
        return f"{self.model_name} grid of {self.user_id}"
