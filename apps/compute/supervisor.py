"""The supervisor of one machine's compute servers (run by `manage.py hostd`).

One Node.js server per live compute deployment that has traffic here, started on the
first request (cold start) or by the build before its deployment goes live (warm
start), stopped after COMPUTE_IDLE_MINUTES without a request, restarted after a
crash with a growing backoff. A server is ready when its own user (checked in
/proc/net) listens on the port it was given: another process that took the port
first is never mistaken for it.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, close_old_connections
from django.utils import timezone

from apps.branches.models import Branch
from apps.builds.services import Masker, Sandbox, kill_group
from apps.compute import runtime
from apps.compute.bundles import BundleError, unpack_bundle
from apps.compute.models import ComputeDeployment, ComputeServer
from apps.compute.serverlog import Line, LogSink

logger = logging.getLogger(__name__)
State = ComputeServer.State

LAST_LINES = 60
READY_POLL_SECONDS = 0.03
# A server that ran this long before it crashed starts its backoff again from 1 s.
STABLE_SECONDS = 60.0
# A replaced deployment's server serves what is in flight, then stops after this long without requests.
REPLACED_GRACE_SECONDS = 30.0
UNPACKED_MARKER = "unpacked"


class ServerUnavailable(Exception):
    """The server cannot answer now; the message says why, `output` what it last printed."""

    def __init__(self, message: str, output: str = "", retry_after: int = 0) -> None:
        super().__init__(message)
        self.output, self.retry_after = output, retry_after


@dataclass
class Server:
    deployment_pk: int  # the hosting deployment's
    branch_pk: int
    compute_pk: int = 0  # its ComputeDeployment's (the rows that report on it point there)
    port: int = 0
    state: str = State.STOPPED
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    last_used: float = 0.0
    restarts: int = 0
    crashes_in_a_row: int = 0
    retry_at: float = 0.0
    stopping: bool = False
    lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=LAST_LINES))
    masker: Masker = field(default_factory=lambda: Masker([]))
    start_lock: threading.Lock = field(default_factory=threading.Lock)

    def last_output(self) -> str:
        return "\n".join(self.lines)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening_uids(port: int) -> set[int]:
    """The uids of the sockets listening on 127.0.0.1:port (or any address), from /proc/net."""
    uids: set[int] = set()
    wanted = f"{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            next(rows, None)
            for row in rows:
                parts = row.split()
                local, state, uid = parts[1], parts[3], parts[7]
                if state == "0A" and local.rsplit(":", 1)[1] == wanted:  # 0A: LISTEN
                    uids.add(int(uid))
    return uids


class Supervisor:
    def __init__(self, host: str | None = None, sink: LogSink | None = None) -> None:
        self.host = host or socket.gethostname()
        self.sink = sink or LogSink()
        self.servers: dict[int, Server] = {}
        self.lock = threading.Lock()
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compute-spawner")

    # --- asked by the web (a request) or a build (warm start)

    def ensure(self, deployment_pk: int) -> int:
        """The port of the deployment's running server, started if need be (blocks until ready)."""
        with self.lock:
            server = self.servers.get(deployment_pk)
            if server is not None and server.state == State.RUNNING:
                server.last_used = time.monotonic()
                return server.port
        compute = ComputeDeployment.objects.select_related("deployment__branch__app").filter(deployment_id=deployment_pk).first()
        if compute is None:
            raise ServerUnavailable("This deployment has no server part.")
        with self.lock:
            server = self.servers.setdefault(
                deployment_pk, Server(deployment_pk=deployment_pk, branch_pk=compute.deployment.branch_id)
            )
            server.compute_pk = compute.pk
            server.last_used = time.monotonic()
        with server.start_lock:  # concurrent first requests wait for one start
            if server.state == State.RUNNING:
                return server.port
            wait = server.retry_at - time.monotonic()
            if server.state == State.CRASHED and wait > 0:
                raise ServerUnavailable(
                    f"The server crashed and restarts in {wait:.0f} s.", server.last_output(), retry_after=int(wait) + 1
                )
            self._start(server, compute)
            server.last_used = time.monotonic()  # idle from when it could first answer, not from the ask
            return server.port

    # --- starting and stopping

    def _start(self, server: Server, compute: ComputeDeployment) -> None:
        branch = compute.deployment.branch
        sandbox = runtime.server_sandbox(compute.deployment_id)
        server.state = State.STARTING  # from now on the sweep leaves its folder alone
        problem = runtime.isolation_problem()
        if problem:
            self._fail(server, f"Servers are refused on this machine: they cannot be isolated ({problem}).")
        try:
            self._prepare(compute, sandbox)
        except (BundleError, OSError) as error:
            self._fail(server, f"The server's bundle could not be prepared: {error}")
        server.port = server.port or free_port()
        env, mask = runtime.server_environment(branch, server.port, sandbox)
        server.masker = Masker(mask)
        entrypoint = str(sandbox.layout.src / compute.entrypoint)
        server.state, server.stopping, server.started = State.STARTING, False, time.monotonic()
        self._report(server, state=State.STARTING, port=server.port, started_at=timezone.now(), stop_reason="")
        self._say(server, f"Starting node {compute.entrypoint} on port {server.port} ({compute.runtime})")
        # Spawned from one long-lived thread: the parent-death signal that ties a server to the
        # supervisor fires when the *thread* that forked it ends, and request threads end.
        server.process = self._spawner.submit(
            subprocess.Popen,
            sandbox.command(["node", entrypoint]),
            cwd=sandbox.layout.src,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=sandbox.preexec(),
        ).result()
        for stream, pipe in (("stdout", server.process.stdout), ("stderr", server.process.stderr)):
            threading.Thread(target=self._pump, args=(server, stream, pipe), daemon=True).start()
        self._await_ready(server, sandbox)
        threading.Thread(target=self._watch, args=(server, server.process), daemon=True).start()

    def _prepare(self, compute: ComputeDeployment, sandbox: Sandbox) -> None:
        """Unpack the bundle into the deployment's folder once per machine (kept across idle stops)."""
        layout = sandbox.layout
        if (layout.control / UNPACKED_MARKER).exists():
            return
        shutil.rmtree(layout.root, ignore_errors=True)
        layout.create()
        unpack_bundle(compute.bundle_sha256, layout.src)
        entry = layout.src / compute.entrypoint
        if entry.is_symlink() or not entry.is_file():
            raise BundleError(f"the entrypoint {compute.entrypoint} is not a file of the bundle")
        sandbox.hand_over()  # the server's user owns its copy (Next.js writes its cache there)
        (layout.control / UNPACKED_MARKER).write_text(compute.bundle_sha256)

    def _await_ready(self, server: Server, sandbox: Sandbox) -> None:
        process = server.process
        assert process is not None
        deadline = time.monotonic() + settings.COMPUTE_START_TIMEOUT_SECONDS
        expected_uid = sandbox.outer_uid if sandbox.outer_uid is not None else os.geteuid()
        while time.monotonic() < deadline:
            if process.poll() is not None:
                time.sleep(0.1)  # let the pumps take its last words
                self._crashed(server, process.returncode, during_start=True)
                raise ServerUnavailable(f"The server exited with code {process.returncode} while starting.", server.last_output())
            if expected_uid in listening_uids(server.port):
                server.state = State.RUNNING
                ready_ms = (time.monotonic() - server.started) * 1000
                self._say(server, f"Ready on port {server.port} after {ready_ms:.0f} ms")
                self._report(server, state=State.RUNNING, port=server.port)
                return
            time.sleep(READY_POLL_SECONDS)
        self._stop(server, "it did not listen in time")
        limit = settings.COMPUTE_START_TIMEOUT_SECONDS
        raise ServerUnavailable(f"The server did not listen on its port within {limit:.0f} s.", server.last_output())

    def _fail(self, server: Server, message: str) -> None:
        server.state = State.FAILED
        self._say(server, message)
        self._report(server, state=State.FAILED, stop_reason=message[:255], last_output=server.last_output())
        raise ServerUnavailable(message, server.last_output())

    def _pump(self, server: Server, stream: str, pipe: IO[bytes] | None) -> None:
        if pipe is None:
            return
        for raw in iter(pipe.readline, b""):
            text = server.masker(raw.decode("utf-8", errors="replace").rstrip("\n"))
            server.lines.append(text)
            self.sink.put(Line(server.branch_pk, server.compute_pk, self.host, timezone.now(), stream, text))
        pipe.close()

    def _watch(self, server: Server, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        if server.process is process and not server.stopping:
            time.sleep(0.1)  # let the pumps take its last words
            self._crashed(server, code)

    def _crashed(self, server: Server, code: int, *, during_start: bool = False) -> None:
        ran = time.monotonic() - server.started
        server.crashes_in_a_row = 1 if ran >= STABLE_SECONDS else server.crashes_in_a_row + 1
        backoff = min(2.0 ** (server.crashes_in_a_row - 1), settings.COMPUTE_RESTART_BACKOFF_MAX_SECONDS)
        server.retry_at = time.monotonic() + backoff
        server.state = State.CRASHED
        server.restarts += 0 if during_start else 1
        self._say(server, f"The server exited with code {code}; restarting in {backoff:.0f} s if it has traffic")
        self._report(
            server,
            state=State.CRASHED,
            last_exit_code=code,
            last_output=server.last_output(),
            restarts=server.restarts,
            stopped_at=timezone.now(),
            stop_reason=f"exited with code {code}",
        )
        close_old_connections()

    def _stop(self, server: Server, reason: str) -> None:
        process = server.process
        server.stopping = True
        if process is not None and process.poll() is None:
            kill_group(process.pid, process)
            process.wait()
        server.state = State.STOPPED
        self._say(server, f"Stopped: {reason}")
        self._report(server, state=State.STOPPED, stopped_at=timezone.now(), stop_reason=reason[:255])

    def stop_all(self, reason: str = "the supervisor stopped") -> None:
        for server in list(self.servers.values()):
            if server.state in (State.RUNNING, State.STARTING):
                self._stop(server, reason)

    # --- the periodic sweep: idle stops, replaced deployments, crash restarts

    def sweep(self) -> None:
        now = time.monotonic()
        idle = settings.COMPUTE_IDLE_MINUTES * 60
        running = [s for s in self.servers.values() if s.state == State.RUNNING]
        live = set(
            Branch.objects.filter(live_deployment_id__in=[s.deployment_pk for s in self.servers.values()]).values_list(
                "live_deployment_id", flat=True
            )
        )
        for server in running:
            quiet = now - server.last_used
            if quiet >= idle:
                self._stop(server, f"idle for {quiet / 60:.1f} minutes (COMPUTE_IDLE_MINUTES)")
            elif server.deployment_pk not in live and quiet >= REPLACED_GRACE_SECONDS:
                self._stop(server, "its deployment is no longer live")
        for server in [s for s in self.servers.values() if s.state == State.CRASHED]:
            if now >= server.retry_at and now - server.last_used < idle and server.deployment_pk in live:
                with contextlib.suppress(ServerUnavailable):
                    self.ensure(server.deployment_pk)
        self._remove_unused_folders()

    def _remove_unused_folders(self) -> None:
        """Unpacked bundles of deployments no longer live here, whose servers are stopped."""
        runs = Path(settings.COMPUTE_DIR) / "runs"
        if not runs.is_dir():
            return
        busy = {pk for pk, s in self.servers.items() if s.state not in (State.STOPPED, State.FAILED)}
        still_live = set(Branch.objects.exclude(live_deployment=None).values_list("live_deployment_id", flat=True))
        for folder in runs.iterdir():
            if folder.name.isdigit() and int(folder.name) not in busy | still_live:
                shutil.rmtree(folder, ignore_errors=True)

    # --- what the branch page shows

    def _say(self, server: Server, text: str) -> None:
        logger.info("compute server of deployment %s: %s", server.deployment_pk, text)
        self.sink.put(Line(server.branch_pk, server.compute_pk, self.host, timezone.now(), "hostd", text))

    def _report(self, server: Server, **fields: object) -> None:
        try:
            ComputeServer.objects.update_or_create(
                deployment_id=server.compute_pk,
                host=self.host,
                defaults={"branch_id": server.branch_pk, **fields},
            )
        except IntegrityError:
            logger.info("Compute server %s: its deployment is gone, nothing to record", server.deployment_pk)
        except Exception:  # the database may be away; the server goes on regardless
            logger.exception("The state of compute server %s could not be recorded", server.deployment_pk)
            close_old_connections()
