"""Telling which of a build's limits ended it, in words for the job page."""

from __future__ import annotations

import signal
import time

from apps.builds.sandbox import Limits, Sandbox

# Out-of-memory messages of the usual build tools under a memory limit.
_MEMORY_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "out of memory",
    "Out of memory",
    "std::bad_alloc",
    "JavaScript heap out of memory",
    "memory allocation of",
    "Array buffer allocation failed",
)
# A shell reports a command killed by signal N as 128 + N.
_CPU_EXIT = 128 + signal.SIGXCPU
_FILE_SIZE_EXIT = 128 + signal.SIGXFSZ
_DISK_CHECK_MIN_SECONDS = 2.0


# What shells and runtimes print when fork() fails with EAGAIN (the process limit).
_FORK_MARKERS = ("fork: retry", "fork: Resource temporarily unavailable", "Resource temporarily unavailable (os error 11)")


class OutputWatcher:
    """Remembers whether the build's output said it ran out of memory, or could not fork."""

    def __init__(self) -> None:
        self.out_of_memory = False
        self.fork_failed = False

    def feed(self, text: str) -> None:
        if not self.out_of_memory and any(marker in text for marker in _MEMORY_MARKERS):
            self.out_of_memory = True
        if not self.fork_failed and any(marker in text for marker in _FORK_MARKERS):
            self.fork_failed = True


class LimitGuard:
    """Checked on every tick of a running phase: the process count each time, the
    disk use every few seconds (a walk of the workspace costs more the larger it is)."""

    def __init__(self, sandbox: Sandbox, output: OutputWatcher | None = None) -> None:
        self.sandbox = sandbox
        self.output = output
        self.next_disk_check = 0.0

    def check(self) -> str | None:
        limits = self.sandbox.limits
        count = self.sandbox.process_count()
        # A fork bomb hovers just under the limit as its processes come and go: a sample may miss
        # the limit itself, but not the shell saying it could not fork.
        fork_failed = self.output is not None and self.output.fork_failed and count is not None
        if count is not None and (count >= limits.processes or fork_failed):
            return f"The build reached its limit of {limits.processes} processes (BUILD_MAX_PROCESSES)."
        now = time.monotonic()
        if now >= self.next_disk_check:
            used = self.sandbox.disk_usage()
            spent = time.monotonic() - now
            self.next_disk_check = time.monotonic() + max(_DISK_CHECK_MIN_SECONDS, spent * 20)
            if used > limits.disk_mb * 1024 * 1024:
                return (
                    f"The build wrote {used // (1024 * 1024)} MB, more than its disk limit of "
                    f"{limits.disk_mb} MB (BUILD_DISK_LIMIT_MB)."
                )
        return None


def limit_hint(exit_code: int, memory_exhausted: bool, limits: Limits) -> str:
    """Why a failed command failed, when it was one of the limits ("" otherwise)."""
    if exit_code == _CPU_EXIT:
        return f"A process used its CPU time limit of {limits.cpu_seconds} s (BUILD_CPU_LIMIT_SECONDS)."
    if exit_code == _FILE_SIZE_EXIT:
        return f"A file reached the disk limit of {limits.disk_mb} MB (BUILD_DISK_LIMIT_MB)."
    if memory_exhausted:
        return f"A process ran out of memory: the limit is {limits.memory_mb} MB per process (BUILD_MEMORY_LIMIT_MB)."
    return ""
