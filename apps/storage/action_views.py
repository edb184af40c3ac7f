"""The file browser's writes from forms: create folder, delete, copy to and move to.
Operators only (checked on the server for every request); each write is audited by its service.

Selections arrive as percent-encoded form values (keys.form_value). Many objects
(more than STORAGE_INLINE_OBJECTS) go to a worker and the page follows its progress.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.branches.models import Branch
from apps.storage import keys, operations, s3, services
from apps.storage.access import branch_bucket, browse_url, decoded, folder_from, safe_next, selection_from
from apps.storage.browse import COUNT_LIMIT, count_objects
from apps.storage.buckets import Bucket
from apps.storage.models import StorageTask
from console.aws_errors import AwsError
from console.roles import Role, role_required

SHOWN_FAILURES = 10
PICKER_FOLDERS = 1000


def report(request: HttpRequest, verb: str, outcome: operations.Outcome) -> None:
    """A message with the counts, and the failures by name when there are any."""
    total = outcome.done + outcome.failed
    if not outcome.failed:
        messages.success(request, f"{verb} {outcome.done:,} object{'s' if outcome.done != 1 else ''}.")
        return
    listed = "; ".join(f"{keys.plain_name(key)} ({reason})" for key, reason in outcome.failures[:SHOWN_FAILURES])
    more = outcome.failed - min(len(outcome.failures), SHOWN_FAILURES)
    messages.error(
        request,
        f"{verb} {outcome.done:,} of {total:,} objects. {outcome.failed:,} failed: {listed}"
        + (f"; and {more:,} more." if more else "."),
    )


def _queue(
    request: HttpRequest,
    branch: Branch,
    bucket: Bucket,
    kind: str,
    selection: operations.Selection,
    total: int,
    destination: str = "",
) -> HttpResponse:
    task = services.task_queue(
        actor=request.user,
        branch=branch,
        bucket=bucket,
        kind=kind,
        selection=selection,
        destination=destination,
        total=total,
    )
    messages.info(
        request, f"{task.get_kind_display()} of {total:,} objects runs in the background; this page shows its progress."
    )
    return redirect("storage_task", app_id=branch.app.app_id, branch=branch.display_name, pk=task.pk)


@require_POST
@role_required(Role.OPERATOR)
def folder_create(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponse:
    branch_obj, bucket_obj = branch_bucket(app_id, branch, bucket)
    parent = folder_from(request.POST)
    name = request.POST.get("name", "")[: keys.MAX_KEY_BYTES]
    back = safe_next(request.POST.get("next", ""), browse_url(branch_obj, bucket_obj, parent))
    try:
        key = services.folder_create(actor=request.user, bucket=bucket_obj, parent=parent, name=name)
    except (services.StorageInvalid, AwsError) as error:
        messages.error(request, f"The folder was not created: {error}")
        return redirect(back)
    messages.success(request, f"Folder {keys.plain_name(name.strip())} created.")
    return redirect(back if request.POST.get("next") else browse_url(branch_obj, bucket_obj, key))


def confirmation_phrases(selection: operations.Selection, count: int) -> list[str]:
    """What may be typed to confirm deleting folders: "delete N objects", or a lone folder's name."""
    phrase = f"delete more than {COUNT_LIMIT} objects" if count > COUNT_LIMIT else f"delete {count} objects"
    if len(selection.folders) == 1 and not selection.files:
        return [phrase, keys.base_name(selection.folders[0])]
    return [phrase]


@require_POST
@role_required(Role.OPERATOR)
def delete(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponse:
    """First post (from the page): the confirmation; the confirmed post deletes."""
    branch_obj, bucket_obj = branch_bucket(app_id, branch, bucket)
    prefix = folder_from(request.POST)
    back = browse_url(branch_obj, bucket_obj, prefix)
    selection = selection_from(request.POST)
    try:
        operations.check_selection(selection)
        if not selection:
            raise operations.SelectionInvalid("Select files or folders to delete first.")
        count = count_objects(bucket_obj, list(selection.files), list(selection.folders))
    except (operations.SelectionInvalid, AwsError) as error:
        messages.error(request, str(error))
        return redirect(back)
    phrases = confirmation_phrases(selection, count)
    typed = request.POST.get("confirm", "").strip()
    # Folders need the typed phrase; files alone the confirmation page's button.
    by_phrase = typed.lower() == phrases[0] or typed in phrases[1:]
    confirmed = by_phrase if selection.folders else request.POST.get("confirmed") == "1"
    if not confirmed:
        if typed or request.POST.get("confirmed"):
            messages.error(request, f"Type “{phrases[0]}” exactly to delete. Nothing was deleted.")
        context = _base(branch_obj, bucket_obj, prefix) | {
            "selection": _described(selection),
            "count": count,
            "phrases": phrases,
            "more_than": count > COUNT_LIMIT,
            "has_folders": bool(selection.folders),
        }
        return render(request, "storage/delete_confirm.html", context)
    if count > settings.STORAGE_INLINE_OBJECTS:
        return _queue(request, branch_obj, bucket_obj, StorageTask.Kind.DELETE, selection, count)
    outcome = services.selection_delete(actor=request.user, bucket=bucket_obj, where=prefix, selection=selection)
    report(request, "Deleted", outcome)
    return redirect(back)


def _base(branch: Branch, bucket: Bucket, prefix: str) -> dict[str, Any]:
    return {
        "app": branch.app,
        "branch": branch,
        "bucket": bucket,
        "prefix": prefix,
        "back_url": browse_url(branch, bucket, prefix),
        "crumbs": keys.breadcrumbs(prefix),
    }


def _described(selection: operations.Selection) -> list[dict[str, Any]]:
    items = [{"key": f, "kind": "folder", "name": keys.base_name(f)} for f in selection.folders]
    items += [{"key": k, "kind": "file", "name": keys.base_name(k)} for k in selection.files]
    return [{**item, "value": keys.form_value(item["key"])} for item in items]


def _typed_destination(text: str) -> str:
    """A folder path typed by a person: "photos/2024" means "photos/2024/"; a leading "/" is dropped."""
    text = text.strip().lstrip("/")
    return text if not text or text.endswith("/") else text + "/"


@require_POST
@role_required(Role.OPERATOR)
def transfer(request: HttpRequest, app_id: str, branch: str, bucket: str) -> HttpResponse:
    """Copy to / Move to: a folder picker (posts keep the selection) that can create a
    folder; "go" copies or moves into the picked (or typed) folder."""
    branch_obj, bucket_obj = branch_bucket(app_id, branch, bucket)
    move = request.POST.get("mode") == "move"
    prefix = folder_from(request.POST)
    selection = selection_from(request.POST)
    if not selection:
        messages.error(request, f"Select files or folders to {'move' if move else 'copy'} first.")
        return redirect(browse_url(branch_obj, bucket_obj, prefix))
    opened = request.POST.get("open")
    at = decoded(opened) if opened is not None else folder_from(request.POST, "at") if "at" in request.POST else prefix
    at = at if keys.is_folder_prefix(at) else ""
    new_folder = request.POST.get("new_folder", "")[: keys.MAX_KEY_BYTES]
    if request.POST.get("create") == "1" and new_folder.strip():
        try:
            at = services.folder_create(actor=request.user, bucket=bucket_obj, parent=at, name=new_folder)
            messages.success(request, f"Folder {keys.plain_name(keys.base_name(at))} created.")
        except (services.StorageInvalid, AwsError) as error:
            messages.error(request, f"The folder was not created: {error}")
    go = request.POST.get("go")
    if go in ("here", "typed"):
        destination = _typed_destination(request.POST.get("dest", "")[: keys.MAX_KEY_BYTES]) if go == "typed" else at
        return _carry_out(request, branch_obj, bucket_obj, selection, destination, move=move, origin=prefix)
    return _picker(request, branch_obj, bucket_obj, selection, prefix, at, move)


def _carry_out(
    request: HttpRequest,
    branch: Branch,
    bucket: Bucket,
    selection: operations.Selection,
    destination: str,
    *,
    move: bool,
    origin: str,
) -> HttpResponse:
    try:
        operations.check_transfer(selection, destination)
        if request.POST.get("replace") != "1":
            taken = operations.collisions(bucket, selection, destination)
            if taken:
                # Ask first: the same names in the destination would be replaced.
                return _picker(request, branch, bucket, selection, origin, destination, move, taken=taken)
        count = count_objects(bucket, list(selection.files), list(selection.folders), limit=settings.STORAGE_INLINE_OBJECTS)
        if count > settings.STORAGE_INLINE_OBJECTS:
            kind = StorageTask.Kind.MOVE if move else StorageTask.Kind.COPY
            total = count_objects(bucket, list(selection.files), list(selection.folders))
            return _queue(request, branch, bucket, kind, selection, total, destination)
        outcome = services.selection_transfer(
            actor=request.user,
            bucket=bucket,
            where=origin,
            selection=selection,
            destination=destination,
            move=move,
        )
    except (operations.SelectionInvalid, operations.TransferInvalid, services.StorageInvalid, AwsError) as error:
        messages.error(request, f"Nothing was {'moved' if move else 'copied'}: {error}")
        return redirect(browse_url(branch, bucket, origin))
    report(request, f"{'Moved' if move else 'Copied'} to {keys.plain_name(destination) if destination else 'the top'}:", outcome)
    return redirect(browse_url(branch, bucket, destination))


def _picker(
    request: HttpRequest,
    branch: Branch,
    bucket: Bucket,
    selection: operations.Selection,
    prefix: str,
    at: str,
    move: bool,
    taken: list[str] | None = None,
) -> HttpResponse:
    context = _base(branch, bucket, prefix) | {
        "taken": taken or [],
        "selection": _described(selection),
        "move": move,
        "at": at,
        "at_value": keys.form_value(at),
        "at_crumbs": [(name, keys.form_value(crumb)) for name, crumb in keys.breadcrumbs(at)],
        "prefix_value": keys.form_value(prefix),
        "parent_value": keys.form_value(keys.parent_of(at)) if at else None,
    }
    try:
        page = s3.list_page(bucket.name, bucket.region, prefix=at, max_keys=PICKER_FOLDERS)
    except AwsError as error:
        context["problem"] = str(error)
    else:
        context["folders"] = [(keys.name_in(f, at), keys.form_value(f)) for f in page.folders]
        context["more_folders"] = page.next_token is not None
    return render(request, "storage/transfer.html", context)
