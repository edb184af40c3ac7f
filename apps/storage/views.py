"""The file browser's pages for reading: buckets, a folder, an object, downloads.
Viewers browse and download; admins add buckets. Writes are in action_views and upload_views."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.storage import keys, s3, services, zipstream
from apps.storage.access import branch_bucket, branch_of, browse_url, decoded, folder_from, object_url, selection_from
from apps.storage.browse import (
    DEFAULT_PAGE_SIZE,
    PAGE_SIZES,
    SORTS,
    Cursor,
    Entry,
    Listing,
    folder_page,
    object_details,
)
from apps.storage.buckets import branch_buckets
from apps.storage.models import ExtraBucket, StorageTask
from apps.storage.operations import Selection
from apps.storage.rows import row_html
from apps.storage.uploads import human_size
from console.aws_errors import AwsError
from console.cursors import BadCursor
from console.roles import Role, role_required


@require_GET
def storage_home(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = branch_of(app_id, branch)
    context = {
        "app": branch_obj.app,
        "branch": branch_obj,
        "buckets": branch_buckets(branch_obj),
        "default_region": _storage_region(branch_obj.backend_outputs) or settings.AWS_REGION,
        "tasks": StorageTask.objects.filter(branch=branch_obj)[:10],
        "has_outputs": bool(branch_obj.backend_outputs),
    }
    return render(request, "storage/home.html", context)


def _storage_region(outputs: dict[str, Any] | None) -> str:
    storage = (outputs or {}).get("storage")
    return str(storage.get("aws_region") or "") if isinstance(storage, dict) else ""


@require_POST
@role_required(Role.ADMIN)
def bucket_add(request: HttpRequest, app_id: str, branch: str) -> HttpResponse:
    branch_obj = branch_of(app_id, branch)
    name, region = request.POST.get("name", "")[:100], request.POST.get("region", "")[:40]
    try:
        services.bucket_add(actor=request.user, branch=branch_obj, name=name, region=region or settings.AWS_REGION)
    except (services.StorageInvalid, AwsError) as error:
        messages.error(request, f"The bucket was not added: {error}")
    else:
        messages.success(request, f"Bucket {name.strip()} added to {branch_obj.name}.")
    return redirect("storage_home", app_id=app_id, branch=branch)


@require_POST
@role_required(Role.ADMIN)
def bucket_remove(request: HttpRequest, app_id: str, branch: str, pk: int) -> HttpResponse:
    branch_obj = branch_of(app_id, branch)
    extra = get_object_or_404(ExtraBucket, pk=pk, branch=branch_obj)
    services.bucket_remove(actor=request.user, extra=extra)
    messages.success(request, f"Bucket {extra.name} is no longer listed for {branch_obj.name}; its files are untouched.")
    return redirect("storage_home", app_id=app_id, branch=branch)


def _page_options(request: HttpRequest) -> tuple[str, str, int, str, bool]:
    """(folder, name filter, page size, sort, descending) from the query string."""
    # Links carry the folder as is; the filter form as a percent-encoded "folder" (form values lose CRs).
    prefix = decoded(request.GET["folder"]) if "folder" in request.GET else request.GET.get("prefix", "")
    name_filter = request.GET.get("filter", "")[: keys.MAX_KEY_BYTES]
    if not keys.is_folder_prefix(prefix):  # a path typed by hand: its last segment filters
        cut = prefix.rfind("/") + 1
        prefix, name_filter = prefix[:cut], name_filter or prefix[cut:]
    raw_size = request.GET.get("size", "")
    size = int(raw_size) if raw_size.isdigit() and int(raw_size) in PAGE_SIZES else DEFAULT_PAGE_SIZE
    sort = request.GET.get("sort", "name") if request.GET.get("sort") in SORTS else "name"
    return prefix, name_filter, size, sort, request.GET.get("dir") == "desc"


@require_GET
def browse(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponse:
    branch_obj, bucket_obj = branch_bucket(app_id, branch, bucket)
    prefix, name_filter, size, sort, descending = _page_options(request)
    listing = Listing(bucket=bucket_obj.name, prefix=prefix, name_filter=name_filter, size=size)
    try:
        cursor = listing.unsign(request.GET.get("at", ""))
    except BadCursor as bad:
        messages.warning(request, str(bad))
        cursor = Cursor()
    context: dict[str, Any] = {
        "app": branch_obj.app,
        "branch": branch_obj,
        "bucket": bucket_obj,
        "buckets": branch_buckets(branch_obj),
        "prefix": prefix,
        "folder_name": keys.base_name(prefix) if prefix else "",
        "name_filter": name_filter,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "sort": sort,
        "descending": descending,
        "max_upload": settings.STORAGE_MAX_UPLOAD_BYTES,
        "max_upload_text": human_size(settings.STORAGE_MAX_UPLOAD_BYTES),
        "part_bytes": settings.STORAGE_UPLOAD_PART_BYTES,
    }
    try:
        page = folder_page(bucket_obj, listing, cursor, sort=sort, descending=descending)
    except AwsError as error:
        context["problem"] = str(error)
        return render(request, "storage/browse.html", context)
    base = {"prefix": prefix, "filter": name_filter, "size": str(size) if size != DEFAULT_PAGE_SIZE else ""}
    here = {**base, "at": listing.sign(cursor)}
    previous = cursor.previous()
    context.update(
        page=page,
        page_number=cursor.page_number,
        rows=_rows(app_id, branch, bucket, page.entries, size),
        next_query=_query({**base, "at": listing.sign(page.next_cursor)}, sort, descending) if page.next_cursor else "",
        previous_query=_query({**base, "at": listing.sign(previous)}, sort, descending) if previous is not None else "",
        has_previous=previous is not None,
        first_query=_query(base, sort, descending),
        sort_links={column: _sort_link(here, column, sort, descending) for column in SORTS},
        crumb_links=[(name, browse_url(branch_obj, bucket_obj, crumb)) for name, crumb in keys.breadcrumbs(prefix)],
        zip_url=reverse("storage_zip", args=[app_id, branch, bucket]) + (f"?{urlencode({'prefix': prefix})}" if prefix else ""),
    )
    if request.htmx.target == "listing":  # type: ignore[attr-defined]
        return render(request, "storage/browse.html#listing", context)
    return render(request, "storage/browse.html", context)


def _query(params: dict[str, str], sort: str, descending: bool) -> str:
    extra = {"sort": sort if sort != "name" else "", "dir": "desc" if descending else ""}
    return urlencode({k: v for k, v in {**params, **extra}.items() if v})


def _sort_link(here: dict[str, str], column: str, sort: str, descending: bool) -> tuple[str, str, str]:
    """(query, arrow, aria-sort) of a column header; a second click reverses."""
    if sort == column:
        return _query(here, column, not descending), " ▼" if descending else " ▲", "descending" if descending else "ascending"
    return _query(here, column, False), "", ""


def _rows(app_id: str, branch: str, bucket: str, entries: list[Entry], size: int) -> list[SafeString]:
    browse_base = reverse("storage_browse", args=[app_id, branch, bucket])
    object_base = reverse("storage_object", args=[app_id, branch, bucket])
    keep = {"size": str(size)} if size != DEFAULT_PAGE_SIZE else {}
    return [
        row_html(
            e,
            f"{browse_base}?{urlencode({'prefix': e.key, **keep})}"
            if e.is_folder
            else f"{object_base}?{urlencode({'key': e.key})}",
        )
        for e in entries
    ]


@require_GET
def object_detail(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponse:
    branch_obj, bucket_obj = branch_bucket(app_id, branch, bucket)
    key = request.GET.get("key", "")
    context: dict[str, Any] = {"app": branch_obj.app, "branch": branch_obj, "bucket": bucket_obj, "key": key}
    try:
        details = object_details(bucket_obj, key) if key else None
    except AwsError as error:
        context["problem"] = str(error)
        return render(request, "storage/object.html", context)
    if details is None:
        messages.error(request, f"There is no object {keys.plain_name(key)} in {bucket_obj.name} (any more).")
        return redirect(browse_url(branch_obj, bucket_obj, keys.parent_of(key)))
    folder = keys.parent_of(key)
    context.update(
        details=details,
        name=keys.base_name(key),
        folder=folder,
        folder_url=browse_url(branch_obj, bucket_obj, folder),
        crumb_links=[(name, browse_url(branch_obj, bucket_obj, crumb)) for name, crumb in keys.breadcrumbs(folder)],
        size_text=human_size(details.size),
        download_url=object_url("storage_download", branch_obj, bucket_obj, key),
        preview_url=object_url("storage_preview", branch_obj, bucket_obj, key),
        form_key=keys.form_value(key),
        form_folder=keys.form_value(folder),
    )
    return render(request, "storage/object.html", context)


def _object_bytes(bucket: Any, key: str, *, inline_image: bool) -> HttpResponseBase:
    """The object as an attachment, or an image shown inline with a content type from its
    name (never HTML, SVG or a stored, possibly false, type): a redirect to a short-lived
    S3 link, or, for a key a browser would change on the way there (keys.survives_in_url),
    its bytes streamed through the console with the same headers."""
    name = keys.download_name(key)
    if inline_image:
        disposition = content_disposition_header(False, name) or "inline"
        content_type: str | None = keys.safe_image_type(key)
    else:
        disposition = content_disposition_header(True, name) or "attachment"
        content_type = None if keys.preview_kind(key, "") else "application/octet-stream"
    if not keys.survives_in_url(key):
        return _streamed(bucket, key, disposition=disposition, content_type=content_type)
    try:
        url = s3.presigned_get(
            bucket.name,
            bucket.region,
            key,
            disposition=disposition,
            content_type=content_type,
            expires=settings.STORAGE_PRESIGN_SECONDS,
        )
    except AwsError as error:
        raise Http404(str(error)) from None
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    return response


def _streamed(bucket: Any, key: str, *, disposition: str, content_type: str | None) -> StreamingHttpResponse:
    try:
        opened = s3.open_object(bucket.name, bucket.region, key)
    except AwsError as error:
        raise Http404(str(error)) from None
    response = StreamingHttpResponse(
        opened.chunks, content_type=content_type or opened.content_type or "application/octet-stream"
    )
    response["Content-Length"] = str(opened.length)
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # The bytes come from the console's own origin: whatever they are, they never run as its page.
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_GET
def download(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponseBase:
    _, bucket_obj = branch_bucket(app_id, branch, bucket)
    key = request.GET.get("key", "")
    if not key or key.endswith("/"):
        raise Http404("Choose a file to download.")
    return _object_bytes(bucket_obj, key, inline_image=False)


@require_GET
def preview(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponseBase:
    """An image shown in the page; anything else (HTML, SVG, unknown) only as a download."""
    _, bucket_obj = branch_bucket(app_id, branch, bucket)
    key = request.GET.get("key", "")
    if not key or key.endswith("/"):
        raise Http404("Choose a file to preview.")
    return _object_bytes(bucket_obj, key, inline_image=keys.preview_kind(key, "") == "image")


@require_http_methods(["GET", "POST"])
def zip_download(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponseBase:
    """The selected files and folders (POST from the page) or one folder (GET ?prefix=) as one
    zip, streamed. Reading only: viewers may."""
    branch_obj, bucket_obj = branch_bucket(app_id, branch, bucket)
    if request.method == "POST":
        base = folder_from(request.POST)
        selection = selection_from(request.POST)
        if not selection:
            messages.error(request, "Select files or folders to download first.")
            return redirect(browse_url(branch_obj, bucket_obj, base))
        name = keys.base_name(selection.folders[0]) if len(selection.folders) == 1 and not selection.files else ""
    else:
        folder = request.GET.get("prefix", "")
        if not keys.is_folder_prefix(folder):
            raise Http404("Choose a folder to download.")
        base = keys.parent_of(folder) if folder else ""
        selection = Selection(folders=(folder,))  # "": the whole bucket
        name = keys.base_name(folder) if folder else bucket_obj.name
    file_name = f"{keys.download_name(name or bucket_obj.name)}.zip"
    chunks = zipstream.zip_chunks(bucket_obj, zipstream.members(bucket_obj, selection, base))
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, file_name) or "attachment"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def task_status(request: HttpRequest, app_id: str, branch: str, pk: int) -> HttpResponse:
    branch_obj = branch_of(app_id, branch)
    task = get_object_or_404(StorageTask, pk=pk, branch=branch_obj)
    known = {b.name: b for b in branch_buckets(branch_obj)}
    bucket_url = browse_url(branch_obj, known[task.bucket]) if task.bucket in known else ""
    context = {"app": branch_obj.app, "branch": branch_obj, "task": task, "bucket_url": bucket_url}
    return render(request, "storage/task.html", context)


@require_POST
@role_required(Role.OPERATOR)
def task_retry(request: HttpRequest, app_id: str, branch: str, pk: int) -> HttpResponse:
    """Continue a failed delete, copy or move after what it did (its worker died, or S3 refused)."""
    branch_obj = branch_of(app_id, branch)
    task = get_object_or_404(StorageTask, pk=pk, branch=branch_obj)
    if services.task_retry(actor=request.user, task=task):
        messages.success(
            request, f"{task.get_kind_display()} queued again; it continues after the {task.resume_at:,} objects already handled."
        )
    else:
        messages.error(request, "This task cannot be retried: it is not failed, or it failed on its own input.")
    return redirect("storage_task", app_id, branch_obj.display_name, task.pk)
