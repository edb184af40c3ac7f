from __future__ import annotations

from django.conf import settings
from django.db import models


class AccessKey(models.Model):
    """An access key pair for the Amplify-compatible API, acting as its console user.

    The secret is kept encrypted (apps.amplify_api.keys): SigV4 verification needs it
    back, unlike a password, whose hash would do."""

    access_key_id = models.CharField(max_length=20, unique=True)
    secret_encrypted = models.TextField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_access_keys")
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ResourceTag(models.Model):
    """A tag of an app (branch null) or of a branch, set through the API (tags on CreateApp and
    CreateBranch, TagResource, UntagResource) and listed by ListTagsForResource, GetApp and GetBranch."""

    app = models.ForeignKey("branches.App", on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey("branches.Branch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=256, blank=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["app", "key"], condition=models.Q(branch__isnull=True), name="app_tag_key_unique"),
            models.UniqueConstraint(fields=["branch", "key"], name="branch_tag_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
