"""Running one phase script in its own process group, with live output,
cancel, timeout and a heartbeat.

Killing the group ends every process of a sandboxed build: the group's leader is
bubblewrap, and the build's PID namespace dies with it, taking along the processes
that left the group with setsid. A build run unisolated (BUILD_ISOLATION=off) has no
such namespace: a child that called setsid outlives the group (tested)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 5


def _die_with_parent() -> None:
    # If the worker is SIGKILLed, the kernel kills the build shell too.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def process_identity(pid: int) -> str:
    """What tells this process apart from a later one given the same id: the machine's boot
    and the process's start time (clock ticks since boot). "" when no such process runs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: count from its last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"


@dataclass
class ProcessResult:
    exit_code: int
    # Why the build was stopped from outside: CANCEL, or the limit it reached.
    stopped: str | None = None
    timed_out: bool = False

    @property
    def cancelled(self) -> bool:
        return self.stopped == CANCEL


CANCEL = "cancel"


def kill_group(pgid: int, leader: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left after a grace period.

    `leader` is our own child at the head of the group: it is reaped while we wait,
    since an unreaped (zombie) leader would keep the group alive to the end.
    """
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        if leader is not None:
            leader.poll()
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_script(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    on_output: Callable[[str], None],
    on_tick: Callable[[int], str | None],
    deadline: float,
    tick_seconds: float = 1.0,
    preexec: Callable[[], None] = _die_with_parent,
) -> ProcessResult:
    """Run argv (a phase script, usually wrapped in the build's sandbox) in a group of its own.

    `on_tick(pgid)` is called about every `tick_seconds` and returns None to go on, or
    why to stop (CANCEL, or a limit's message). `deadline` is a time.monotonic() value
    for the timeout. `preexec` runs in the child before exec; it must keep the
    parent-death signal (the default sets only that)."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec,
    )
    pgid = process.pid
    lines: queue.Queue[bytes | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            lines.put(raw)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    stopped: str | None = None
    timed_out = lingering_killed = False
    next_tick = time.monotonic()
    eof = False
    try:
        while not eof:
            try:
                raw = lines.get(timeout=0.2)
            except queue.Empty:
                raw = b""
            if raw is None:
                eof = True
            elif raw:
                on_output(raw.decode("utf-8", errors="replace"))
            now = time.monotonic()
            if not (stopped or timed_out):
                if now >= next_tick:
                    next_tick = now + tick_seconds
                    stopped = on_tick(pgid)
                    if stopped:
                        kill_group(pgid, process)
                if now >= deadline:
                    timed_out = True
                    kill_group(pgid, process)
            if not eof and process.poll() is not None and not lingering_killed:
                # The shell ended but a background child still holds the output
                # pipe open: end the group so the build does not hang on it.
                lingering_killed = True
                kill_group(pgid, process)
    except BaseException:
        # Whatever broke here (the database, a signal), the build must not run on unwatched.
        kill_group(pgid, process)
        process.wait()
        raise
    exit_code = process.wait()
    # The shell is gone; make sure nothing it started lingers in its group.
    kill_group(pgid, process)
    return ProcessResult(exit_code=exit_code, stopped=stopped, timed_out=timed_out)
