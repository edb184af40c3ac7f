"""Pages for builds: start, job page with live log, cancel, retry, redeploy,
webhooks, the webhook trigger and the path-based hosted site."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.branches import selectors
from apps.branches.models import Branch
from apps.builds import jobs
from apps.builds.joblog import stored_log
from apps.builds.models import Job
from apps.builds.webhooks import (
    WebhookDenied,
    WebhookRateLimited,
    webhook_authenticate,
    webhook_create,
    webhook_delete,
    webhook_start_build,
)
from console.roles import Role, role_required


def _branch(app_id: str, branch: str) -> Branch:
    return selectors.branch_get(selectors.app_get(app_id), branch)


def _job(app_id: str, branch: str, job_id: int) -> Job:
    return get_object_or_404(Job.objects.select_related("branch__app"), branch=_branch(app_id, branch), job_id=job_id)


def _to_job(job: Job) -> HttpResponse:
    return redirect("job_detail", app_id=job.branch.app.app_id, branch=job.branch.display_name, job_id=job.job_id)


@require_POST
@role_required(Role.OPERATOR)
def job_start(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    job = jobs.job_start(
        branch=branch_obj, job_type=Job.Type.MANUAL, triggered_by=request.user.get_username(), actor=request.user
    )
    messages.success(request, f"Build #{job.job_id} of {branch_obj.name} queued.")
    return _to_job(job)


@require_GET
def job_detail(request: HttpRequest, app_id: str, branch: str, job_id: int) -> HttpResponse:
    job = _job(app_id, branch, job_id)
    chunks = list(job.log_chunks.all())
    context = {
        "app": job.branch.app,
        "branch": job.branch,
        "job": job,
        "steps": job.steps.all(),
        "log_text": "".join(c.text for c in chunks),
        "after": chunks[-1].seq if chunks else 0,
    }
    return render(request, "builds/job_detail.html", context)


@require_GET
def job_log(request: HttpRequest, app_id: str, branch: str, job_id: int) -> HttpResponse:
    """htmx poll: log text after `after`, the job's header, and the next poller while it runs."""
    job = _job(app_id, branch, job_id)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        after = 0
    chunks = list(job.log_chunks.filter(seq__gt=after))
    context = {
        "app": job.branch.app,
        "branch": job.branch,
        "job": job,
        "steps": job.steps.all(),
        "log_text": "".join(c.text for c in chunks),
        "after": chunks[-1].seq if chunks else after,
    }
    return render(request, "builds/job_detail.html#log-update", context)


@require_GET
def job_log_download(request: HttpRequest, app_id: str, branch: str, job_id: int) -> StreamingHttpResponse:
    job = _job(app_id, branch, job_id)
    response = StreamingHttpResponse(stored_log(job), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{job.branch.app.app_id}-{job.branch.display_name}-job-{job.job_id}.log"'
    )
    return response


def _job_action(request: HttpRequest, app_id: str, branch: str, job_id: int, action: str) -> HttpResponse:
    job = _job(app_id, branch, job_id)
    try:
        if action == "cancel":
            jobs.job_cancel(job=job, actor=request.user)
            messages.success(request, f"Job #{job.job_id} is being cancelled.")
            return _to_job(job)
        new = (jobs.job_retry if action == "retry" else jobs.job_redeploy)(job=job, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _to_job(job)
    messages.success(request, f"Job #{new.job_id} queued ({'retry' if action == 'retry' else 'redeploy'} of #{job.job_id}).")
    return _to_job(new)


@require_POST
@role_required(Role.OPERATOR)
def job_cancel(request: HttpRequest, app_id: str, branch: str, job_id: int) -> HttpResponse:
    return _job_action(request, app_id, branch, job_id, "cancel")


@require_POST
@role_required(Role.OPERATOR)
def job_retry(request: HttpRequest, app_id: str, branch: str, job_id: int) -> HttpResponse:
    return _job_action(request, app_id, branch, job_id, "retry")


@require_POST
@role_required(Role.OPERATOR)
def job_redeploy(request: HttpRequest, app_id: str, branch: str, job_id: int) -> HttpResponse:
    return _job_action(request, app_id, branch, job_id, "redeploy")


@require_POST
@role_required(Role.ADMIN)
def webhook_add(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    try:
        webhook = webhook_create(actor=request.user, branch=branch_obj, name=request.POST.get("name", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Webhook {webhook.name} created.")
    return redirect("branch_detail", app_id=app_id, branch=branch_obj.display_name)


@require_POST
@role_required(Role.ADMIN)
def webhook_remove(request: HttpRequest, app_id: str, branch: str, webhook_id: str) -> HttpResponse:
    branch_obj = _branch(app_id, branch)
    webhook = get_object_or_404(branch_obj.webhooks, webhook_id=webhook_id)
    webhook_delete(actor=request.user, webhook=webhook)
    messages.success(request, f"Webhook {webhook.name} deleted.")
    return redirect("branch_detail", app_id=app_id, branch=branch_obj.display_name)


@csrf_exempt
@login_not_required
@require_POST
def webhook_trigger(request: HttpRequest) -> HttpResponse:
    """POST .../webhooks?id=<id>&token=<token>&operation=startbuild; the body is ignored."""
    try:
        webhook = webhook_authenticate(request.GET.get("id", ""), request.GET.get("token", ""))
    except WebhookDenied:
        return JsonResponse({"message": "Unknown webhook or wrong token."}, status=403)
    if request.GET.get("operation") != "startbuild":
        return JsonResponse({"message": "Unsupported operation: use operation=startbuild."}, status=400)
    try:
        job = webhook_start_build(webhook)
    except WebhookRateLimited:
        return JsonResponse({"message": "Too many requests for this webhook; try again in a minute."}, status=429)
    summary = {"jobId": str(job.job_id), "jobType": job.job_type, "status": job.status, "commitId": job.commit_id}
    return JsonResponse({"jobSummary": summary}, status=202)
