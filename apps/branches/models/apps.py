from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.branches.fields import OutputsDocumentField
from apps.branches.git import GitCredentials
from apps.branches.validators import validate_node_version
from console.amplify_names import branch_stack_name
from console.sealed import seal, unseal

_CREDENTIALS_SEALED_AS = "repository-credentials"
# The kinds of resource Branch.backend_outputs_unowned lists.
BUCKET, USER_POOL = "bucket", "user pool"
# No build runs longer than 8 hours, whatever an admin sets.
BUILD_TIMEOUT_LIMIT_MINUTES = 480


class App(models.Model):
    class ForkPreviews(models.TextChoices):
        # As GitHub treats workflows from forks: untrusted code gets nothing unless an admin says so.
        OFF = "OFF", "Off: pull requests from forks get no preview"
        WITHOUT_SECRETS = "WITHOUT_SECRETS", "Build without secrets and without the service role"
        WITH_SECRETS = "WITH_SECRETS", "Build with secrets and the service role"

    class Platform(models.TextChoices):
        WEB = "WEB", "Static web (WEB)"
        WEB_COMPUTE = "WEB_COMPUTE", "Server-side rendered (WEB_COMPUTE)"
        WEB_DYNAMIC = "WEB_DYNAMIC", "Dynamic (WEB_DYNAMIC)"

    app_id = models.CharField(max_length=14, unique=True)
    name = models.CharField(max_length=255)
    description = models.CharField(max_length=1000, blank=True)
    # Never with credentials: those of an https URL (user:token@) are kept sealed apart.
    repository = models.CharField(max_length=1000)
    repository_credentials_sealed = models.TextField(blank=True)
    production_branch = models.CharField(max_length=255)
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.WEB)
    build_spec = models.TextField(blank=True, help_text="amplify.yml; the repository's own file wins over it.")
    # The default of enable_auto_build for branches connected later (Amplify's enableBranchAutoBuild).
    enable_branch_auto_build = models.BooleanField(default=True)
    # The sandbox namespace (package.json "name") that ties sandboxes to this app.
    package_name = models.CharField(max_length=214, blank=True)
    # Branch auto-detection and auto-disconnection (poll and git-host webhooks).
    auto_detect_branches = models.BooleanField(default=False)
    auto_detect_patterns = models.CharField(max_length=1000, blank=True, help_text="Comma-separated globs; !pattern excludes.")
    auto_detect_stage = models.CharField(max_length=16, default="DEVELOPMENT")
    auto_disconnect = models.BooleanField(default=False)
    delete_backend_on_disconnect = models.BooleanField(default=False)
    # Shared secret of the GitHub (HMAC) and GitLab (token) webhooks.
    git_webhook_secret = models.CharField(max_length=128, blank=True)
    pr_build_drafts = models.BooleanField(default=False)
    fork_previews = models.CharField(max_length=16, choices=ForkPreviews.choices, default=ForkPreviews.OFF)
    # The IAM role builds assume (Amplify's iamServiceRoleArn); blank: builds get no AWS credentials.
    service_role_arn = models.CharField(max_length=2048, blank=True)
    # Builds reach the network (package registries) unless this is off; the console's
    # own addresses and the metadata service are never reachable either way.
    build_network = models.BooleanField(default=True)
    # The longest a build may run, whatever `_BUILD_TIMEOUT` a build spec (a pull request's
    # code) asks for: only an admin raises it.
    build_timeout_cap_minutes = models.PositiveSmallIntegerField(
        default=120, validators=[MinValueValidator(1), MaxValueValidator(BUILD_TIMEOUT_LIMIT_MINUTES)]
    )
    # Globs of repository paths (apps.branches.pathfilters): an automatic build whose changed
    # files all fall outside them is skipped. Blank: build on every change.
    build_path_filters = models.TextField(blank=True)
    # The Node.js major of builds (apps.builds.nodejs) unless the branch or the spec names one; blank: the worker's default.
    node_version = models.CharField(max_length=3, blank=True, validators=[validate_node_version])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "app_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.app_id})"

    @property
    def default_domain(self) -> str:
        return f"{self.app_id}.{settings.HOSTING_DOMAIN}"

    @property
    def git_credentials(self) -> GitCredentials | None:
        """What git must present to read the repository (None: nothing, or unreadable after
        a SECRET_KEY rotation: enter the URL with its credentials again)."""
        if not self.repository_credentials_sealed:
            return None
        opened = unseal(_CREDENTIALS_SEALED_AS, self.repository_credentials_sealed)
        if opened is None:
            return None
        username, _, password = opened.partition("\n")
        return GitCredentials(username, password)

    def keep_git_credentials(self, credentials: GitCredentials | None) -> None:
        self.repository_credentials_sealed = (
            seal(_CREDENTIALS_SEALED_AS, f"{credentials.username}\n{credentials.password}") if credentials else ""
        )


_NOT_HOSTNAME = re.compile(r"[^a-z0-9]+")


class Branch(models.Model):
    class Stage(models.TextChoices):
        PRODUCTION = "PRODUCTION", "Production"
        BETA = "BETA", "Beta"
        DEVELOPMENT = "DEVELOPMENT", "Development"
        EXPERIMENTAL = "EXPERIMENTAL", "Experimental"
        PULL_REQUEST = "PULL_REQUEST", "Pull request"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="branches")
    name = models.CharField(max_length=255, help_text="The git branch name.")
    # URL-safe and unique per app: `/` becomes `-`, collisions get a suffix.
    display_name = models.CharField(max_length=255)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.DEVELOPMENT)
    enable_auto_build = models.BooleanField(default=True)
    # The Node.js major of this branch's builds unless the spec names one (an nvm line); blank: the app's.
    node_version = models.CharField(max_length=3, blank=True, validators=[validate_node_version])
    # The deployment served at the branch URL: switching it is one UPDATE.
    live_deployment = models.ForeignKey("hosting.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # amplify_outputs.json of the last build that wrote one (validated).
    backend_outputs = OutputsDocumentField(null=True, blank=True)
    backend_outputs_job = models.ForeignKey("builds.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Resources backend_outputs names that the branch's own stack does not own, found when a
    # build captured them ({kind, name, reason}): the console refuses to act on them.
    backend_outputs_unowned = models.JSONField(default=list, blank=True)
    next_job_id = models.PositiveIntegerField(default=1)
    # The head commit last acted on: the poll and webhooks see a push once.
    last_seen_commit = models.CharField(max_length=40, blank=True)
    # Pull-request previews of PRs targeting this branch.
    pr_previews_enabled = models.BooleanField(default=False)
    pr_shared_backend = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Previews use this branch's backend instead of deploying their own.",
    )
    # Set on preview branches (pr-<N>) only.
    pull_request_number = models.PositiveIntegerField(null=True, blank=True)
    pr_source_branch = models.CharField(max_length=255, blank=True)
    pr_destination_branch = models.CharField(max_length=255, blank=True)
    # The pull request's head lives in another repository: its code is untrusted.
    pr_from_fork = models.BooleanField(default=False)
    description = models.CharField(max_length=1000, blank=True)
    # Set through the Amplify-compatible API (UpdateBranch), as ampx's branch linker does.
    backend_stack_arn = models.CharField(max_length=1000, blank=True)
    framework = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="branch_unique_name_per_app"),
            models.UniqueConstraint(fields=["app", "display_name"], name="branch_unique_display_name_per_app"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def backend_stack_name(self) -> str:
        return branch_stack_name(self.app.app_id, self.name)

    @property
    def hostname_label(self) -> str:
        # DNS labels are [a-z0-9-], at most 63 characters, no dash at the ends.
        label = _NOT_HOSTNAME.sub("-", self.display_name.lower()).strip("-")
        return label[:63].rstrip("-") or "branch"

    @property
    def url(self) -> str:
        return f"{settings.HOSTING_SCHEME}://{self.hostname_label}.{self.app.default_domain}/"

    @property
    def arn(self) -> str:
        return f"arn:aws:amplify:{settings.AWS_REGION}:000000000000:apps/{self.app.app_id}/branches/{self.name}"


class EnvironmentVariable(models.Model):
    """An app-level variable (branch is null) or a branch override."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="environment_variables")
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="environment_variables")
    name = models.CharField(max_length=255)
    value = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], condition=Q(branch__isnull=True), name="envvar_unique_app_level"),
            models.UniqueConstraint(
                fields=["branch", "name"], condition=Q(branch__isnull=False), name="envvar_unique_per_branch"
            ),
        ]

    def __str__(self) -> str:
        return self.name
