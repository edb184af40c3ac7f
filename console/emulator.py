"""The embedded AWS emulator: a moto server in its own process on 127.0.0.1.

Used by `make run` (through the `runconsole` command) and by the tests that need
AWS over real HTTP (browser tests, presigned URLs, build subprocesses). The
process runs console.emulator_server: moto, plus a hook the demo seed and the
tests use to give a stack a status and an age (`set_stack_state`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.emulator_server import STACK_STATE_PATH

ROOT = Path(__file__).resolve().parent.parent
# Credentials the emulator accepts; real AWS never sees them.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class EmulatorError(RuntimeError):
    pass


@dataclass
class Emulator:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def reset(self) -> None:
        """Forget every resource (moto's reset endpoint); for tests."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=10).close()

    def set_stack_state(self, *, region: str, stack_name: str, **state: Any) -> dict[str, Any]:
        """See the module function `set_stack_state`."""
        return set_stack_state(self.endpoint_url, region=region, stack_name=stack_name, **state)


def set_stack_state(
    endpoint_url: str,
    *,
    region: str,
    stack_name: str,
    status: str | None = None,
    reason: str | None = None,
    created_days_ago: float | None = None,
    updated_days_ago: float | None = None,
) -> dict[str, Any]:
    """Give a stack on the embedded emulator a status, reason and age moto cannot produce.

    For the demo seed and the tests only (a stale or failed sandbox to look at): the
    console itself never calls it, and only our emulator (console.emulator_server)
    answers it. `stack_name` is a name or a stack id. Returns the stack's new state;
    raises EmulatorError with the emulator's message (bad input, unknown stack,
    or an endpoint that is not our emulator).
    """
    if not endpoint_url.startswith(("http://", "https://")):
        raise EmulatorError(f"Not an emulator endpoint: {endpoint_url!r}.")
    fields = {
        "region": region,
        "stack_name": stack_name,
        "status": status,
        "reason": reason,
        "created_days_ago": created_days_ago,
        "updated_days_ago": updated_days_ago,
    }
    body = json.dumps({key: value for key, value in fields.items() if value is not None}).encode()
    request = urllib.request.Request(
        endpoint_url.rstrip("/") + STACK_STATE_PATH, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        try:
            detail = str(json.loads(detail)["error"])
        except (ValueError, KeyError, TypeError):
            detail = f"{detail[:200]} (is {endpoint_url} the console's emulator?)"
        raise EmulatorError(f"Setting the state of stack {stack_name} failed ({error.code}): {detail}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        raise EmulatorError(f"Cannot reach the emulator at {endpoint_url}: {error}") from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_emulator(port: int | None = None, *, timeout: float = 30.0) -> Emulator:
    """Start the emulator (moto's server, with our hook) on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    if port_in_use(port):
        raise EmulatorError(f"Port {port} is already in use; set EMULATOR_PORT to a free port.")
    process = subprocess.Popen(
        [sys.executable, "-m", "console.emulator_server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,  # where `-m console.emulator_server` is found
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **EMULATOR_CREDENTIALS},
        start_new_session=True,  # Ctrl-C reaches the launcher, which stops it in order.
    )
    emulator = Emulator(process=process, port=port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(f"The AWS emulator exited with code {process.returncode}.")
        try:
            urllib.request.urlopen(f"{emulator.endpoint_url}/moto-api/", timeout=1).close()
            return emulator
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    emulator.stop()
    raise EmulatorError(f"The AWS emulator did not answer on port {port} within {timeout:.0f} s.")
