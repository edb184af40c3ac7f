"""The Amplify-compatible API's endpoint (`/amplify-api/...`) and the step log URLs that
GetJob hands out. Every request is signed (SigV4) with a console access key and acts
with that key's user and role."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.amplify_api import operations, protocol, render, sigv4
from apps.amplify_api.models import AccessKey
from apps.amplify_api.protocol import ApiError, Match
from apps.branches.models import App
from apps.builds.models import Job
from apps.builds.selectors import stored_log
from console.audit import audit_record
from console.roles import has_role

logger = logging.getLogger(__name__)
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION_SECONDS = 60


def _below_prefix(path: str) -> str:
    return path[len(protocol.PREFIX) :] if path.startswith(protocol.PREFIX) else path


def _match(request: HttpRequest) -> tuple[Match | None, str]:
    """The operation the request is, and the path its signature covers."""
    raw_uri = request.META.get("RAW_URI")  # gunicorn passes the path as sent
    if raw_uri:
        raw_path = urlsplit(raw_uri).path
        found = list(protocol.matches(request.method or "", _below_prefix(raw_path), raw=True))
        return (found[0] if found else None), raw_path
    # Decoded: a `/` in a branch name reads several ways; take the reading whose branch exists
    # (git cannot hold both `a` and `a/jobs`, so at most one reading names a branch).
    found = list(protocol.matches(request.method or "", _below_prefix(request.path), raw=False))
    chosen = next((m for m in found if "branchName" not in m.labels or _branch_exists(m)), found[0] if found else None)
    return chosen, chosen.signed_path if chosen else quote(request.path)


def _branch_exists(match: Match) -> bool:
    app = App.objects.filter(app_id=match.labels.get("appId", "")).first()
    return app is not None and app.branches.filter(name=match.labels["branchName"]).exists()


def _touch(key: AccessKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        AccessKey.objects.filter(pk=key.pk).update(last_used_at=now)


@csrf_exempt
@login_not_required
def amplify_api(request: HttpRequest, path: str = "") -> HttpResponse:
    try:
        match, signed_path = _match(request)
        key = sigv4.verify(sigv4.from_django(request, signed_path))
        request.user = key.user
        _touch(key)
        if match is None:
            # Not one of the model's errors: AWS answers an unknown route so, with 404.
            raise ApiError("UnknownOperationException", f"No Amplify operation is {request.method} {request.path}.", 404)
        role, _ = operations.OPERATIONS[match.route.name]
        if not has_role(key.user, role):
            audit_record(
                actor=key.user,
                action="permission.denied",
                target_type="api",
                target=match.route.name,
                outcome="denied",
                detail={"required": role.group_name},
            )
            raise protocol.unauthorized(f"{match.route.name} needs the {role.group_name} role.")
        params = protocol.parse_input(match, request.META.get("QUERY_STRING", ""), request.body)
        output = operations.run(match.route.name, operations.Call(request=request, user=key.user, params=params))
        return protocol.respond(output)
    except sigv4.SignatureInvalid as invalid:
        return protocol.respond_error(protocol.unauthorized(str(invalid)))
    except ApiError as error:
        return protocol.respond_error(error)
    except RequestDataTooBig:
        return protocol.respond_error(protocol.bad_request("The request body is too large."))
    except Exception:
        logger.exception("Amplify API: %s %s failed", request.method, request.path)
        return protocol.respond_error(ApiError("InternalFailureException", "The console failed to handle the request."))


def _step_bounds(job: Job, name: object) -> dict[str, int | None]:
    """The chunks of the step's log: from its first chunk (the first step's from the start,
    so the lines before it count as its own) to the next started step's."""
    starts = sorted(
        (seq, step) for step, seq in job.steps.filter(first_log_seq__isnull=False).values_list("name", "first_log_seq")
    )
    names = [step for _, step in starts]
    if name not in names:
        return {}  # a step that kept no start (jobs from before steps did): the whole log
    index = names.index(name)
    return {
        "from_seq": starts[index][0] if index else None,
        "before_seq": starts[index + 1][0] if index + 1 < len(starts) else None,
    }


@require_GET
@login_not_required
def step_log(request: HttpRequest, token: str) -> StreamingHttpResponse:
    """A step's log, for the logUrl in GetJob: the token is the credential, valid for an hour."""
    try:
        target = signing.loads(token, salt=render.LOG_URL_SALT, max_age=render.LOG_URL_LIFETIME)
    except signing.SignatureExpired:
        raise Http404("This log URL has expired: get a new one with GetJob.") from None
    except signing.BadSignature:
        raise Http404("No such log.") from None
    job = Job.objects.filter(pk=target.get("job")).first()
    if job is None:
        raise Http404("No such log.")
    response = StreamingHttpResponse(
        stored_log(job, **_step_bounds(job, target.get("step"))), content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "private, no-store"
    return response
