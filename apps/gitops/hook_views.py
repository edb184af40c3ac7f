"""Git-host webhooks: `/hooks/github/<appId>` and `/hooks/gitlab/<appId>`.

Order matters: size, then the signature over the raw bytes (constant time),
and only then is anything parsed. Each accepted delivery is recorded once;
a repeated delivery id is answered 200 and ignored.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.branches.models import App
from apps.gitops import gitsync
from apps.gitops.githooks import (
    BranchCreated,
    BranchDeleted,
    BranchPushed,
    HookError,
    Ignored,
    Ping,
    PullRequest,
    check_size,
    parse_github,
    parse_gitlab,
    same_repository,
    verify_github,
    verify_gitlab,
)
from apps.gitops.models import GitDelivery
from console.queue import send_on_commit

PREVIEW_ACTIONS = {"opened", "reopened", "synchronize", "ready_for_review"}


def _answer(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


def _dispatch(app: App, event: object, source: str) -> str:
    if isinstance(event, Ping):
        return "pong"
    if isinstance(event, Ignored):
        return f"ignored: {event.reason}"
    if isinstance(event, BranchPushed):
        pushed = gitsync.Pushed(before=event.before, files=event.files)
        return gitsync.branch_pushed(app, event.branch, event.commit, event.message, source=source, pushed=pushed)
    if isinstance(event, BranchCreated):
        # The event names no commit: a worker reads it, never the web process (git may hang).
        send_on_commit("apps.gitops.tasks.branch_created", app.pk, event.branch, source)
        return f"branch {event.branch} created; a worker reads its head commit"
    if isinstance(event, BranchDeleted):
        return gitsync.branch_deleted(app, event.branch, source=source)
    if isinstance(event, PullRequest):
        return _pull_request(app, event, source)
    return "ignored: unknown event"


def _pull_request(app: App, pr: PullRequest, source: str) -> str:
    if pr.action == "closed":
        return gitsync.preview_close(app, number=pr.number, source=source)
    if pr.action not in PREVIEW_ACTIONS:
        return f"ignored: pull request action {pr.action}"
    if pr.draft and not app.pr_build_drafts:
        return f"skipped: pull request #{pr.number} is a draft (drafts are not previewed)"
    if pr.from_fork and app.fork_previews == App.ForkPreviews.OFF:
        return f"skipped: pull request #{pr.number} comes from a fork (previews of forks are off)"
    return gitsync.preview_open(
        app,
        number=pr.number,
        head_branch=pr.head_branch,
        head_commit=pr.head_commit,
        base_branch=pr.base_branch,
        title=pr.title,
        source=source,
        from_fork=pr.from_fork,
    )


def _handle(request: HttpRequest, app_id: str, provider: str) -> JsonResponse:
    app = App.objects.filter(app_id=app_id).first()
    if app is None:
        return _answer(404, "No such app.")
    try:
        check_size(b"", request.META.get("CONTENT_LENGTH"))
        body = request.body
        check_size(body, None)
        if not app.git_webhook_secret:
            return _answer(401, "This app has no webhook secret; set one in its Git settings.")
        if provider == GitDelivery.Provider.GITHUB:
            verify_github(app.git_webhook_secret, body, request.headers.get("X-Hub-Signature-256"))
            event_name = request.headers.get("X-GitHub-Event", "")
            delivery_id = request.headers.get("X-GitHub-Delivery", "")
        else:
            verify_gitlab(app.git_webhook_secret, request.headers.get("X-Gitlab-Token"))
            event_name = request.headers.get("X-Gitlab-Event", "")
            delivery_id = request.headers.get("X-Gitlab-Event-UUID") or request.headers.get("Idempotency-Key") or ""
        if not event_name:
            return _answer(400, "The event header is missing.")
        # GitLab before 15.x sends no id: the body's hash tells repeats apart.
        delivery_id = delivery_id or hashlib.sha256(body).hexdigest()
        event = parse_github(event_name, body) if provider == GitDelivery.Provider.GITHUB else parse_gitlab(event_name, body)
    except HookError as error:
        return _answer(error.status, str(error))
    # Recorded and acted on in one transaction: if acting fails, the record goes too,
    # so the host's redelivery (same id) is processed instead of "already received".
    try:
        with transaction.atomic():
            delivery = GitDelivery.objects.create(
                app=app, provider=provider, delivery_id=delivery_id[:100], event=event_name[:64], outcome="received"
            )
            outcome = _outcome(app, event, provider)
            GitDelivery.objects.filter(pk=delivery.pk).update(outcome=outcome[:500])
    except IntegrityError:
        return _answer(200, "Already received: ignored.")
    return _answer(200 if isinstance(event, Ping) else 202, outcome)


def _outcome(app: App, event: object, provider: str) -> str:
    repo = getattr(event, "repo", None)
    if repo is not None and not isinstance(event, Ping | Ignored) and not same_repository(app.repository, repo):
        named = (repo.urls[0] if repo.urls else "another repository")[:200]
        return f"ignored: the delivery is for {named}, not {app.repository}"
    return _dispatch(app, event, provider)


@csrf_exempt
@login_not_required
@require_POST
def github_hook(request: HttpRequest, app_id: str) -> JsonResponse:
    return _handle(request, app_id, GitDelivery.Provider.GITHUB)


@csrf_exempt
@login_not_required
@require_POST
def gitlab_hook(request: HttpRequest, app_id: str) -> JsonResponse:
    return _handle(request, app_id, GitDelivery.Provider.GITLAB)
