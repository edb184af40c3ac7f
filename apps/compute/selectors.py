"""Reads for the branch page's server panel: what the live deployment runs, how its servers
fare on each machine, and what they printed. Every query is bounded by a branch or a
deployment (and a limit where rows pile up)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.branches.models import Branch
from apps.compute.models import ComputeDeployment, ComputeLogLine, ComputeServer
from apps.compute.routing import compute_routes as compute_routes
from apps.compute.routing import resolve_route as resolve_route

# A crash stays on the panel this long, even after the server restarted or was replaced.
CRASH_SHOWN_FOR = timedelta(days=1)
PAGE_LINES = 200


@dataclass(frozen=True)
class BranchCompute:
    compute: ComputeDeployment
    servers: list[ComputeServer]  # one per machine that ran the live deployment
    last_crash: ComputeServer | None  # the branch's latest CRASHED or FAILED row within CRASH_SHOWN_FOR

    @property
    def framework_name(self) -> str:
        return str((self.compute.manifest.get("framework") or {}).get("name", ""))

    @property
    def framework_version(self) -> str:
        return str((self.compute.manifest.get("framework") or {}).get("version", ""))

    @property
    def earlier_crash(self) -> ComputeServer | None:
        """The last crash when the rows of the live servers do not already show it."""
        if self.last_crash is None or any(s.pk == self.last_crash.pk for s in self.servers):
            return None
        return self.last_crash


def branch_compute(branch: Branch) -> BranchCompute | None:
    """The server part of the branch's live deployment, or None when it serves static files only."""
    if branch.live_deployment_id is None:
        return None
    compute = ComputeDeployment.objects.filter(deployment_id=branch.live_deployment_id).first()
    if compute is None:
        return None
    last_crash = (
        ComputeServer.objects.filter(
            branch=branch,
            state__in=[ComputeServer.State.CRASHED, ComputeServer.State.FAILED],
            updated_at__gte=timezone.now() - CRASH_SHOWN_FOR,
        )
        .select_related("deployment__deployment__job")
        .order_by("-updated_at")
        .first()
    )
    return BranchCompute(compute=compute, servers=list(compute.servers.order_by("host")), last_crash=last_crash)


def log_lines(branch: Branch, after_id: int | None, limit: int = PAGE_LINES) -> list[ComputeLogLine]:
    """The branch's last `limit` lines, or the first `limit` after line `after_id`; oldest first."""
    lines = ComputeLogLine.objects.filter(branch=branch)
    if after_id is None:
        return list(reversed(lines.order_by("-id")[:limit]))
    return list(lines.filter(id__gt=after_id).order_by("id")[:limit])


def kept_log_lines(branch: Branch) -> Iterator[ComputeLogLine]:
    """Every line the branch keeps (COMPUTE_LOG_LINES at most), oldest first, read in chunks."""
    return ComputeLogLine.objects.filter(branch=branch).order_by("id").iterator(chunk_size=500)
