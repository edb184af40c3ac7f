"""The issue's proof, end to end: a real build fails on a real Celery worker, and its mail
reaches a real SMTP server (aiosmtpd, on a free port) while its signed webhook reaches a
local receiver, both sent by that worker."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.branches import services as branch_services
from apps.builds import jobs
from apps.builds.models import Job
from apps.notifications.models import Delivery
from apps.notifications.services import subscription_create
from apps.notifications.tests.conftest import Receiver
from conftest import drain_output, queued_to_workers, wait_for, worker_env
from console.emulator import Emulator
from console.worker_process import start_worker

pytestmark = pytest.mark.worker


@dataclass
class Mailbox:
    port: int
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def test_a_failed_real_build_is_mailed_to_a_real_smtp_server_and_posted_signed(
    transactional_db: None,
    emulator: Emulator,
    settings: Any,
    make_repo: Callable[..., Path],
    smtp_server: Mailbox,
    receiver: Receiver,
) -> None:
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True  # the receiver is on 127.0.0.1
    spec = yaml.safe_dump({"version": 1, "frontend": {"phases": {"build": {"commands": ["echo building", "exit 1"]}}}})
    repo = make_repo(("main",), {"amplify.yml": spec})
    app = branch_services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
    subscription_create(actor=None, app=app, kind="EMAIL", target="oncall@example.com", branch=None, events=["failed"])
    secret = subscription_create(
        actor=None, app=app, kind="WEBHOOK", target=receiver.url, branch=None, events=["started", "failed"]
    ).secret
    env = worker_env(
        emulator,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        DEFAULT_FROM_EMAIL="console@example.com",
        NOTIFICATIONS_ALLOW_PRIVATE_TARGETS="1",
        CONSOLE_URL="https://console.example.com",
    )
    with queued_to_workers(emulator, settings) as workers:
        worker = start_worker(env, "--pool", "prefork", "--concurrency", "2", name="notify-worker")
        workers.append(worker)
        output = drain_output(worker)
        job = jobs.job_start(branch=app.branches.get(name="main"), job_type=Job.Type.MANUAL, triggered_by="pytest")

        def tail() -> str:
            return "\n".join(list(output)[-60:])

        wait_for(lambda: smtp_server.messages, 120, on_timeout=lambda: f"no mail; worker said:\n{tail()}")
        wait_for(lambda: len(receiver.received) >= 2, 60, on_timeout=lambda: f"webhooks: {receiver.received}\n{tail()}")
        wait_for(lambda: not Delivery.objects.filter(status=Delivery.Status.PENDING).exists(), 30)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.exit_code == 1

    [(sender, recipients, message)] = smtp_server.messages
    assert (sender, recipients) == ("console@example.com", ["oncall@example.com"])
    assert message["Subject"] == f"[Shop] Build failed: Shop / main #{job.job_id} (commit {job.commit_id[:12]})"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"https://console.example.com/apps/{app.app_id}/branches/main/jobs/{job.job_id}/" in body
    assert "Failed command: exit 1 (exit code 1)" in body

    events = []
    for headers, raw in receiver.received:
        expected = hmac.new(secret.encode(), headers["X-Console-Timestamp"].encode() + b"." + raw, hashlib.sha256)
        assert hmac.compare_digest(headers["X-Console-Signature"], f"sha256={expected.hexdigest()}")
        events.append(json.loads(raw))
    assert [e["event"] for e in events] == ["started", "failed"]
    assert events[1]["commit"]["id"] == job.commit_id
    assert events[1]["status"] == "FAILED"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"SUCCEEDED"}
