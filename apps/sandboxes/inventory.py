"""Refreshing the inventory: every configured region listed side by side, then the
database brought in line (new stacks added, known ones updated, vanished ones marked
deleted). A region that fails keeps its rows as they were and records its error."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.sandboxes import cloudformation
from apps.sandboxes.cloudformation import SandboxStack
from apps.sandboxes.models import RegionScan, Sandbox
from apps.secrets.selectors import sandbox_secret_counts
from console.aws_errors import AwsError, AwsNotFound

# Resource counts are one call per new or changed stack; these run side by side.
COUNT_THREADS = 8


def secret_prefix(namespace: str, identifier: str, backend_hash: str) -> str:
    """Where the toolchain keeps a sandbox's secrets, from its stack name's parts."""
    return f"/amplify/{namespace}/{identifier}-sandbox-{backend_hash}/"


@dataclass
class RegionResult:
    region: str
    stacks: list[SandboxStack] = field(default_factory=list)
    secret_counts: dict[str, int] | None = field(default_factory=dict)  # None: SSM could not be listed
    resource_counts: dict[str, int | None] = field(default_factory=dict)
    error: str = ""


@dataclass
class RefreshResult:
    regions: list[RegionResult]
    added: int = 0
    updated: int = 0
    gone: int = 0

    @property
    def errors(self) -> dict[str, str]:
        return {r.region: r.error for r in self.regions if r.error}


def _needs_count(known: dict[str, Sandbox], stack: SandboxStack) -> bool:
    row = known.get(stack.stack_id)
    if row is None or row.resource_count is None:
        return True
    return row.last_updated != stack.last_updated or row.stack_status != stack.stack_status


def _count(region: str, stack_id: str) -> int | None:
    try:
        return cloudformation.count_resources(region, stack_id)
    except AwsError:
        return None  # shown as unknown; counted again on the next refresh


def _scan(region: str, known: dict[str, Sandbox]) -> RegionResult:
    result = RegionResult(region)
    try:
        result.stacks = cloudformation.list_sandbox_stacks(region)
    except AwsError as error:
        result.error = str(error)
        return result
    try:
        result.secret_counts = sandbox_secret_counts(region)
    except AwsError:
        result.secret_counts = None  # the stacks still list; counts stay as they were
    to_count = [s.stack_id for s in result.stacks if _needs_count(known, s)]
    if to_count:
        with ThreadPoolExecutor(max_workers=min(COUNT_THREADS, len(to_count)), thread_name_prefix="cfn-count") as pool:
            result.resource_counts = dict(zip(to_count, pool.map(lambda i: _count(region, i), to_count), strict=True))
    return result


def refresh_inventory(regions: Iterable[str] | None = None) -> RefreshResult:
    wanted = list(dict.fromkeys(regions or settings.AWS_REGIONS))
    started = timezone.now()
    known = {row.stack_id: row for row in Sandbox.objects.filter(region__in=wanted)}
    RegionScan.objects.bulk_create(
        [RegionScan(region=r, started_at=started) for r in wanted],
        update_conflicts=True,
        unique_fields=["region"],
        update_fields=["started_at"],
    )
    by_region = {r: {k: v for k, v in known.items() if v.region == r} for r in wanted}
    with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="cfn-region") as pool:
        results = list(pool.map(lambda r: _scan(r, by_region[r]), wanted))
    refresh = RefreshResult(results)
    for result in results:
        # One transaction per region: other writers (pages, deletion heartbeats) wait
        # for one region's writes at most, not for the whole refresh.
        with transaction.atomic():
            _store(result, by_region[result.region], refresh)
    return refresh


# What a refresh may change on a known row (last_seen is set for all listed rows at once).
_STORED_FIELDS = (
    "stack_name",
    "namespace",
    "identifier",
    "backend_hash",
    "status",
    "stack_status",
    "status_reason",
    "created_time",
    "last_updated",
    "secret_count",
    "resource_count",
    "deleted_at",
)


def _store(result: RegionResult, known: dict[str, Sandbox], refresh: RefreshResult) -> None:
    now = timezone.now()
    if result.error:
        RegionScan.objects.filter(region=result.region).update(finished_at=now, error=result.error[:1000])
        return
    new_rows: list[Sandbox] = []
    changed: list[Sandbox] = []
    changed_fields: set[str] = set()
    for stack in result.stacks:
        p = stack.parsed
        known_row = known.get(stack.stack_id)
        before = {f: getattr(known_row, f) for f in _STORED_FIELDS} if known_row else {}
        row = known_row or Sandbox(stack_id=stack.stack_id, first_seen=now)
        row.stack_name, row.region = stack.stack_name, stack.region
        row.namespace, row.identifier, row.backend_hash = p.namespace, p.name, p.hash
        row.status, row.stack_status, row.status_reason = stack.status, stack.stack_status, stack.status_reason
        row.created_time, row.last_updated, row.last_seen = stack.created_time, stack.last_updated, now
        if result.secret_counts is not None:
            row.secret_count = result.secret_counts.get(secret_prefix(p.namespace, p.name, p.hash), 0)
        if stack.stack_id in result.resource_counts:
            row.resource_count = result.resource_counts[stack.stack_id]
        if row.status != Sandbox.Status.DELETED:
            row.deleted_at = None
        if known_row is None:
            new_rows.append(row)
            continue
        # Only rows (and fields) that differ are written: most refreshes change nothing.
        differ = {f for f in _STORED_FIELDS if getattr(row, f) != before[f]}
        if differ:
            changed.append(row)
            changed_fields |= differ
    Sandbox.objects.bulk_create(new_rows, batch_size=500)
    if changed:
        Sandbox.objects.bulk_update(changed, sorted(changed_fields), batch_size=500)
    listed = {stack.stack_id for stack in result.stacks}
    Sandbox.objects.filter(region=result.region, stack_id__in=listed).update(last_seen=now)
    gone = [row.pk for stack_id, row in known.items() if stack_id not in listed and row.status != Sandbox.Status.DELETED]
    # Not listed any more: DELETE_COMPLETE, deleted here or elsewhere (deleted_by stays
    # empty unless the console did it).
    Sandbox.objects.filter(pk__in=gone).update(
        status=Sandbox.Status.DELETED, stack_status="DELETE_COMPLETE", deleted_at=now, resource_count=0, secret_count=0
    )
    RegionScan.objects.filter(region=result.region).update(
        finished_at=now, succeeded_at=now, sandboxes=len(result.stacks), error=""
    )
    refresh.added += len(new_rows)
    refresh.updated += len(changed)
    refresh.gone += len(gone)


def refresh_one(sandbox: Sandbox) -> Sandbox:
    """Bring one row in line with its stack (the detail page and deletion use it)."""
    try:
        stack = cloudformation.describe_sandbox(sandbox.region, sandbox.stack_id)
    except AwsNotFound:
        stack = None
    now = timezone.now()
    if stack is None or stack.stack_status == "DELETE_COMPLETE":
        sandbox.status, sandbox.stack_status = Sandbox.Status.DELETED, "DELETE_COMPLETE"
        sandbox.deleted_at = sandbox.deleted_at or now
        sandbox.resource_count, sandbox.secret_count = 0, 0
    else:
        sandbox.status, sandbox.stack_status, sandbox.status_reason = stack.status, stack.stack_status, stack.status_reason
        sandbox.last_updated, sandbox.last_seen = stack.last_updated, now
    fields = ["status", "stack_status", "status_reason", "deleted_at", "resource_count", "secret_count", "last_updated"]
    sandbox.save(update_fields=[*fields, "last_seen"])
    return sandbox
