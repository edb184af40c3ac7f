"""Password protection of hosted branches: HTTP Basic authentication (RFC 7617), as
Amplify's access control does it: one setting for the app's branches, which a branch's
own setting replaces (BasicAuthConfig of AWS::Amplify::App and AWS::Amplify::Branch,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-amplify-branch-basicauthconfig.html).

Checking a password costs a deliberately slow hash, and a page's every asset request
brings the same Authorization header: a success is remembered in-process for that header
and that stored hash (changing the password or the username forgets it). A failure is
never remembered, so a wrong guess always pays the hash."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from typing import Any

from django.contrib.auth.hashers import check_password
from django.http import HttpResponse

from apps.hosting.models import BasicAuth

# Amplify takes 1 to 255 characters for each (CloudFormation's BasicAuthConfig); this
# console asks a password of at least 8, since it guards a site anyone can reach.
MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 255
MAX_PASSWORD_LENGTH = 255
# The Amplify API's basicAuthCredentials is at most 2,000 characters.
MAX_CREDENTIALS_LENGTH = 2000
MAX_AUTHORIZATION_LENGTH = 4096
CACHE_SIZE = 1024

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_verified: OrderedDict[bytes, None] = OrderedDict()
_verified_lock = threading.Lock()


# The app-wide row's fields that serving annotates on a branch as app_auth_<field>.
APP_AUTH_FIELDS = ("pk", "enabled", "username", "password_hash")


def _annotated_app_row(app: Any, branch: Any) -> BasicAuth | None:
    if branch.app_auth_pk is None:
        return None
    values = {field: getattr(branch, f"app_auth_{field}") for field in APP_AUTH_FIELDS}
    return BasicAuth(app=app, branch=None, **values)


def effective_basic_auth(app: Any, branch: Any) -> BasicAuth | None:
    """The setting that guards `branch` (None: the app-wide one) when it is on, else None.

    A branch's own row wins even when it is off: that is how one branch is opened while
    the app's others stay protected."""
    row = None
    if branch is not None:
        try:
            row = branch.basic_auth  # no query when the caller selected it with the branch
        except BasicAuth.DoesNotExist:
            row = None
    if row is None and branch is not None and hasattr(branch, "app_auth_pk"):
        row = _annotated_app_row(app, branch)  # serving read it with the branch: no query
    elif row is None:
        row = BasicAuth.objects.filter(app=app, branch__isnull=True).first()
    # On without a password cannot be saved; should it exist, check_authorization refuses all.
    return row if row is not None and row.enabled else None


def _cache_key(header: str, auth: BasicAuth) -> bytes:
    material = "\0".join((str(auth.pk), auth.username, auth.password_hash, header))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).digest()


def _decode_header(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        raw = binascii.a2b_base64(token.strip().encode("ascii"), strict_mode=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def check_authorization(header: str | None, auth: BasicAuth) -> bool:
    """Whether an Authorization header carries `auth`'s username and password."""
    if not header or len(header) > MAX_AUTHORIZATION_LENGTH or not auth.password_hash:
        return False
    key = _cache_key(header, auth)
    with _verified_lock:
        if key in _verified:
            _verified.move_to_end(key)
            return True
    credentials = _decode_header(header)
    if credentials is None:
        return False
    username, password = credentials
    # Both checks run whatever the first says, so timing tells nothing about the username.
    same_user = hmac.compare_digest(username.encode("utf-8", "surrogatepass"), auth.username.encode("utf-8"))
    same_password = check_password(password, auth.password_hash)
    if not (same_user and same_password):
        return False
    with _verified_lock:
        _verified[key] = None
        while len(_verified) > CACHE_SIZE:
            _verified.popitem(last=False)
    return True


def forget_verified() -> None:
    """Empty the cache of successful checks (tests; a process that wants a fresh start)."""
    with _verified_lock:
        _verified.clear()


def _quoted(text: str) -> str:
    cleaned = _CONTROL.sub("", text)[:200]
    return cleaned.replace("\\", "\\\\").replace('"', '\\"')


def challenge(realm: str) -> HttpResponse:
    """The 401 that makes a browser ask for the username and password."""
    response = HttpResponse("This site is password protected.", status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = f'Basic realm="{_quoted(realm)}", charset="UTF-8"'
    response["Cache-Control"] = "no-store"
    return response


def validate_username(username: str) -> None:
    if not username:
        raise ValueError("The username is empty.")
    if len(username) > MAX_USERNAME_LENGTH:
        raise ValueError(f"The username is longer than {MAX_USERNAME_LENGTH} characters.")
    # RFC 7617: the user-id ends at the first colon, so it can never hold one.
    if ":" in username or _CONTROL.search(username):
        raise ValueError("The username cannot contain a colon or control characters.")


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"The password is longer than {MAX_PASSWORD_LENGTH} characters.")
    if _CONTROL.search(password):
        raise ValueError("The password cannot contain control characters.")


def parse_basic_auth_credentials(value: str) -> tuple[str, str]:
    """(username, password) of the Amplify API's basicAuthCredentials, base64 of "user:password".

    Raises ValueError saying what is wrong (never repeating the password)."""
    if len(value) > MAX_CREDENTIALS_LENGTH:
        raise ValueError(f"basicAuthCredentials is longer than {MAX_CREDENTIALS_LENGTH} characters.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ValueError("basicAuthCredentials must be base64 of UTF-8 text: base64('user:password').") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise ValueError("basicAuthCredentials must be base64 of 'user:password': no colon was found.")
    validate_username(username)
    validate_password(password)
    return username, password


def protection_overview(app: Any) -> tuple[BasicAuth | None, list[tuple[Any, BasicAuth | None]]]:
    """The app-wide setting and, for each branch, its own setting (None: it follows the app's)."""
    rows = {row.branch_id: row for row in BasicAuth.objects.filter(app=app)}
    return rows.get(None), [(branch, rows.get(branch.pk)) for branch in app.branches.order_by("name")]
