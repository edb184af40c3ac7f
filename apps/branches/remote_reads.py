"""What pages know of remotes: the repository's branches and a branch's stack, as a
worker last read them. A page never calls git or CloudFormation itself (a slow or dead
remote would hold its web worker): it shows the last read with its age and, when that
is older than REMOTE_READ_FRESH_SECONDS, asks a worker for a new one, at most once per
cool-down however many people (or keystrokes) ask."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.branches.git import GitError, remote_heads
from apps.branches.models import App, Branch, RepositoryHeads, StackRead
from console.aws_errors import AwsError
from console.cloudformation import Stack, describe_stack
from console.queue import send_on_commit

# A Stack's times, kept as ISO text in the JSON of a StackRead.
_TIMES = ("created", "last_updated")
# However many pages ask, a worker is asked for a new read at most this often.
_COOL_DOWN = timedelta(seconds=10)


@dataclass(frozen=True)
class Snapshot:
    value: Any  # None when never read, or when the thing does not exist
    error: str
    read_at: datetime | None
    refreshing: bool  # a worker was asked for a newer read

    @property
    def never_read(self) -> bool:
        return self.read_at is None


def repository_heads(app: App) -> Snapshot:
    """{branch: commit} of the app's repository as last read; asks for a new read when stale."""
    row, _ = RepositoryHeads.objects.get_or_create(app=app)
    return _snapshot(row, "apps.branches.tasks.read_repository_heads")


def backend_stack(branch: Branch) -> Snapshot:
    """The branch's stack (a console.cloudformation.Stack, or None when there is none) as last read."""
    row, _ = StackRead.objects.get_or_create(branch=branch)
    snapshot = _snapshot(row, "apps.branches.tasks.read_backend_stack")
    value = row.value
    if value is not None:
        value = Stack(**{**value, **{key: _when(value.get(key)) for key in _TIMES}})
    return Snapshot(value, snapshot.error, snapshot.read_at, snapshot.refreshing)


def _snapshot(row: RepositoryHeads | StackRead, reader: str) -> Snapshot:
    """The row as a Snapshot; when stale, `reader` (the task that reads it anew) is queued."""
    now = timezone.now()
    fresh = row.read_at is not None and now - row.read_at < timedelta(seconds=settings.REMOTE_READ_FRESH_SECONDS)
    refreshing = row.requested_at is not None and (row.read_at is None or row.requested_at > row.read_at)
    if not fresh:
        # One conditional UPDATE: of many pages asking at once, one asks the worker.
        asked = type(row).objects.filter(pk=row.pk).filter(Q(requested_at__isnull=True) | Q(requested_at__lt=now - _COOL_DOWN))
        if asked.update(requested_at=now):
            send_on_commit(reader, row.app_id if isinstance(row, RepositoryHeads) else row.branch_id)
        refreshing = True
    return Snapshot(row.value, row.error, row.read_at, refreshing)


def _store(model: type[Model], subject: dict[str, Any], value: Any, error: str) -> None:
    now = timezone.now()
    # A failed read keeps the last good value: the page shows it with the error.
    defaults = {"error": error, "read_at": now} if error else {"value": value, "error": "", "read_at": now}
    model._default_manager.update_or_create(**subject, defaults=defaults)


def store_heads(app: App, heads: dict[str, str] | None, error: str = "") -> None:
    _store(RepositoryHeads, {"app": app}, heads, error)


def read_heads_now(app: App) -> None:
    """A worker's read of the repository's branches (the task, the poll)."""
    try:
        heads = remote_heads(app.repository, credentials=app.git_credentials)
    except GitError as failure:
        store_heads(app, None, str(failure))
        return
    store_heads(app, heads)


def read_stack_now(branch: Branch) -> None:
    """A worker's read of the branch's stack (the task, the end of a build)."""
    try:
        stack = describe_stack(branch.backend_stack_name)
    except AwsError as failure:
        _store(StackRead, {"branch": branch}, None, str(failure))
        return
    value = None
    if stack is not None:
        value = {**asdict(stack), **{key: getattr(stack, key) and getattr(stack, key).isoformat() for key in _TIMES}}
    _store(StackRead, {"branch": branch}, value, "")


def _when(text: str | None) -> datetime | None:
    return parse_datetime(text) if text else None
