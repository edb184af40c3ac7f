"""The embedded AWS emulator: a moto server in its own process on 127.0.0.1.

Used by `make run` (through the `runconsole` command) and by the tests that need
AWS over real HTTP (browser tests, presigned URLs, build subprocesses).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_emulator(port: int | None = None, *, timeout: float = 30.0) -> Emulator:
    """Start `moto.server` on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    if port_in_use(port):
        raise EmulatorError(f"Port {port} is already in use; set EMULATOR_PORT to a free port.")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
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
