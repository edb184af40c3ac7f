"""What every storage view starts from: the branch, one of its buckets, and input read once."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import SuspiciousOperation
from django.http import QueryDict
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from apps.branches.models import Branch
from apps.branches.selectors import app_get, branch_get
from apps.storage import keys
from apps.storage.buckets import Bucket, bucket_get
from apps.storage.operations import Selection

MAX_SELECTED = 1000


def branch_of(app_id: str, branch: str) -> Branch:
    return branch_get(app_get(app_id), branch)


def branch_bucket(app_id: str, branch: str, bucket: str) -> tuple[Branch, Bucket]:
    branch_obj = branch_of(app_id, branch)
    return branch_obj, bucket_get(branch_obj, bucket)


def browse_url(branch: Branch, bucket: Bucket, prefix: str = "", **query: str) -> str:
    url = reverse("storage_browse", args=[branch.app.app_id, branch.display_name, bucket.name])
    params = {k: v for k, v in {"prefix": prefix, **query}.items() if v}
    return f"{url}?{urlencode(params)}" if params else url


def object_url(name: str, branch: Branch, bucket: Bucket, key: str) -> str:
    url = reverse(name, args=[branch.app.app_id, branch.display_name, bucket.name])
    return f"{url}?{urlencode({'key': key})}"


def decoded(value: str) -> str:
    try:
        return keys.from_form_value(value)
    except UnicodeDecodeError:
        raise SuspiciousOperation("A key in the form is not valid percent-encoded UTF-8.") from None


def selection_from(data: QueryDict) -> Selection:
    """The files (`keys`) and folders (`folders`) a form selected, percent-encoded (keys.form_value)."""
    files = tuple(dict.fromkeys(decoded(v) for v in data.getlist("keys") if v))
    folders = tuple(dict.fromkeys(decoded(v) for v in data.getlist("folders") if v))
    if len(files) + len(folders) > MAX_SELECTED:
        raise SuspiciousOperation(f"More than {MAX_SELECTED} items selected.")
    return Selection(files=files, folders=folders)


def folder_from(data: QueryDict, name: str = "prefix") -> str:
    """A folder prefix from a form (percent-encoded); "" (the top) when it is not a folder."""
    prefix = decoded(data.get(name, ""))
    return prefix if keys.is_folder_prefix(prefix) else ""


def safe_next(url: str, fallback: str) -> str:
    return url if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None) and url.startswith("/") else fallback
