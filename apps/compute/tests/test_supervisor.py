"""The supervisor with real Node.js servers in the real sandbox: cold start, idle stop,
crash restart with backoff, a server that cannot start, and what a server is given."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from apps.branches.models import App, Branch
from apps.compute.models import ComputeLogLine, ComputeServer
from apps.compute.supervisor import ServerUnavailable, Supervisor
from apps.compute.tests.conftest import needs_servers
from apps.compute.tests.servers import SERVER_JS, deploy, server_folder
from apps.secrets import services as secret_services
from apps.secrets.scopes import Scope

pytestmark = [*needs_servers, pytest.mark.django_db(transaction=True)]
State = ComputeServer.State


def get(port: int, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return answer.read().decode()


def state(deployment_pk: int) -> ComputeServer:
    return ComputeServer.objects.get(deployment__deployment_id=deployment_pk, host="test-host")


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def main_branch(app: App) -> Branch:
    return app.branches.get(name="main")


def test_the_first_request_starts_the_server_and_later_ones_reuse_it(app: App, tmp_path: Path, supervisor: Supervisor) -> None:
    deployment = deploy(main_branch(app), server_folder(tmp_path))
    started = time.monotonic()
    port = supervisor.ensure(deployment.pk)
    cold_start = time.monotonic() - started
    assert get(port).startswith("one 1 main")
    assert supervisor.ensure(deployment.pk) == port
    assert get(port).startswith("one 2 main")  # the same process: its counter went on
    assert cold_start < 3.0
    row = state(deployment.pk)
    assert (row.state, row.port, row.branch_id) == (State.RUNNING, port, deployment.branch_id)
    supervisor.sink.flush()
    lines = list(ComputeLogLine.objects.filter(branch=deployment.branch).values_list("stream", "text"))
    assert ("stdout", f"listening on {port}") in lines
    assert any(stream == "hostd" and text.startswith(f"Ready on port {port}") for stream, text in lines)


def test_an_idle_server_is_stopped_and_the_next_request_starts_it_again(
    app: App, tmp_path: Path, supervisor: Supervisor, settings: Any
) -> None:
    deployment = deploy(main_branch(app), server_folder(tmp_path))
    settings.COMPUTE_IDLE_MINUTES = 0.01  # 0.6 s
    port = supervisor.ensure(deployment.pk)
    process = supervisor.servers[deployment.pk].process
    assert process is not None
    supervisor.sweep()
    assert state(deployment.pk).state == State.RUNNING  # not idle yet
    time.sleep(0.8)
    supervisor.sweep()
    row = state(deployment.pk)
    assert row.state == State.STOPPED
    assert "idle" in row.stop_reason
    assert process.poll() is not None  # the process is gone: an idle app holds no memory
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    port = supervisor.ensure(deployment.pk)  # the cold start after idling
    assert get(port).startswith("one 1 main")


def test_a_crashed_server_shows_its_last_output_and_restarts_after_a_backoff(
    app: App, tmp_path: Path, supervisor: Supervisor
) -> None:
    deployment = deploy(main_branch(app), server_folder(tmp_path))
    port = supervisor.ensure(deployment.pk)
    with pytest.raises(http.client.RemoteDisconnected):
        get(port, "/crash")
    row = wait_for(lambda: (found := state(deployment.pk)).state == State.CRASHED and found)
    assert row.last_exit_code == 3
    assert row.restarts == 1
    assert "crashing on purpose" in row.last_output
    with pytest.raises(ServerUnavailable) as refused:
        supervisor.ensure(deployment.pk)  # within the backoff
    assert refused.value.retry_after >= 1
    assert "crashing on purpose" in refused.value.output
    time.sleep(1.1)
    supervisor.sweep()  # the backoff is over and it had traffic: restarted
    assert state(deployment.pk).state == State.RUNNING
    assert get(supervisor.ensure(deployment.pk)).startswith("one 1 main")
    # A second crash in a row waits twice as long.
    with pytest.raises(http.client.RemoteDisconnected):
        get(supervisor.servers[deployment.pk].port, "/crash")
    wait_for(lambda: state(deployment.pk).state == State.CRASHED)
    assert supervisor.servers[deployment.pk].retry_at - time.monotonic() > 1.2


def test_a_server_that_fails_to_start_never_runs_and_says_why(app: App, tmp_path: Path, supervisor: Supervisor) -> None:
    broken = server_folder(tmp_path, source="throw new Error('missing configuration XYZ');\n")
    deployment = deploy(main_branch(app), broken)
    with pytest.raises(ServerUnavailable) as failed:
        supervisor.ensure(deployment.pk)
    assert "exited with code 1 while starting" in str(failed.value)
    assert "missing configuration XYZ" in failed.value.output
    assert state(deployment.pk).state == State.CRASHED


def test_a_port_someone_else_listens_on_is_never_taken_for_the_server(app: App, tmp_path: Path, supervisor: Supervisor) -> None:
    deployment = deploy(main_branch(app), server_folder(tmp_path))
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    try:
        from apps.compute.supervisor import Server

        supervisor.servers[deployment.pk] = Server(
            deployment_pk=deployment.pk, branch_pk=deployment.branch_id, port=squatter.getsockname()[1]
        )
        with pytest.raises(ServerUnavailable) as refused:
            supervisor.ensure(deployment.pk)
        assert "EADDRINUSE" in refused.value.output
        assert state(deployment.pk).state != State.RUNNING
    finally:
        squatter.close()


def test_the_server_gets_the_branch_s_variables_and_secrets_but_nothing_of_the_console(
    app: App, tmp_path: Path, supervisor: Supervisor, settings: Any
) -> None:
    from apps.branches import services

    branch = main_branch(app)
    services.env_var_set(actor=None, app=app, name="GREETING", value="hello from the app")
    secret_services.secret_set(actor=None, scope=Scope.shared(app.app_id), name="API_TOKEN", value="s3cr3t-token-value")
    printing = "console.log('token is ' + JSON.parse(process.env.secrets || '{}').API_TOKEN);\n" + SERVER_JS
    deployment = deploy(branch, server_folder(tmp_path, source=printing))
    port = supervisor.ensure(deployment.pk)
    env = json.loads(get(port, "/env"))
    assert env["GREETING"] == "hello from the app"
    assert json.loads(env["secrets"]) == {"API_TOKEN": "s3cr3t-token-value"}
    assert env["AWS_BRANCH"] == "main"
    assert env["PORT"] == str(port)
    for name in ("SECRET_KEY", "DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DJANGO_SETTINGS_MODULE"):
        assert name not in env, name
    supervisor.sink.flush()
    texts = "\n".join(ComputeLogLine.objects.filter(branch=branch).values_list("text", flat=True))
    assert "token is ********" in texts
    assert "s3cr3t-token-value" not in texts


def test_a_server_using_webassembly_runs_under_the_memory_limit(app: App, tmp_path: Path, supervisor: Supervisor) -> None:
    # fetch() parses HTTP in WebAssembly: a server that cannot make a WebAssembly memory cannot fetch.
    wasm = "new WebAssembly.Memory({initial: 1}); console.log('wasm ok');\n" + SERVER_JS
    deployment = deploy(main_branch(app), server_folder(tmp_path, source=wasm))
    port = supervisor.ensure(deployment.pk)
    assert get(port).startswith("one 1 main")
    assert "wasm ok" in supervisor.servers[deployment.pk].last_output()
