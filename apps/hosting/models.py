"""Hosting: what each branch serves and how.

Deployments are manifests (path -> content hash); the bytes live in the hosting
bucket (store.py). Per app: rewrite and redirect rules, custom headers, password
protection (app-wide or per branch), custom domains; and the access log of every
hosted request. The two first tables keep the names they had under `branches`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.branches.models import App, Branch


class Deployment(models.Model):
    """The hosted files of one successful build; a branch serves exactly one at a time."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="deployments")
    # By name: builds deploy here, so hosting imports nothing of builds (the job made it).
    job = models.OneToOneField("builds.Job", on_delete=models.CASCADE, related_name="deployment")
    file_count = models.PositiveIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    # customHttp.yml of the build's repository, if it had one: it wins over the app's setting.
    custom_headers = models.TextField(blank=True)
    # False while its objects are being uploaded (and for ever if that build died): never served.
    complete = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the branch last started serving it (Last-Modified): a redeploy moves it on.
    live_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "branches_deployment"

    def __str__(self) -> str:
        return f"{self.branch} deployment of job {self.job_id}"


class DeployedFile(models.Model):
    """One path of a deployment's manifest; its bytes are the bucket's object for `sha256`."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    content_type = models.CharField(max_length=128)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # Pre-compressed variants stored next to it: "br", "gzip" (comma-separated).
    encodings = models.CharField(max_length=16, blank=True)
    # Only deployments made before the hosting bucket still hold bytes here, until
    # `manage.py hosting_move_to_bucket` moves them (it empties this column).
    content = models.BinaryField(null=True, blank=True)

    class Meta:
        db_table = "branches_deployedfile"
        constraints = [models.UniqueConstraint(fields=["deployment", "path"], name="deployed_file_unique_path")]

    def __str__(self) -> str:
        return self.path


class StoreLock(models.Model):
    """One row, updated to serialise two things: a publish writing its manifest, and the
    collector deleting objects it found unreferenced (retention.py explains why)."""

    touched_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "hosting store lock"


class SiteSettings(models.Model):
    """How an app's branches are served: rules and headers, changed without a rebuild."""

    app = models.OneToOneField(App, on_delete=models.CASCADE, related_name="site_settings")
    # Amplify's customRules: [{"source", "target", "status", "condition"?}], in order.
    custom_rules = models.JSONField(default=list, blank=True)
    # Amplify's customHeaders YAML, as the user wrote it.
    custom_headers = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"site settings of {self.app}"


class BasicAuth(models.Model):
    """Password protection of an app's branches (branch None) or of one branch, which wins."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="basic_auths")
    branch = models.OneToOneField(Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="basic_auth")
    enabled = models.BooleanField(default=False)
    username = models.CharField(max_length=255, blank=True)
    password_hash = models.CharField(max_length=256, blank=True)  # django.contrib.auth.hashers
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app"], condition=Q(branch__isnull=True), name="basic_auth_one_per_app"),
        ]

    def __str__(self) -> str:
        return f"basic auth of {self.branch or self.app}"


class DomainAssociation(models.Model):
    """A custom domain of an app: its subdomain prefixes name the branches they serve."""

    class Status(models.TextChoices):
        PENDING_VERIFICATION = "PENDING_VERIFICATION"
        AVAILABLE = "AVAILABLE"
        FAILED = "FAILED"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="domains")
    domain_name = models.CharField(max_length=253, unique=True)
    enable_auto_sub_domain = models.BooleanField(default=False)
    auto_sub_domain_patterns = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING_VERIFICATION)
    status_reason = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.domain_name


class SubDomain(models.Model):
    """`prefix.domain` (prefix "" is the apex) serves `branch`."""

    domain = models.ForeignKey(DomainAssociation, on_delete=models.CASCADE, related_name="sub_domains")
    prefix = models.CharField(max_length=63, blank=True)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="sub_domains")
    # The last DNS look-up found the name pointing at the console.
    dns_verified = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "prefix"], name="sub_domain_unique_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix}.{self.domain}" if self.prefix else str(self.domain)


class AccessLogEntry(models.Model):
    """One hosted request, written in batches after the response (access_log.py)."""

    time = models.DateTimeField()
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, null=True, on_delete=models.SET_NULL, related_name="+")
    branch_name = models.CharField(max_length=255)  # kept when the branch is gone
    method = models.CharField(max_length=8)
    host = models.CharField(max_length=255)
    path = models.CharField(max_length=2048)
    status = models.PositiveSmallIntegerField()
    bytes_sent = models.BigIntegerField(default=0)
    duration_ms = models.FloatField(default=0)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["app", "time"], name="access_log_app_time"),
            models.Index(fields=["branch", "time"], name="access_log_branch_time"),
            models.Index(fields=["time"], name="access_log_time"),
        ]

    def __str__(self) -> str:
        return f"{self.time} {self.method} {self.host}{self.path} {self.status}"
