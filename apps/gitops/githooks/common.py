"""Git host webhooks (GitHub, GitLab): from a raw request to verified, validated domain events.

Pure: no models, no network. The view calls, in this order,
check_size -> verify_github / verify_gitlab -> parse_github / parse_gitlab,
so nothing from an unauthenticated body is parsed, and answers a HookError
with its `.status` and `str(error)`, which never echoes payload values.

Each event type's body is checked against its own JSON Schema
(schemas.json) requiring exactly the fields read here, so the
readers below can index without guarding, and a malformed delivery is
refused by field path ("pull_request.number: is required").
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from console.schemas import SCHEMA_TYPE_WORDS, dotted_path, json_type_word, schema_validator

# Real push and pull request deliveries are 10-60 kB; GitHub caps its own at 25 MB
# but a body this console would act on never comes near 256 kB.
MAX_BODY_BYTES = 256 * 1024
# Enough to fix a payload by; a hostile body must not produce a huge response.
MAX_ERRORS = 5
# Reasons quote payload strings (actions, refs); keep them log-sized.
MAX_QUOTED = 80

_SCHEMA_PATH = Path(__file__).with_name("schemas.json")
# GitLab action -> (our action, merged); "update" is handled apart (it needs oldrev).
BRANCH_PREFIX = "refs/heads/"
# user@host:path (git's scp-like syntax); a path starting with "/" after the colon is not one.
_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!/)\S+)$")
_NETWORK_SCHEMES = frozenset({"https", "http", "ssh", "git", "git+ssh", "ssh+git"})


# --- errors -------------------------------------------------------------------------------


class HookError(Exception):
    """A delivery we refuse; `status` is the HTTP status to answer, str() is safe to show."""

    status = 400


class BodyTooLarge(HookError):
    status = 413


class BadSignature(HookError):
    status = 401


class MalformedPayload(HookError):
    status = 400


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repo:
    """Every URL form a payload gives for its repository; same_repository() compares them."""

    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ping:
    repo: Repo


@dataclass(frozen=True)
class BranchPushed:
    branch: str
    commit: str
    message: str
    created: bool
    repo: Repo
    # The files the push changed since `before`; None when the delivery cannot say for sure
    # (a forced push, commits left out of a long push): then a worker asks git.
    before: str = ""
    files: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BranchDeleted:
    branch: str
    repo: Repo


@dataclass(frozen=True)
class BranchCreated:
    branch: str
    repo: Repo


@dataclass(frozen=True)
class PullRequest:
    number: int
    action: str
    head_branch: str
    head_commit: str
    base_branch: str
    draft: bool
    from_fork: bool
    merged: bool
    title: str
    repo: Repo


@dataclass(frozen=True)
class Ignored:
    reason: str
    # Empty for an event we do not know, whose body we do not read.
    repo: Repo = Repo()


GitHubEvent = Ping | BranchPushed | BranchDeleted | BranchCreated | PullRequest | Ignored
GitLabEvent = BranchPushed | BranchDeleted | PullRequest | Ignored


_FILE_LISTS = ("added", "modified", "removed")


def pushed_files(commits: list[Mapping[str, Any]]) -> tuple[str, ...] | None:
    """Every file the commits added, modified or removed, once, in order; None when a
    commit carries no lists (the delivery does not say)."""
    if not commits or any(not all(key in commit for key in _FILE_LISTS) for commit in commits):
        return None
    return tuple(dict.fromkeys(path for commit in commits for key in _FILE_LISTS for path in commit[key]))


# --- request checks -----------------------------------------------------------------------


def check_size(body: bytes, content_length: str | None) -> None:
    """BodyTooLarge if the declared or the actual size is over MAX_BODY_BYTES.

    Call it with an empty body first to refuse on Content-Length before reading.
    An unparsable Content-Length is left to the body's own length.
    """
    declared = content_length.strip() if content_length else ""
    if re.fullmatch(r"[0-9]+", declared) and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes; Content-Length says {int(declared)}")
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes; it has {len(body)}")


def require_secret(secret: str) -> None:
    # An empty key is one anybody can sign with: fail closed instead.
    if not secret:
        raise BadSignature("no webhook secret is configured")


# --- repository identity ------------------------------------------------------------------


def _local_identity(path: str) -> tuple[str, ...]:
    # A bare repo "x.git" and a checkout "x" are different directories, so no suffix stripping.
    return ("local", os.path.realpath(path))


def _network_identity(host: str, path: str) -> tuple[str, ...] | None:
    # Scheme, user and port are transport details: https://h/o/r, ssh://git@h:2222/o/r and git@h:o/r are one repository.
    path = unquote(path).strip("/").removesuffix(".git").rstrip("/")
    return ("net", host.lower(), path) if host and path else None


def _identity(url: str) -> tuple[str, ...] | None:
    """A comparable key for a repository URL, or None for something that names no repository."""
    url = url.strip()
    if url.startswith("/"):
        return _local_identity(url)
    if "://" not in url:
        match = _SCP_LIKE.match(url)
        return _network_identity(match["host"], match["path"]) if match else None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
        return _local_identity(unquote(parts.path))
    if scheme in _NETWORK_SCHEMES:
        return _network_identity(parts.hostname or "", parts.path)
    return None


def same_repository(app_repository: str, repo: Repo) -> bool:
    """Whether any URL the payload names is the app's repository, whatever URL form each uses."""
    wanted = _identity(app_repository)
    return wanted is not None and any(_identity(url) == wanted for url in repo.urls)


def repo_from(*objects: Mapping[str, Any] | None, fields: tuple[str, ...]) -> Repo:
    urls = [obj[field] for obj in objects if obj for field in fields if isinstance(obj.get(field), str) and obj[field]]
    return Repo(tuple(dict.fromkeys(urls)))  # de-duplicated, first form first


# --- JSON and schema ----------------------------------------------------------------------


def _refuse_constant(name: str) -> NoReturn:
    # json.loads accepts NaN and Infinity, which are not JSON.
    raise ValueError(f"{name} is not valid JSON")


def _malformed(message: str) -> NoReturn:
    raise MalformedPayload(f"malformed payload: {message}")


def load_object(body: bytes) -> dict[str, Any]:
    check_size(body, None)
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        _malformed("the body is not UTF-8 text")
    except json.JSONDecodeError as error:
        hint = " (set the webhook's content type to application/json)" if body.startswith(b"payload=") else ""
        _malformed(f"the body is not JSON{hint}: {error.msg} at line {error.lineno}, column {error.colno}")
    except RecursionError:
        _malformed("the body is nested too deeply")
    except ValueError as error:
        _malformed(str(error))
    if not isinstance(document, dict):
        _malformed(f"the body must be a JSON object, not {json_type_word(document)}")
    _refuse_lone_surrogates(document)
    return document


def _refuse_lone_surrogates(document: dict[str, Any]) -> None:
    # "\ud800" escapes decode to strings no database or log can store; UTF-8 encoding finds them.
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        _malformed("the body has an escaped lone surrogate, which is not Unicode text")


def _where(path: Iterable[str | int]) -> str:
    return dotted_path(path, empty="(body)")


def _messages(error: ValidationError) -> list[str]:
    """'field.path: what is wrong', naming only schema keys and JSON types, never the value."""
    path = list(error.absolute_path)[1:]  # drop the envelope's "payload"
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required" and isinstance(error.instance, dict):
        return [f"{_where([*path, key])}: is required" for key in error.validator_value if key not in error.instance]
    if error.validator == "type":
        wanted = [error.validator_value] if isinstance(error.validator_value, str) else list(error.validator_value)
        return [
            f"{_where(path)}: must be {' or '.join(SCHEMA_TYPE_WORDS[w] for w in wanted)}, not {json_type_word(error.instance)}"
        ]
    if "x-message" in schema:
        return [f"{_where(path)}: {schema['x-message']}"]
    if error.validator == "minimum":
        return [f"{_where(path)}: must be at least {error.validator_value}"]
    return [f"{_where(path)}: is not valid ({error.validator})"]


def validated(schema_event: str, body: bytes) -> dict[str, Any]:
    """The body as an object that satisfies the schema for `schema_event`, else MalformedPayload."""
    payload = load_object(body)
    validator: Draft202012Validator = schema_validator(_SCHEMA_PATH)
    # jsonschema reports a `required` list once per missing key, each listing them all: hence the set.
    errors = validator.iter_errors({"event": schema_event, "payload": payload})
    found = {message for error in errors for message in _messages(error)}
    if found:
        messages = sorted(found)
        more = f"; and {len(messages) - MAX_ERRORS} more" if len(messages) > MAX_ERRORS else ""
        _malformed("; ".join(messages[:MAX_ERRORS]) + more)
    return payload


def quoted(value: str) -> str:
    return repr(value if len(value) <= MAX_QUOTED else value[:MAX_QUOTED] + "...")


def is_zero(commit: str) -> bool:
    # The all-zero id stands for "no commit": the ref did not exist before, or no longer does.
    return set(commit) == {"0"}
