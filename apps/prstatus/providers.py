"""The calls GitHub and GitLab document for a commit status and a pull request's comment,
built as data (method, path under the API's base URL, JSON body, headers); sending them is
apps.prstatus.reporting's job.

GitHub (REST, 2022-11-28): POST /repos/{owner}/{repo}/statuses/{sha} {state, target_url,
description, context}; POST /repos/{owner}/{repo}/issues/{n}/comments {body} answers the
comment with its `id`; PATCH /repos/{owner}/{repo}/issues/comments/{id} {body}.
GitLab (v4): POST /projects/{id}/statuses/{sha} {state, target_url, name, description};
POST /projects/{id}/merge_requests/{iid}/notes {body} answers the note with its `id`;
PUT /projects/{id}/merge_requests/{iid}/notes/{note_id} {body}. A project path is URL-encoded
as one segment (group%2Fproject)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from apps.prstatus.models import Provider, State

USER_AGENT = "amplify-console-prstatus"

_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GITLAB_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_GITLAB_PROJECT = re.compile(rf"^(?:[0-9]+|{_GITLAB_SEGMENT}(?:/{_GITLAB_SEGMENT})+)$")

_STATES = {
    Provider.GITHUB: {State.RUNNING: "pending", State.SUCCEEDED: "success", State.FAILED: "failure", State.CANCELLED: "error"},
    Provider.GITLAB: {State.RUNNING: "running", State.SUCCEEDED: "success", State.FAILED: "failed", State.CANCELLED: "canceled"},
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # under the API's base URL, starting with "/"
    body: dict[str, Any]

    def encoded(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


def validate_repository(provider: str, repository: str) -> str:
    """The repository as stored; ValidationError (keyed `repository`) saying what is expected."""
    repository = repository.strip().strip("/")
    if provider == Provider.GITHUB:
        name = repository.partition("/")[2]
        if not _GITHUB_REPOSITORY.match(repository) or name in (".", ".."):
            raise ValidationError({"repository": "Enter the GitHub repository as owner/name, for example octo-org/shop."})
    elif not _GITLAB_PROJECT.match(repository) or ".." in repository:
        raise ValidationError(
            {"repository": "Enter the GitLab project's path (group/project, subgroups allowed) or its numeric id."}
        )
    return repository


def _base(provider: str, repository: str) -> str:
    if provider == Provider.GITHUB:
        owner, _, name = repository.partition("/")
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
    return f"/projects/{quote(repository, safe='')}"


def context_name(number: int) -> str:
    """The status's label, one per pull request's preview."""
    return f"amplify-console/pr-{number}"


def status_request(
    provider: str, repository: str, *, number: int, sha: str, state: str, description: str, target_url: str
) -> Request:
    body: dict[str, Any] = {"state": _STATES[Provider(provider)][State(state)], "target_url": target_url}
    body["description"] = description
    body["context" if provider == Provider.GITHUB else "name"] = context_name(number)
    return Request("POST", f"{_base(provider, repository)}/statuses/{quote(sha, safe='')}", body)


def comment_create(provider: str, repository: str, *, number: int, body: str) -> Request:
    if provider == Provider.GITHUB:
        return Request("POST", f"{_base(provider, repository)}/issues/{number}/comments", {"body": body})
    return Request("POST", f"{_base(provider, repository)}/merge_requests/{number}/notes", {"body": body})


def comment_update(provider: str, repository: str, *, number: int, comment_id: str, body: str) -> Request:
    comment = quote(comment_id, safe="")
    if provider == Provider.GITHUB:
        return Request("PATCH", f"{_base(provider, repository)}/issues/comments/{comment}", {"body": body})
    return Request("PUT", f"{_base(provider, repository)}/merge_requests/{number}/notes/{comment}", {"body": body})


@sensitive_variables("token")
def headers(provider: str, token: str) -> dict[str, str]:
    common = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if provider == Provider.GITHUB:
        return common | {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        }
    return common | {"Accept": "application/json", "PRIVATE-TOKEN": token}


def created_id(answer: bytes) -> str | None:
    """The `id` of the comment or note a create answered with, or None when it names none."""
    try:
        document = json.loads(answer)
    except ValueError:
        return None
    identifier = document.get("id") if isinstance(document, dict) else None
    return str(identifier) if isinstance(identifier, int) and not isinstance(identifier, bool) else None


def answer_message(answer: bytes) -> str:
    """The error message a git host put in its answer (both use `message`), if any."""
    try:
        document = json.loads(answer)
    except ValueError:
        return ""
    message = document.get("message", "") if isinstance(document, dict) else ""
    return message if isinstance(message, str) else json.dumps(message)[:300]
