"""The upload endpoints storage.js calls, JSON in and out. Operators only.

check    {"keys": [...]}                      -> {"existing": [...]} (HeadObject each)
put      body = the file (one part or less)   -> {"ok": true}         (PutObject)
start    {"key", "size", "type", "overwrite"} -> {"ticket", "part_bytes", "parts"}
part     ?ticket=&number=, body = the part    -> {"number", "etag"}   (UploadPart)
complete {"ticket"}                           -> {"ok": true}         (ListParts, CompleteMultipartUpload)
abort    {"ticket"}                           -> {"ok": true}         (AbortMultipartUpload)

A file body is never read whole: `uploads.spool` copies it a chunk at a time. The key
and content type of `put` and the ticket and number of `part` come in the query string,
so the body is nothing but bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_POST

from apps.storage import keys, s3, services
from apps.storage.access import branch_bucket
from apps.storage.buckets import Bucket
from apps.storage.uploads import Ticket, UploadRefused, content_length, part_bytes_for, size_problem, spool
from console.aws_errors import AwsError
from console.roles import Role, role_required

MAX_CHECKED = 1000
MAX_JSON_BYTES = 1024 * 1024


def _refusal(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def upload_endpoint(view: Callable[..., JsonResponse]) -> Callable[..., HttpResponse]:
    """POST, operator, the branch's bucket; UploadRefused and AwsError become JSON errors."""

    @wraps(view)
    def wrapped(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponse:
        _, bucket_obj = branch_bucket(app_id, branch, bucket)
        try:
            return view(request, bucket_obj)
        except UploadRefused as refused:
            return _refusal(str(refused), refused.status)
        except AwsError as error:
            return _refusal(str(error), 503 if error.transient else 502)

    return require_POST(role_required(Role.OPERATOR)(wrapped))


def _json(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object (what storage.js sends), or its form fields (a plain form or a test)."""
    if request.content_type != "application/json":
        fields: dict[str, Any] = {name: request.POST.get(name) for name in request.POST}
        fields["keys"] = request.POST.getlist("keys")
        if str(fields.get("size") or "").isdigit():
            fields["size"] = int(fields["size"])
        fields["overwrite"] = fields.get("overwrite") in ("1", "true", "on")
        return fields
    if content_length(request.META) > MAX_JSON_BYTES:
        raise UploadRefused("The request is too large.", status=413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise UploadRefused("The request body is not JSON.") from None
    except RecursionError:
        raise UploadRefused("The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise UploadRefused("The request body is not a JSON object.")
    return data


def _new_key(raw: object) -> str:
    key = raw if isinstance(raw, str) else ""
    problem = keys.key_problem(key) or ("A file's name cannot end with /." if key.endswith("/") else "")
    if problem:
        raise UploadRefused(f"{keys.plain_name(key)}: {problem}")
    return key


@upload_endpoint
def upload_check(request: HttpRequest, bucket: Bucket) -> JsonResponse:
    """Which of the keys exist already (the page asks before overwriting them)."""
    wanted = _json(request).get("keys")
    if not isinstance(wanted, list) or len(wanted) > MAX_CHECKED:
        raise UploadRefused(f"Send a list of at most {MAX_CHECKED} keys.")
    candidates = list(dict.fromkeys(_new_key(k) for k in wanted))
    with ThreadPoolExecutor(max_workers=settings.STORAGE_COPY_THREADS, thread_name_prefix="s3-head") as pool:
        found = list(pool.map(lambda key: s3.head(bucket.name, bucket.region, key) is not None, candidates))
    return JsonResponse({"existing": [key for key, exists in zip(candidates, found, strict=True) if exists]})


def _overwrite_allowed(bucket: Bucket, key: str, overwrite: bool) -> bool:
    """Whether the key exists (and may be overwritten); refuses when it exists and the page did not ask."""
    exists = s3.head(bucket.name, bucket.region, key) is not None
    if exists and not overwrite:
        raise UploadRefused(f"{keys.plain_name(key)} exists already; confirm to overwrite it.", status=409)
    return exists


@upload_endpoint
def upload_put(request: HttpRequest, bucket: Bucket) -> JsonResponse:
    """A file of at most one part, its bytes as the body."""
    key = _new_key(request.GET.get("key", ""))
    length = content_length(request.META)
    problem = size_problem(length)
    if problem:
        raise UploadRefused(problem, status=413)
    if length > part_bytes_for(length):
        raise UploadRefused("Files larger than one part are sent in parts (start, part, complete).", status=413)
    exists = _overwrite_allowed(bucket, key, request.GET.get("overwrite") == "1")
    content_type = keys.upload_content_type(request.GET.get("type", ""), key)
    with spool(request, length) as body:
        services.upload_put(
            actor=request.user,
            bucket=bucket,
            key=key,
            body=body,
            length=length,
            content_type=content_type,
            overwrote=exists,
        )
    return JsonResponse({"ok": True, "key": key})


@upload_endpoint
def upload_start(request: HttpRequest, bucket: Bucket) -> JsonResponse:
    data = _json(request)
    key = _new_key(data.get("key"))
    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise UploadRefused("The file's size is missing.")
    problem = size_problem(size)
    if problem:
        raise UploadRefused(problem, status=413)
    exists = _overwrite_allowed(bucket, key, data.get("overwrite") is True)
    content_type = keys.upload_content_type(str(data.get("type") or ""), key)
    upload_id = services.upload_start(bucket=bucket, key=key, content_type=content_type)
    ticket = Ticket(
        bucket=bucket.name,
        key=key,
        upload_id=upload_id,
        size=size,
        part_bytes=part_bytes_for(size),
        user_pk=_user_pk(request),
        overwrote=exists,
    )
    return JsonResponse({"ticket": ticket.sign(), "part_bytes": ticket.part_bytes, "parts": ticket.part_count})


def _user_pk(request: HttpRequest) -> int:
    return int(request.user.pk or 0)


def _ticket(request: HttpRequest, bucket: Bucket, value: object) -> Ticket:
    return Ticket.unsign(value if isinstance(value, str) else "", bucket=bucket.name, user_pk=_user_pk(request))


@upload_endpoint
def upload_part(request: HttpRequest, bucket: Bucket) -> JsonResponse:
    ticket = _ticket(request, bucket, request.GET.get("ticket", ""))
    raw_number = request.GET.get("number", "")
    number = int(raw_number) if raw_number.isdigit() else 0
    expected = ticket.part_length(number)
    length = content_length(request.META)
    if length != expected:
        raise UploadRefused(f"Part {number} has {length:,} bytes; it should have {expected:,}.")
    with spool(request, length) as body:
        etag = s3.multipart_part(bucket.name, bucket.region, ticket.key, ticket.upload_id, number, body, length)
    return JsonResponse({"number": number, "etag": etag})


@upload_endpoint
def upload_complete(request: HttpRequest, bucket: Bucket) -> JsonResponse:
    """Complete from the parts S3 holds (not from what the page says it sent)."""
    ticket = _ticket(request, bucket, _json(request).get("ticket"))
    held = s3.multipart_parts(bucket.name, bucket.region, ticket.key, ticket.upload_id)
    numbers = [number for number, _, _ in held]
    if numbers != list(range(1, ticket.part_count + 1)) or sum(size for _, _, size in held) != ticket.size:
        missing = sorted(set(range(1, ticket.part_count + 1)) - set(numbers))
        raise UploadRefused(f"S3 does not hold every part of {keys.plain_name(ticket.key)} yet (missing: {missing[:10]}).", 409)
    services.upload_complete(
        actor=request.user,
        bucket=bucket,
        key=ticket.key,
        upload_id=ticket.upload_id,
        size=ticket.size,
        parts=[(n, etag) for n, etag, _ in held],
        overwrote=ticket.overwrote,
    )
    return JsonResponse({"ok": True, "key": ticket.key})


@upload_endpoint
def upload_abort(request: HttpRequest, bucket: Bucket) -> JsonResponse:
    ticket = _ticket(request, bucket, _json(request).get("ticket"))
    services.upload_abort(actor=request.user, bucket=bucket, key=ticket.key, upload_id=ticket.upload_id)
    return JsonResponse({"ok": True})
