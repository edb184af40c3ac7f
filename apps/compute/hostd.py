"""`manage.py hostd`: the compute supervisor of this machine and its control socket.

Web processes and build workers of the same machine ask it, over a Unix socket
(COMPUTE_DIR/hostd.sock), for the port of a deployment's server: one JSON line in
({"op": "ensure", "deployment": 12}), one JSON line out ({"ok": true, "port": 41234}
or {"ok": false, "error": ..., "output": ..., "retry_after": 3}). Every ask counts as
traffic for the idle stop.
"""

from __future__ import annotations

import json
import logging
import os
import socketserver
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from apps.compute.supervisor import ServerUnavailable, Supervisor

logger = logging.getLogger(__name__)

MAX_REQUEST = 4096


def socket_path() -> Path:
    return Path(settings.COMPUTE_DIR) / "hostd.sock"


def answer(supervisor: Supervisor, request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "ping":
        return {"ok": True, "host": supervisor.host}
    if op != "ensure" or not isinstance(request.get("deployment"), int):
        return {"ok": False, "error": "unknown request"}
    try:
        return {"ok": True, "port": supervisor.ensure(request["deployment"])}
    except ServerUnavailable as unavailable:
        return {"ok": False, "error": str(unavailable), "output": unavailable.output, "retry_after": unavailable.retry_after}
    except Exception as error:  # a request must get an answer, whatever broke
        logger.exception("hostd could not ensure deployment %s", request.get("deployment"))
        return {"ok": False, "error": f"The supervisor failed: {type(error).__name__}"}
    finally:
        close_old_connections()


class _Handler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        raw = self.rfile.readline(MAX_REQUEST)
        try:
            request = json.loads(raw)
        except ValueError:
            request = {}
        reply = answer(self.server.supervisor, request if isinstance(request, dict) else {})
        self.wfile.write(json.dumps(reply).encode() + b"\n")


class ControlServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        super().__init__(str(path), _Handler)
        # Only this machine's console processes may ask for servers: hostd's user and the
        # group that owns COMPUTE_DIR (docker-compose: web runs as `console`, hostd as root).
        os.chown(path, -1, path.parent.stat().st_gid)
        os.chmod(path, 0o660)


def serve(stop: threading.Event, sweep_seconds: float | None = None) -> None:
    """Run until `stop` is set: the control socket, the log writer and the sweeps."""
    supervisor = Supervisor()
    supervisor.sink.start()
    control = ControlServer(socket_path(), supervisor)
    listener = threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    listener.start()
    interval = sweep_seconds or min(5.0, max(0.2, settings.COMPUTE_IDLE_MINUTES * 60 / 4))
    logger.info("hostd: serving %s, sweeping every %.1f s", socket_path(), interval)
    try:
        while not stop.wait(interval):
            try:
                supervisor.sweep()
            except Exception:  # the database may be away: sweep again next time
                logger.exception("hostd: sweep failed")
            finally:
                close_old_connections()
    finally:
        control.shutdown()
        control.server_close()
        socket_path().unlink(missing_ok=True)
        supervisor.stop_all()
        supervisor.sink.stop()
