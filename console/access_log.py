"""gunicorn's access log without credentials: incoming webhook URLs carry their token in
the query string (as Amplify's do), and git hosts and API clients send theirs in headers.
Every request line, query string, referrer and header a log format can name goes
through here first (`--logger-class console.access_log.RedactingLogger`)."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# Query parameters whose values are credentials, wherever they appear in a URL.
_SECRET_PARAMETER = re.compile(
    r"(?P<name>(?:^|[?&;])(?:[^=&;?\s]*token|[^=&;?\s]*secret|[^=&;?\s]*signature|password|passwd|api_?key|x-amz-credential)=)"
    r"[^&;#\s]*",
    re.IGNORECASE,
)
_SECRET_HEADERS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-gitlab-token",
    "x-hub-signature",
    "x-hub-signature-256",
    "x-api-key",
    "x-amz-security-token",
    "x-csrftoken",
}
# The same as WSGI environ keys, for the `{...}e` atoms.
_SECRET_ENVIRON = {f"http_{name.replace('-', '_')}" for name in _SECRET_HEADERS}
_URL_ENVIRON = {"raw_uri", "query_string", "request_uri", "http_referer"}


def redact_url(text: str) -> str:
    """`text` (a URL, a query string, a request line) with credential parameters' values hidden."""
    return _SECRET_PARAMETER.sub(lambda match: match["name"] + REDACTED, text)


class RedactingLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_url(atoms[key])
        for key, value in atoms.items():
            if not (key.startswith("{") and len(key) > 3):
                continue
            name, kind = key[1:-2].lower(), key[-1]
            if (kind in "io" and name in _SECRET_HEADERS) or (kind == "e" and name in _SECRET_ENVIRON):
                atoms[key] = REDACTED
            elif kind == "e" and name in _URL_ENVIRON and isinstance(value, str):
                atoms[key] = redact_url(value)
        return atoms
