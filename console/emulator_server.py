"""The embedded AWS emulator's process: moto's own server, plus one endpoint of ours.

Run as `python -m console.emulator_server -H 127.0.0.1 -p PORT` (console.emulator
starts it). Every request goes to moto unchanged (its API, `/moto-api/reset`, ...)
except `POST /_emulator/cloudformation/stack-state`, which gives a stack the status,
reason and age that moto cannot produce by itself (it creates every stack
CREATE_COMPLETE, now). JSON body:

    {"region": "us-east-1", "stack_name": "<name or stack id>",
     "status": "UPDATE_ROLLBACK_COMPLETE", "reason": "...",
     "created_days_ago": 60, "updated_days_ago": 45}

Only for the demo seed and the tests (to show a stale or failed sandbox); the
console's own code never calls it, and real AWS has no such thing.

One fix to moto itself (`fix_moto`): GetTemplateSummary answers the template's
`Metadata` as JSON text, as CloudFormation does; moto 5 answers a Python repr
(`{'AWS::Amplify::Platform': ...}`), which the real Amplify toolchain cannot parse
("Stack template metadata is not a string"). And CloudWatch Logs filter patterns are
checked and matched as CloudWatch does (`console.emulator_logs`).
Importing this module starts nothing and does not import moto.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

STACK_STATE_PATH = "/_emulator/cloudformation/stack-state"
MAX_BODY_BYTES = 64 * 1024
MAX_DAYS = 36500
MAX_REASON_LENGTH = 4096
# CloudFormation's stack statuses, less DELETE_COMPLETE (use DeleteStack for that:
# moto keeps deleted stacks apart).
STACK_STATUSES = frozenset(
    f"{prefix}{suffix}"
    for prefix, suffixes in {
        "CREATE_": ("IN_PROGRESS", "FAILED", "COMPLETE"),
        "ROLLBACK_": ("IN_PROGRESS", "FAILED", "COMPLETE"),
        "DELETE_": ("IN_PROGRESS", "FAILED"),
        "UPDATE_": ("IN_PROGRESS", "COMPLETE_CLEANUP_IN_PROGRESS", "COMPLETE", "FAILED"),
        "UPDATE_ROLLBACK_": ("IN_PROGRESS", "FAILED", "COMPLETE_CLEANUP_IN_PROGRESS", "COMPLETE"),
        "REVIEW_": ("IN_PROGRESS",),
        "IMPORT_": ("IN_PROGRESS", "COMPLETE"),
        "IMPORT_ROLLBACK_": ("IN_PROGRESS", "FAILED", "COMPLETE"),
    }.items()
    for suffix in suffixes
)
FIELDS = {"region", "stack_name", "status", "reason", "created_days_ago", "updated_days_ago"}

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class HookError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _days(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_DAYS:
        raise HookError(400, f"{key} must be a number of days from 0 to {MAX_DAYS}.")
    return float(value)


def _text(body: dict[str, Any], key: str, *, required: bool = False, limit: int = 1024) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise HookError(400, f"{key} must be a {'non-empty ' if required else ''}string of at most {limit} characters.")
    return value


def parse_stack_state(raw: bytes) -> dict[str, Any]:
    """The request body, checked; HookError(400) says what is wrong."""
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HookError(400, f"The body is not JSON: {error}.") from None
    if not isinstance(body, dict):
        raise HookError(400, "The body must be a JSON object.")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise HookError(400, f"Unknown fields: {', '.join(unknown)} (allowed: {', '.join(sorted(FIELDS))}).")
    state = {
        "region": _text(body, "region", required=True, limit=32),
        "stack_name": _text(body, "stack_name", required=True),
        "status": _text(body, "status", limit=64),
        "reason": _text(body, "reason", limit=MAX_REASON_LENGTH),
        "created_days_ago": _days(body, "created_days_ago"),
        "updated_days_ago": _days(body, "updated_days_ago"),
    }
    if state["status"] is not None and state["status"] not in STACK_STATUSES:
        raise HookError(400, f"status {state['status']!r} is not a CloudFormation stack status (DELETE_COMPLETE: delete it).")
    if all(state[key] is None for key in ("status", "reason", "created_days_ago", "updated_days_ago")):
        raise HookError(400, "Nothing to set: give status, reason, created_days_ago or updated_days_ago.")
    return state


def set_stack_state(state: dict[str, Any]) -> dict[str, Any]:
    """Apply a parsed request to moto's stack (in this process); returns its new state."""
    from moto.cloudformation.models import cloudformation_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    backends = cloudformation_backends[DEFAULT_ACCOUNT_ID]
    region, wanted = state["region"], state["stack_name"]
    if region not in backends:
        raise HookError(400, f"Unknown region {region!r}.")
    stacks = backends[region].stacks
    # Any: moto sets the reason and the update time only once a stack has them.
    stack: Any = stacks.get(wanted) or next((s for s in list(stacks.values()) if s.name == wanted), None)
    if stack is None:
        raise HookError(404, f"No live stack {wanted!r} in {region}.")
    now = datetime.now(UTC).replace(tzinfo=None)  # moto keeps naive UTC times
    if state["status"] is not None:
        stack.status = state["status"]
    if state["reason"] is not None:
        stack.stack_status_reason = state["reason"]
    if state["created_days_ago"] is not None:
        stack.creation_time = now - timedelta(days=state["created_days_ago"])
    if state["updated_days_ago"] is not None:
        stack.last_updated_time = now - timedelta(days=state["updated_days_ago"])
    updated = getattr(stack, "last_updated_time", None)
    return {
        "stack_id": stack.stack_id,
        "stack_name": stack.name,
        "status": stack.status,
        "reason": getattr(stack, "stack_status_reason", None),
        "creation_time": stack.creation_time.isoformat() + "Z",
        "last_updated_time": updated.isoformat() + "Z" if updated else None,
    }


def fix_moto() -> None:
    """Patch moto, in this process, where it answers unlike AWS (see the module's docstring)."""
    from moto.cloudformation import responses

    from console.emulator_logs import fix_moto_logs

    fix_moto_logs()
    summary_of = responses.get_template_summary_response_from_template
    if getattr(summary_of, "answers_metadata_as_json", False):
        return

    def summary_with_json_metadata(template_body: str) -> dict[str, Any]:
        summary = summary_of(template_body)
        if "Metadata" in summary and not isinstance(summary["Metadata"], str):
            summary["Metadata"] = json.dumps(summary["Metadata"], separators=(",", ":"))
        return summary

    summary_with_json_metadata.answers_metadata_as_json = True  # type: ignore[attr-defined]
    responses.get_template_summary_response_from_template = summary_with_json_metadata  # type: ignore[assignment]


class EmulatorHooks:
    """WSGI middleware: our endpoint, or else the wrapped moto app."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != STACK_STATE_PATH:
            return self.app(environ, start_response)
        try:
            if environ.get("REQUEST_METHOD") != "POST":
                raise HookError(405, f"Use POST on {STACK_STATE_PATH}.")
            status, body = 200, set_stack_state(parse_stack_state(_read_body(environ)))
        except HookError as error:
            status, body = error.status, {"error": str(error)}
        payload = json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        if status == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [payload]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HookError(400, "Bad Content-Length.") from None
    if length > MAX_BODY_BYTES:
        raise HookError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


def main(argv: list[str] | None = None) -> None:
    """Serve like `python -m moto.server` does (threaded werkzeug), with the hooks in front."""
    import os
    import signal
    import sys

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs (SQS queues, ...) from it
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: sys.exit(0))
    fix_moto()
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True  # type: ignore[attr-defined]
    run_simple(args.host, args.port, EmulatorHooks(moto_app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
