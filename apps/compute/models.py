"""Compute: the server part of a deployment (Amplify's WEB_COMPUTE platform).

A deployment whose build followed Amplify's deployment specification (or was a
Next.js app, adapted to it) has a ComputeDeployment: its routes and the bundle the
server runs from. Each machine's supervisor (`manage.py hostd`) reports the state
of the servers it runs (ComputeServer) and their output (ComputeLogLine), so the
branch page shows them whichever machine served the traffic.
"""

from __future__ import annotations

from django.db import models

from apps.branches.models import Branch


class ComputeDeployment(models.Model):
    deployment = models.OneToOneField("hosting.Deployment", on_delete=models.CASCADE, related_name="compute")
    # The validated deploy-manifest.json (routes, computeResources, framework).
    manifest = models.JSONField()
    # The compute resource's folder as a tar.gz in the hosting bucket (compute-bundles/<sha256>.tar.gz).
    bundle_sha256 = models.CharField(max_length=64, db_index=True)
    bundle_bytes = models.BigIntegerField(default=0)
    runtime = models.CharField(max_length=32)
    entrypoint = models.CharField(max_length=1024)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"compute of {self.deployment}"


class ComputeServer(models.Model):
    """The server of one deployment on one machine, as its supervisor last saw it."""

    class State(models.TextChoices):
        STARTING = "STARTING"
        RUNNING = "RUNNING"
        STOPPED = "STOPPED"  # idle, replaced, or the supervisor stopped
        CRASHED = "CRASHED"  # exited on its own; restarted after a backoff while it has traffic
        FAILED = "FAILED"  # could not be started at all (bundle, sandbox)

    deployment = models.ForeignKey(ComputeDeployment, on_delete=models.CASCADE, related_name="servers")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="compute_servers")
    host = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTING)
    port = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=255, blank=True)
    restarts = models.PositiveIntegerField(default=0)
    last_exit_code = models.IntegerField(null=True, blank=True)
    # The last lines the server printed before it crashed or failed (masked).
    last_output = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "host"], name="compute_server_per_host")]

    def __str__(self) -> str:
        return f"{self.deployment} on {self.host}: {self.state}"


class ComputeLogLine(models.Model):
    """One line a branch's server printed (stdout or stderr), secrets masked."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey(ComputeDeployment, null=True, on_delete=models.SET_NULL, related_name="+")
    host = models.CharField(max_length=255)
    time = models.DateTimeField()
    stream = models.CharField(max_length=6)  # stdout, stderr, or "hostd" for the supervisor's own lines
    text = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["branch", "id"], name="compute_log_branch_id")]

    def __str__(self) -> str:
        return f"{self.time} {self.stream}: {self.text[:80]}"
