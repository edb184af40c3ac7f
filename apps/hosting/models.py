"""Hosting: the deployed files each branch serves (one deployment live at a time).

The tables keep the names they had under `branches` (db_table)."""

from __future__ import annotations

from django.db import models

from apps.branches.models import Branch


class Deployment(models.Model):
    """The hosted files of one successful build; a branch serves exactly one at a time."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="deployments")
    # By name: builds deploy here, so hosting imports nothing of builds (the job made it).
    job = models.OneToOneField("builds.Job", on_delete=models.CASCADE, related_name="deployment")
    file_count = models.PositiveIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "branches_deployment"

    def __str__(self) -> str:
        return f"{self.branch} deployment of job {self.job_id}"


class DeployedFile(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    content_type = models.CharField(max_length=128)
    size = models.BigIntegerField()
    content = models.BinaryField()

    class Meta:
        db_table = "branches_deployedfile"
        constraints = [models.UniqueConstraint(fields=["deployment", "path"], name="deployed_file_unique_path")]

    def __str__(self) -> str:
        return self.path
