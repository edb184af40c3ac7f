"""Telling a git host what a pull request should show: one attempt at a time, by a worker.

A worker holds the report (a lease, never a database lock: the builds that write reports
must not wait for a git host) and sends what is behind: the commit status, then the comment
(created once, its id kept, then updated; created again if someone deleted it). Every call is
recorded. A transient failure (no answer, a timeout, HTTP 5xx, 408 or 429) is tried again
after PR_STATUS_RETRY_SECONDS doubled at each try, up to PR_STATUS_MAX_ATTEMPTS; any failure
is kept on the report as its problem, shown on the previews page. Nothing here can fail a build."""

from __future__ import annotations

import dataclasses
import http.client
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.prstatus import providers
from apps.prstatus.models import Call, PullRequest, Reporting
from apps.prstatus.services import token_of
from console.outbound import checked_addresses, exchange, is_transient

logger = logging.getLogger(__name__)
_ERROR_LIMIT = 500


@dataclass(frozen=True)
class Outcome:
    ok: bool
    answer: bytes = b""
    response_code: int | None = None
    error: str = ""
    transient: bool = False


def _lease() -> timedelta:
    # Two calls, each bounded by the timeout, and some room: a dead worker's lease runs out.
    return timedelta(seconds=4 * settings.PR_STATUS_TIMEOUT_SECONDS + 30)


def _claim(report_pk: int) -> PullRequest | None:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not PullRequest.objects.filter(free, pk=report_pk).update(lease_until=now + _lease()):
        return None
    return PullRequest.objects.select_related("app").get(pk=report_pk)


@sensitive_variables("token")
def _call(reporting: Reporting, token: str, number: int, action: str, request: providers.Request) -> Outcome:
    """Send one request and record it; the token is masked out of anything recorded."""
    url = reporting.api_url + request.path
    try:
        address = checked_addresses(
            url,
            allow_private=settings.PR_STATUS_ALLOW_PRIVATE_HOSTS,
            refused="A git host's API must be on a public address.",
            credentials="the token is sent in a header.",
        )[0]
        reply = exchange(
            request.method,
            url,
            address,
            headers=providers.headers(reporting.provider, token),
            body=request.encoded(),
            timeout=settings.PR_STATUS_TIMEOUT_SECONDS,
        )
    except ValidationError as error:
        outcome = Outcome(ok=False, error=" ".join(error.messages), transient=True)  # DNS may come back
    except (OSError, http.client.HTTPException) as error:
        outcome = Outcome(ok=False, error=f"{type(error).__name__}: {error}", transient=True)
    else:
        outcome = _judged(reply.status, reply.body, reply.location)
    # A git host could echo what it was sent: the token never reaches the record.
    masked = (outcome.error.replace(token, "[token]") if token else outcome.error)[:_ERROR_LIMIT]
    Call.objects.create(
        app_id=reporting.app_id,
        number=number,
        action=action,
        method=request.method,
        path=request.path,
        response_code=outcome.response_code,
        error=masked,
    )
    return dataclasses.replace(outcome, error=masked)


def _judged(code: int, answer: bytes, location: str) -> Outcome:
    if 200 <= code < 300:
        return Outcome(ok=True, answer=answer, response_code=code)
    if 300 <= code < 400:
        where = location or "(no Location)"
        return Outcome(ok=False, response_code=code, error=f"HTTP {code}: redirect to {where} not followed.")
    said = providers.answer_message(answer)
    error = f"HTTP {code}" + (f": {said}" if said else "")
    return Outcome(ok=False, answer=answer, response_code=code, error=error, transient=is_transient(code))


@sensitive_variables("token")
def _send_comment(reporting: Reporting, token: str, report: PullRequest) -> Outcome:
    provider, repository, number = reporting.provider, reporting.repository, report.number
    if report.comment_id:
        request = providers.comment_update(provider, repository, number=number, comment_id=report.comment_id, body=report.body)
        outcome = _call(reporting, token, number, Call.Action.COMMENT_UPDATE, request)
        if outcome.response_code != 404:
            return outcome
        # Someone deleted the comment: a new one takes its place.
    request = providers.comment_create(provider, repository, number=number, body=report.body)
    outcome = _call(reporting, token, number, Call.Action.COMMENT_CREATE, request)
    if outcome.ok:
        comment_id = providers.created_id(outcome.answer)
        if comment_id is None:
            return Outcome(ok=False, response_code=outcome.response_code, error="The answer to the comment names no id.")
        PullRequest.objects.filter(pk=report.pk).update(comment_id=comment_id)
    return outcome


@sensitive_variables("token")
def _send(reporting: Reporting, token: str, report: PullRequest) -> Outcome:
    """Send what is behind, the status first; the first failure stops the attempt."""
    version = report.version
    if report.status_version < version and report.sha and report.state:
        request = providers.status_request(
            reporting.provider,
            reporting.repository,
            number=report.number,
            sha=report.sha,
            state=report.state,
            description=report.description,
            target_url=report.target_url,
        )
        outcome = _call(reporting, token, report.number, Call.Action.STATUS, request)
        if not outcome.ok:
            return outcome
    PullRequest.objects.filter(pk=report.pk, status_version__lt=version).update(status_version=version)
    if report.comment_version < version and report.body:
        outcome = _send_comment(reporting, token, report)
        if not outcome.ok:
            return outcome
    PullRequest.objects.filter(pk=report.pk, comment_version__lt=version).update(comment_version=version)
    return Outcome(ok=True)


def report_attempt(report_pk: int) -> float | None:
    """Try once to bring the pull request up to date; the seconds to wait before the next
    try, or None when there is nothing more to do."""
    report = _claim(report_pk)
    if report is None:
        held = PullRequest.objects.filter(pk=report_pk, lease_until__isnull=False).exists()
        return _lease().total_seconds() if held else None  # another worker is on it: look again after its lease
    try:
        return _attempt(report)
    finally:
        PullRequest.objects.filter(pk=report_pk).update(lease_until=None)


def _attempt(report: PullRequest) -> float | None:
    if report.in_sync:
        return None
    reporting = Reporting.objects.filter(app_id=report.app_id).first()
    if reporting is None:
        return None  # reporting was switched off meanwhile: nothing is sent
    token = token_of(reporting)
    if token is None:
        _failed(report, reporting, "the saved token cannot be read (SECRET_KEY changed): enter it again", attempts=1)
        return None
    outcome = _send(reporting, token, report)
    fresh = PullRequest.objects.filter(pk=report.pk).values_list("version", flat=True).first()
    if outcome.ok:
        PullRequest.objects.filter(pk=report.pk).update(problem="", problem_at=None, attempts=0, next_attempt_at=None)
        return 0.0 if fresh is not None and fresh != report.version else None  # newer news came meanwhile
    attempts = report.attempts + 1
    _failed(report, reporting, outcome.error, attempts=attempts)
    if fresh != report.version:
        return 0.0  # superseded: the newer version is tried at once, with its own count
    if outcome.transient and attempts < settings.PR_STATUS_MAX_ATTEMPTS:
        retry_in = settings.PR_STATUS_RETRY_SECONDS * 2 ** (attempts - 1)
        PullRequest.objects.filter(pk=report.pk).update(next_attempt_at=timezone.now() + timedelta(seconds=retry_in))
        return retry_in
    return None


def _failed(report: PullRequest, reporting: Reporting, error: str, *, attempts: int) -> None:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    problem = f"{reporting.get_provider_display()}: {error} ({tries})"
    PullRequest.objects.filter(pk=report.pk, version=report.version).update(
        problem=problem, problem_at=timezone.now(), attempts=attempts, next_attempt_at=None
    )
    logger.info("pull request #%s of app %s not reported: %s", report.number, report.app.app_id, problem)


def overdue_reports(grace: timedelta = timedelta(minutes=5)) -> list[int]:
    """Reports behind whose message was lost (a broker restart): a retry due a while ago, or
    never tried. One that failed for good (a problem and no next try) waits for the next event."""
    cutoff = timezone.now() - grace
    behind = PullRequest.objects.filter(Q(status_version__lt=F("version")) | Q(comment_version__lt=F("version")))
    behind = behind.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=cutoff))
    never_tried = Q(next_attempt_at__isnull=True, problem="", updated_at__lt=cutoff)
    due = behind.filter(Q(next_attempt_at__lt=cutoff) | never_tried)
    return list(due.values_list("pk", flat=True))
