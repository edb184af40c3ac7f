"""Writes of pull request reporting: an app's setting (audited; its token sealed and never
shown, logged or audited), and what a pull request should show, written when a preview's
build starts or ends and when its preview is torn down. Sending is a worker's job
(apps.prstatus.reporting); nothing here waits for a git host."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.branches.models import App
from apps.builds.models import Job
from apps.builds.selectors import job_url
from apps.builds.services import JobEvent
from apps.prstatus import messages
from apps.prstatus.models import DEFAULT_API_URLS, Call, Provider, PullRequest, Reporting, State
from apps.prstatus.providers import validate_repository
from console.audit import audit_record
from console.outbound import checked_addresses
from console.queue import send_on_commit
from console.sealed import seal, unseal

_SEALED_AS = "prstatus-tokens"
SYNC_TASK = "apps.prstatus.tasks.sync"
_STATES = {JobEvent.STARTED: State.RUNNING, JobEvent.SUCCEEDED: State.SUCCEEDED, JobEvent.FAILED: State.FAILED}


def token_of(reporting: Reporting) -> str | None:
    """The API token, or None if it cannot be read (SECRET_KEY changed)."""
    return unseal(_SEALED_AS, reporting.token_sealed)


def validate_api_url(provider: str, api_url: str) -> str:
    """The API's base URL as stored (the provider's default when empty); ValidationError keyed `api_url`."""
    url = api_url.strip().rstrip("/") or DEFAULT_API_URLS[Provider(provider)]
    parts = urlsplit(url)
    if len(url) > 500 or parts.query or parts.fragment:
        raise ValidationError({"api_url": "Enter the API's base URL alone (no query or #fragment, at most 500 characters)."})
    allow_private = settings.PR_STATUS_ALLOW_PRIVATE_HOSTS
    try:
        checked_addresses(
            url,
            allow_private=allow_private,
            refused="A git host's API must be on a public address (PR_STATUS_ALLOW_PRIVATE_HOSTS allows others).",
            credentials="enter the token in its own field.",
        )
    except ValidationError as error:
        raise ValidationError({"api_url": error.messages}) from None
    if parts.scheme != "https" and not allow_private:
        raise ValidationError({"api_url": "Use https://: the token must not travel in the clear."})
    return url


def _audit(actor: Any, action: str, app: App, message: str, detail: dict[str, Any] | None = None) -> None:
    audit_record(actor=actor, action=action, target_type="app", target=app.app_id, message=message, detail=detail)


@sensitive_variables("token")
def reporting_save(*, actor: Any, app: App, provider: str, api_url: str, repository: str, token: str) -> Reporting:
    """Set where the app reports; an empty `token` keeps the saved one. Changing the host or
    the repository forgets the comments posted so far (they belong to the other repository)."""
    if provider not in Provider.values:
        raise ValidationError({"provider": "Choose GitHub or GitLab."})
    url = validate_api_url(provider, api_url)
    repository = validate_repository(provider, repository)
    token = token.strip()
    existing = Reporting.objects.filter(app=app).first()
    if not token and existing is None:
        raise ValidationError({"token": "Enter an API token: the console needs one to set statuses and comments."})
    if any(c.isspace() for c in token):
        raise ValidationError({"token": "A token has no spaces or line breaks."})
    with transaction.atomic():
        reporting = existing or Reporting(app=app)
        moved = existing is not None and (existing.provider, existing.api_url, existing.repository) != (provider, url, repository)
        reporting.provider, reporting.api_url, reporting.repository = provider, url, repository
        if token:
            reporting.token_sealed = seal(_SEALED_AS, token)
        reporting.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        reporting.save()
        if moved:
            PullRequest.objects.filter(app=app).delete()
        detail = {"provider": provider, "api_url": url, "repository": repository, "access": "replaced" if token else "kept"}
        _audit(actor, "prstatus.save", app, f"Pull request reporting to {reporting}", detail)
    return reporting


def reporting_remove(*, actor: Any, reporting: Reporting) -> None:
    """Stop reporting and forget the token (and the comments' ids)."""
    app = reporting.app
    with transaction.atomic():
        _audit(actor, "prstatus.remove", app, f"Pull request reporting to {reporting} removed; its token is forgotten")
        PullRequest.objects.filter(app=app).delete()
        reporting.delete()


def _want(app: App, number: int, *, body: str, status: dict[str, str] | None) -> None:
    """Record what pull request `number` should show now and queue a worker to say it.
    `status`: the commit status's fields (sha, state, description, target_url), or None to
    leave the status as it is."""
    with transaction.atomic():
        report = _locked_report(app, number)
        previous = report.version
        report.version = previous + 1
        changed = status is not None and any(getattr(report, name) != value for name, value in status.items())
        if status is not None:
            for name, value in status.items():
                setattr(report, name, value)
        if not changed and report.status_version == previous:
            report.status_version = report.version  # nothing new to say about the commit
        if report.body == body and report.comment_version == previous:
            report.comment_version = report.version
        report.body = body
        report.attempts, report.next_attempt_at = 0, None
        report.save()
        if not report.in_sync:
            send_on_commit(SYNC_TASK, report.pk)


def _locked_report(app: App, number: int) -> PullRequest:
    """The pull request's report, locked until the transaction ends (made if missing)."""
    try:
        with transaction.atomic():
            report, _ = PullRequest.objects.select_for_update().get_or_create(app=app, number=number)
    except IntegrityError:  # another event of the same pull request made it meanwhile
        report = PullRequest.objects.select_for_update().get(app=app, number=number)
    return report


def report_job_event(job_pk: int, event: JobEvent) -> None:
    """A listener of builds (in the transaction that changed the job): a preview's build
    started or ended, so its pull request's status and comment change."""
    job = Job.objects.select_related("branch__app").filter(pk=job_pk).first()
    if job is None or job.branch.pull_request_number is None:
        return
    if not Reporting.objects.filter(app_id=job.branch.app_id).exists():
        return
    state = _STATES[event]
    status = None
    if job.commit_id:  # a status belongs to a commit; without one only the comment says it
        status = {
            "sha": job.commit_id,
            "state": state,
            "description": messages.description(job, state),
            "target_url": job_url(job),
        }
    _want(job.branch.app, job.branch.pull_request_number, body=messages.build_comment(job, state), status=status)


def preview_torn_down(*, app: App, number: int, preview_name: str) -> None:
    """The pull request closed and its preview is gone: the comment says so, and a status
    still showing a running build is ended as cancelled."""
    report = PullRequest.objects.filter(app=app, number=number).first()
    if report is None or not Reporting.objects.filter(app=app).exists():
        return
    status = None
    if report.state == State.RUNNING and report.sha:
        status = {"state": State.CANCELLED, "description": messages.CANCELLED_DESCRIPTION}
    _want(app, number, body=messages.closed_comment(preview_name), status=status)


def prune_calls(now: datetime | None = None) -> int:
    """Delete the calls older than PR_STATUS_CALL_DAYS; how many went."""
    before = (now or timezone.now()) - timedelta(days=settings.PR_STATUS_CALL_DAYS)
    deleted, _ = Call.objects.filter(at__lt=before).delete()
    return deleted
