"""The access log gunicorn writes holds no webhook token, API credential or cookie."""

from __future__ import annotations

import datetime
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from gunicorn.config import Config

from console.access_log import RedactingLogger, redact_url

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "q3Zt8-webhook-token-value_Xy"


def access_line(uri: str, headers: dict[str, str], log_format: str | None = None) -> str:
    config = Config()
    config.set("accesslog", "-")
    if log_format:
        config.set("access_log_format", log_format)
    logger = RedactingLogger(config)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger.access_log.handlers = [Keep()]
    path, _, query = uri.partition("?")
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": uri, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.7",
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }  # fmt: skip
    response = SimpleNamespace(status="202 Accepted", sent=2, headers=[("Content-Type", "application/json")])
    request = SimpleNamespace(headers=list(headers.items()))
    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    assert len(records) == 1
    return records[0]


def test_a_webhook_call_is_logged_without_its_token() -> None:
    line = access_line(f"/webhooks?id=5b1e&token={TOKEN}&operation=startbuild", {"User-Agent": "curl/8"})
    assert TOKEN not in line
    assert '"POST /webhooks?id=5b1e&token=[redacted]&operation=startbuild HTTP/1.1" 202' in line


def test_formats_naming_the_query_headers_or_environ_are_redacted_too() -> None:
    headers = {"X-Gitlab-Token": TOKEN, "Authorization": f"Bearer {TOKEN}", "Cookie": f"sessionid={TOKEN}",
               "Referer": f"https://ci.example/hook?token={TOKEN}"}  # fmt: skip
    fmt = "%(q)s %(f)s %({x-gitlab-token}i)s %({authorization}i)s %({cookie}i)s %({raw_uri}e)s %({http_cookie}e)s"
    line = access_line(f"/webhooks?token={TOKEN}&id=1", headers, fmt)
    assert TOKEN not in line
    assert line.count("[redacted]") == 7


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("/x?token=abc", "/x?token=[redacted]"),
        ("/x?a=1&Token=abc&b=2", "/x?a=1&Token=[redacted]&b=2"),
        ("/x?access_token=abc;secret=def", "/x?access_token=[redacted];secret=[redacted]"),
        ("/x?X-Amz-Credential=AKIA&X-Amz-Signature=ff", "/x?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]"),
        ("/x?id=1&operation=startbuild", "/x?id=1&operation=startbuild"),
        ("/tokens/?page=2", "/tokens/?page=2"),
    ],
)
def test_only_credential_parameters_are_hidden(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_every_way_the_console_starts_gunicorn_uses_the_redacting_logger() -> None:
    flag = ("--logger-class", "console.access_log.RedactingLogger")
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert " ".join(flag) in " ".join(yaml.safe_load(cmd.group(1)))
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert " ".join(flag) in compose["services"]["web"]["command"]
    runconsole = (ROOT / "apps/demo/management/commands/runconsole.py").read_text()
    assert '["--logger-class", "console.access_log.RedactingLogger"]' in runconsole
