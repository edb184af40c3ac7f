"""What the console last read from outside (a repository's branches, a branch's stack),
kept so that pages show it, with its age, instead of calling a remote that may hang."""

from __future__ import annotations

from django.db import models


class RemoteRead(models.Model):
    value = models.JSONField(null=True, blank=True)  # None: never read, or the thing does not exist
    error = models.TextField(blank=True)  # why the last read failed ("" when it worked)
    read_at = models.DateTimeField(null=True, blank=True)
    # When a page last asked a worker for a new read: at most one is asked per cool-down.
    requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class RepositoryHeads(RemoteRead):
    """{branch: head commit} of the app's repository (git ls-remote)."""

    app = models.OneToOneField("branches.App", on_delete=models.CASCADE, related_name="heads_read")

    def __str__(self) -> str:
        return f"branches of {self.app_id}'s repository"


class StackRead(RemoteRead):
    """The branch's backend stack as DescribeStacks told it (console.cloudformation.Stack)."""

    branch = models.OneToOneField("branches.Branch", on_delete=models.CASCADE, related_name="stack_read")

    def __str__(self) -> str:
        return f"stack of branch {self.branch_id}"
