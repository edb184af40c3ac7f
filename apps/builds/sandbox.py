"""Build isolation: a build's commands are hostile code, so they run under
bubblewrap in namespaces of their own, as an unprivileged user, with limits.

What a sandboxed build sees: the system's tool folders read-only (`/usr` and a
few `/etc` files), its own workspace, `HOME` and `/tmp`, and nothing else of the
host: not the console's checkout or `var/`, not other builds, not the worker's
processes or environment. When the worker runs as root, each build also runs as
an outer user of its own (BUILD_UID_BASE + job), so the kernel counts its
processes apart and the network guard (apps.builds.netguard) can tell its
traffic from the console's.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SANDBOX_UID = 1000  # the build's own uid inside its user namespace
SANDBOX_HOME = "/home/build"
SANDBOX_TMP = "/tmp"  # noqa: S108 - the sandbox's own /tmp: a folder of the build's workspace
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PR_SET_PDEATHSIG = 1
# What tools read from /etc: name resolution, TLS roots, the dynamic linker,
# Debian's alternatives (most of /usr/bin's editors and compilers link there), time zone.
_ETC_ENTRIES = (
    "resolv.conf",
    "hosts",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "services",
    "protocols",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "os-release",
    "debian_version",
)
_USR_MERGED = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")
_PASSWD = f"root:x:0:0:root:/root:/usr/sbin/nologin\nbuild:x:{SANDBOX_UID}:{SANDBOX_UID}:build:{SANDBOX_HOME}:/bin/bash\n"
_GROUP = f"root:x:0:\nbuild:x:{SANDBOX_UID}:\n"
_PROBE_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Limits:
    processes: int
    memory_mb: int
    cpu_seconds: int
    disk_mb: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            processes=settings.BUILD_MAX_PROCESSES,
            memory_mb=settings.BUILD_MEMORY_LIMIT_MB,
            cpu_seconds=settings.BUILD_CPU_LIMIT_SECONDS,
            disk_mb=settings.BUILD_DISK_LIMIT_MB,
        )


def isolation_enabled() -> bool:
    return settings.BUILD_ISOLATION != "off"


def _worker_is_root() -> bool:
    return os.geteuid() == 0


def outer_uid_for(job_pk: int) -> int | None:
    """The host uid a build runs as, or None when the worker cannot switch users."""
    if not _worker_is_root():
        return None
    return settings.BUILD_UID_BASE + job_pk % settings.BUILD_UID_COUNT


@dataclass
class Layout:
    """The folders of one build's workspace and who may write them.

    root (the worker's, read-only to the build)
      src/      the clone; the build's project
      home/     HOME, at /home/build inside
      tmp/      /tmp inside
      status/   where the phase scripts record their progress
      control/  the phase scripts, passwd and group (the worker's; read-only inside)
    """

    root: Path

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def status(self) -> Path:
        return self.root / "status"

    @property
    def control(self) -> Path:
        return self.root / "control"

    def create(self) -> None:
        self.root.mkdir(parents=True, mode=0o755)
        # The umask may have taken bits the build user needs to pass through (nothing secret here).
        os.chmod(self.root, 0o755)  # noqa: S103
        for folder in (self.home, self.tmp, self.status, self.control):
            folder.mkdir(mode=0o755)
        (self.control / "passwd").write_text(_PASSWD)
        (self.control / "group").write_text(_GROUP)


@dataclass(frozen=True)
class Sandbox:
    layout: Layout
    network: bool
    limits: Limits
    outer_uid: int | None

    @property
    def home(self) -> str:
        return SANDBOX_HOME if isolation_enabled() else str(self.layout.home)

    @property
    def tmp(self) -> str:
        return SANDBOX_TMP if isolation_enabled() else str(self.layout.tmp)

    def hand_over(self) -> None:
        """Give the build user its writable folders (the clone and restored cache included)."""
        if self.outer_uid is None:
            return
        for top in (self.layout.src, self.layout.home, self.layout.tmp, self.layout.status):
            _chown_tree(top, self.outer_uid)

    def command(self, argv: list[str]) -> list[str]:
        """argv wrapped in bubblewrap (or as it is when isolation is off)."""
        if not isolation_enabled():
            return argv
        layout = self.layout
        args = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns"]
        args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "build"]
        if self.network:
            args.append("--share-net")
        args += ["--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev"]
        args += system_mounts()
        # /tmp and HOME first: the workspace and the Node.js installations may themselves lie
        # under /tmp, and their binds must win over it.
        args += ["--bind", str(layout.tmp), SANDBOX_TMP, "--bind", str(layout.home), SANDBOX_HOME]
        args += node_mounts()
        for entry in _ETC_ENTRIES:
            host = Path("/etc") / entry
            if host.exists():
                args += ["--ro-bind", str(host), str(host)]
        args += ["--ro-bind", str(layout.control / "passwd"), "/etc/passwd"]
        args += ["--ro-bind", str(layout.control / "group"), "/etc/group"]
        args += ["--bind", str(layout.src), str(layout.src)]
        args += ["--bind", str(layout.status), str(layout.status)]
        args += ["--ro-bind", str(layout.control), str(layout.control)]
        args += ["--chdir", str(layout.src), "--"]
        return args + argv

    def preexec(self) -> Callable[[], None]:
        """What the child does before exec: become the build user, take the limits,
        die with the worker. Runs between fork and exec: nothing that allocates much."""
        outer_uid, limits = self.outer_uid, self.limits
        isolated = isolation_enabled()

        def setup() -> None:
            if outer_uid is not None and isolated:
                _become(outer_uid)
            if outer_uid is not None and isolated:
                # The kernel counts processes per user: only a user of the build's own is its count.
                _set_limit(resource.RLIMIT_NPROC, limits.processes)
            # Private writable memory, not address space: Node.js reserves tens of GB it never
            # touches (V8's cages, 4-10 GB per WebAssembly memory), so an address-space limit
            # fails `next build` at random, while this one counts only what is written to.
            _set_limit(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024)
            _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds)
            _set_limit(resource.RLIMIT_FSIZE, limits.disk_mb * 1024 * 1024)
            # After setuid: a change of credentials clears the parent-death signal.
            with contextlib.suppress(OSError):
                ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

        return setup

    def process_count(self) -> int | None:
        """How many processes the build has now (None when it shares the worker's uid)."""
        if self.outer_uid is None or not isolation_enabled():
            return None
        count = 0
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_uid == self.outer_uid:
                        count += 1
        return count

    def disk_usage(self) -> int:
        """Bytes the build's writable folders take on disk."""
        return sum(_tree_bytes(top) for top in (self.layout.src, self.layout.home, self.layout.tmp, self.layout.status))


def system_mounts() -> list[str]:
    """/usr read-only, and the merged-/usr links (or folders) at the top."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in _USR_MERGED:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    return args


def node_mounts() -> list[str]:
    """The Node.js installations builds choose among (apps.builds.nodejs), read-only."""
    folder = Path(settings.BUILD_NODE_DIR)
    if not folder.is_dir() or folder.is_relative_to("/usr"):
        return []
    return ["--ro-bind", str(folder), str(folder)]


def _become(uid: int) -> None:
    """Drop every right of the worker's user for the build's own (between fork and exec)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _set_limit(kind: int, value: int) -> None:
    # Never raise a hard limit the worker itself was given.
    _soft, hard = resource.getrlimit(kind)
    cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(kind, (cap, cap))


def _chown_tree(top: Path, uid: int) -> None:
    os.lchown(top, uid, uid)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            with contextlib.suppress(FileNotFoundError):
                os.lchown(os.path.join(dirpath, name), uid, uid)


def _tree_bytes(top: Path) -> int:
    total = 0
    stack = [str(top)]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
    return total


# --- Can this worker isolate builds at all?

_probe: tuple[float, str | None] | None = None


def isolation_problem() -> str | None:
    """Why builds cannot be isolated on this worker, or None when they can (checked once a minute)."""
    global _probe
    now = time.monotonic()
    if _probe is not None and now - _probe[0] < _PROBE_TTL_SECONDS:
        return _probe[1]
    problem = _probe_bubblewrap() or unreachable_workspace()
    _probe = (now, problem)
    return problem


def unreachable_workspace() -> str | None:
    """Builds of a root worker run as other users: every folder above their workspaces (and
    the Node.js installations) must let others pass (o+x). Says which one does not, or None."""
    if not _worker_is_root():
        return None
    for name in ("BUILD_WORKSPACE_DIR", "BUILD_NODE_DIR"):
        base = Path(getattr(settings, name)).absolute()
        for folder in [*reversed(base.parents), base]:
            with contextlib.suppress(FileNotFoundError):
                if not os.stat(folder).st_mode & stat.S_IXOTH:
                    return (
                        f"build users cannot reach {name} ({base}): {folder} does not let others pass; "
                        f"run chmod o+x {folder}, or set {name} to a folder they can reach"
                    )
    return None


def _probe_bubblewrap() -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed on this worker: apt-get install bubblewrap"
    uid = outer_uid_for(0)

    def become_build_user() -> None:
        if uid is not None:
            _become(uid)

    argv = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID)]
    argv += [*system_mounts(), "--proc", "/proc", "--", "/usr/bin/true"]
    try:
        result = subprocess.run(argv, preexec_fn=become_build_user, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start: {error}"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return f"bubblewrap cannot create a sandbox here (user namespaces off?): {detail[-1] if detail else result.returncode}"
    return None


def reset_probe() -> None:
    global _probe
    _probe = None
