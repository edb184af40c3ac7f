"""What happens when git changes: branches detected, pushes built, deleted branches
disconnected, pull-request previews opened and torn down.

The poll and the git-host webhooks both end here, so a push seen by both starts
one job: `_claim_commit` lets exactly one of them move a branch to a new commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.branches.models import App, Branch
from apps.branches.selectors import PatternError, parse_patterns
from apps.branches.services import display_name_for
from apps.builds import selectors as build_selectors
from apps.builds import services as build_services
from apps.builds.models import Job
from apps.gitops.models import Teardown
from console.amplify_names import branch_stack_name
from console.audit import audit_record
from console.progress import requeue_failed
from console.queue import send_on_commit

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    connected: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (("connected", self.connected), ("built", self.built), ("disconnecting", self.disconnected))
            if names
        ]
        return "; ".join(parts) or "no change"


def _matches(app: App, branch: str) -> bool:
    if not app.auto_detect_branches:
        return False
    try:
        return parse_patterns(app.auto_detect_patterns).matches(branch)
    except PatternError:
        return False  # the settings form refuses bad patterns; an old one matches nothing


def _claim_commit(branch: Branch, commit: str) -> bool:
    """Move the branch to `commit`; True for exactly one caller per new commit."""
    return bool(Branch.objects.filter(pk=branch.pk).exclude(last_seen_commit=commit).update(last_seen_commit=commit))


@dataclass(frozen=True)
class Pushed:
    """What a git host's push delivery says of the change: the commit it moved from and the
    files changed since (None when it cannot say for sure)."""

    before: str = ""
    files: tuple[str, ...] | None = None


def _start(branch: Branch, commit: str, message: str, triggered_by: str, pushed: Pushed | None = None) -> Job:
    """An automatic build: skipped at once when the delivery already tells (a skip marker, or
    its files against the path filters); otherwise the runner decides once it has cloned."""
    # Only a push names its head commit's message (a preview's is its title): the rest the runner reads.
    reason = (build_selectors.marker_reason(message) or _paths_reason(branch, pushed)) if pushed else ""
    return build_services.job_start(
        branch=branch,
        job_type=Job.Type.RELEASE,
        triggered_by=triggered_by,
        commit_id=commit,
        commit_message=message,
        automatic=True,
        skip_reason=reason,
    )


def _paths_reason(branch: Branch, pushed: Pushed) -> str:
    """The delivery's files count only from the commit last built; a rule that needs the build
    spec's appRoot is the runner's to apply."""
    if pushed.files is None or build_selectors.needs_app_root(branch):
        return ""
    rule = build_selectors.path_rule(branch)
    since = build_selectors.last_built_commit(branch)
    if rule is None or not since or pushed.before != since:
        return ""
    return build_selectors.paths_reason(rule, pushed.files, since)


def connect_detected(app: App, name: str, commit: str, *, source: str) -> Branch | None:
    """Connect a newly seen branch that matches the app's patterns; first build if auto-build."""
    try:
        with transaction.atomic():
            branch = Branch.objects.create(
                app=app, name=name, display_name=display_name_for(app, name), stage=app.auto_detect_stage, last_seen_commit=commit
            )
            audit_record(
                actor=None,
                action="branch.autodetect",
                target_type="branch",
                target=f"{app.app_id}/{name}",
                message=f"matched {app.auto_detect_patterns!r} ({source})",
            )
    except IntegrityError:
        return None  # the poll and a webhook saw it at once; the other one connected it
    if branch.enable_auto_build:
        _start(branch, commit, "", f"auto-detected ({source})")
    return branch


def branch_pushed(app: App, name: str, commit: str, message: str, *, source: str, pushed: Pushed | None = None) -> str:
    branch = app.branches.filter(name=name, pull_request_number__isnull=True).first()
    if branch is None:
        if _matches(app, name):
            return f"connected {name}" if connect_detected(app, name, commit, source=source) else f"{name} already connected"
        return f"{name} is not connected and does not match the auto-detection patterns"
    if not branch.last_seen_commit and source == "poll":
        # The poll's first sighting of a branch connected by hand is no push: remember
        # the head and build from the next change. A webhook push is a real new commit.
        _claim_commit(branch, commit)
        return f"recorded head of {name}"
    if not _claim_commit(branch, commit):
        return f"{commit[:12]} of {name} already seen"
    if not branch.enable_auto_build:
        return f"{name} moved to {commit[:12]}; auto-build is off"
    job = _start(branch, commit, message, f"push ({source})", pushed)
    if job.status == Job.Status.SKIPPED:
        return f"build #{job.job_id} of {name} at {commit[:12]} skipped: {job.status_reason}"
    return f"build #{job.job_id} of {name} at {commit[:12]}"


def branch_deleted(app: App, name: str, *, source: str) -> str:
    branch = app.branches.filter(name=name, pull_request_number__isnull=True).first()
    if branch is None:
        return f"{name} is not connected"
    if not app.auto_disconnect:
        return f"{name} was deleted in git; auto-disconnection is off"
    teardown = teardown_start(
        app=app, branch=branch, kind=Teardown.Kind.DISCONNECT, delete_stack=app.delete_backend_on_disconnect, source=source
    )
    return f"disconnecting {name} (teardown {teardown.pk})"


def sync_app(app: App, heads: dict[str, str], *, source: str = "poll") -> SyncResult:
    """Bring the app's branches in line with the repository's heads {branch: commit}."""
    result = SyncResult()
    connected = {b.name: b for b in app.branches.filter(pull_request_number__isnull=True)}
    for name, commit in heads.items():
        branch = connected.get(name)
        if branch is None:
            if _matches(app, name) and connect_detected(app, name, commit, source=source):
                result.connected.append(name)
        elif branch.last_seen_commit != commit:
            outcome = branch_pushed(app, name, commit, "", source=source)
            if outcome.startswith("build #"):
                result.built.append(name)
    # An empty listing is more likely a glitch than every branch deleted at once.
    if app.auto_disconnect and heads:
        for name in sorted(set(connected) - set(heads)):
            branch_deleted(app, name, source=source)
            result.disconnected.append(name)
    return result


# --- pull-request previews ---------------------------------------------------------------


def preview_name(number: int) -> str:
    return f"pr-{number}"


def preview_open(
    app: App,
    *,
    number: int,
    head_branch: str,
    head_commit: str,
    base_branch: str,
    title: str,
    source: str,
    from_fork: bool = False,
) -> str:
    """Create or update the preview branch pr-N and build its head; `from_fork` marks
    untrusted code (apps.builds.trust decides what its builds get)."""
    base = app.branches.filter(name=base_branch, pull_request_number__isnull=True).first()
    if base is None or not base.pr_previews_enabled:
        return f"previews are not enabled for {base_branch}"
    name = preview_name(number)
    if app.branches.filter(name=name, pull_request_number__isnull=True).exists():
        # A git branch really named pr-N is connected: never build the PR under it.
        return f"not previewed: a connected branch is already named {name}; rename or disconnect it"
    with transaction.atomic():
        preview, created = Branch.objects.get_or_create(
            app=app,
            name=name,
            pull_request_number=number,
            defaults={
                "display_name": display_name_for(app, name),
                "stage": Branch.Stage.PULL_REQUEST,
                "pr_source_branch": head_branch,
                "pr_destination_branch": base_branch,
                "pr_shared_backend": base.pr_shared_backend,
                "pr_from_fork": from_fork,
            },
        )
        if not created and preview.pr_from_fork != from_fork:
            Branch.objects.filter(pk=preview.pk).update(pr_from_fork=from_fork)
            preview.pr_from_fork = from_fork
        if created:
            audit_record(
                actor=None, action="preview.open", target_type="branch", target=f"{app.app_id}/{name}", message=title[:200]
            )
    if not _claim_commit(preview, head_commit):
        return f"{head_commit[:12]} of {name} already built"
    job = _start(preview, head_commit, title, f"pull request #{number} ({source})")
    return f"preview {name}: build #{job.job_id} at {head_commit[:12]}"


def preview_close(app: App, *, number: int, source: str) -> str:
    preview = app.branches.filter(pull_request_number=number).first()
    if preview is None:
        return f"no preview for pull request #{number}"
    teardown = teardown_start(
        app=app, branch=preview, kind=Teardown.Kind.PREVIEW, delete_stack=preview.pr_shared_backend_id is None, source=source
    )
    return f"tearing down {preview.name} (teardown {teardown.pk})"


# --- teardown ------------------------------------------------------------------------------


def teardown_start(*, app: App, branch: Branch, kind: str, delete_stack: bool, source: str) -> Teardown:
    existing = app.teardowns.filter(
        branch_name=branch.name, status__in=(Teardown.Status.PENDING, Teardown.Status.RUNNING)
    ).first()
    if existing:
        return existing
    with transaction.atomic():
        teardown = Teardown.objects.create(
            app=app,
            kind=kind,
            branch_name=branch.name,
            stack_name=branch_stack_name(app.app_id, branch.name),
            delete_stack=delete_stack,
        )
        audit_record(
            actor=None,
            action="teardown.start",
            target_type="branch",
            target=f"{app.app_id}/{branch.name}",
            message=f"{teardown.get_kind_display()} ({source})",
        )
        _queue_teardown(teardown.pk)
    return teardown


def teardown_retry(*, teardown: Teardown, actor: object) -> Teardown:
    with transaction.atomic():
        if not requeue_failed(Teardown, teardown.pk):
            raise ValidationError("Only a failed teardown can be retried.")
        audit_record(
            actor=actor, action="teardown.retry", target_type="branch", target=f"{teardown.app.app_id}/{teardown.branch_name}"
        )
        _queue_teardown(teardown.pk)
    teardown.refresh_from_db()
    return teardown


def _queue_teardown(teardown_pk: int) -> None:
    send_on_commit("apps.gitops.tasks.run_teardown", teardown_pk)
