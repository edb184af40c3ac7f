"""What a compute server runs in: the same sandbox as builds, its own host user, the
branch's variables and secrets, and nothing of the console.

A server is hostile code exactly like a build (a pull request's preview serves what the
pull request wrote), so it gets the build sandbox (apps.builds.sandbox): bubblewrap, an
unprivileged user, the system's /usr read-only, its own folder and nothing else of the
host. It shares the host's network like a build with the network on, so the network
guard keeps it off the console's addresses; compute users (COMPUTE_UID_BASE ..) are a
range of their own, so a build never runs as the user of a server.
"""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

from django.conf import settings

from apps.branches.models import Branch
from apps.branches.selectors import effective_environment
from apps.builds.selectors import build_trust
from apps.builds.services import (
    DEFAULT_PATH,
    Layout,
    Limits,
    Sandbox,
    check_build_isolation,
    isolation_enabled,
    with_system_certificates,
)
from apps.secrets.selectors import build_secrets

LANG = "C.UTF-8"


def run_layout(deployment_pk: int) -> Layout:
    """The folders of one deployment's server on this machine: src/ is its bundle."""
    return Layout(Path(settings.COMPUTE_DIR) / "runs" / str(deployment_pk))


def server_uid(deployment_pk: int) -> int | None:
    """The host user the server runs as, or None when the supervisor cannot switch users."""
    if os.geteuid() != 0:
        return None
    return settings.COMPUTE_UID_BASE + deployment_pk % settings.COMPUTE_UID_COUNT


def server_limits() -> Limits:
    cpu = settings.COMPUTE_CPU_LIMIT_SECONDS or resource.RLIM_INFINITY
    return Limits(
        processes=settings.COMPUTE_MAX_PROCESSES,
        memory_mb=settings.COMPUTE_MEMORY_LIMIT_MB,
        cpu_seconds=cpu,
        disk_mb=settings.COMPUTE_DISK_LIMIT_MB,
    )


def server_sandbox(deployment_pk: int) -> Sandbox:
    return Sandbox(layout=run_layout(deployment_pk), network=True, limits=server_limits(), outer_uid=server_uid(deployment_pk))


def isolation_problem() -> str | None:
    """Why servers cannot run isolated on this machine (the same checks as builds with the network on)."""
    if not isolation_enabled():
        return None
    return check_build_isolation()


def server_environment(branch: Branch, port: int, sandbox: Sandbox) -> tuple[dict[str, str], list[str]]:
    """The server's environment, made from scratch, and the values its output must never show.

    The branch's variables (app ones, branch overrides winning) and, when its builds may
    have them, its secrets as the `secrets` JSON, as builds get them; region and endpoint
    but never credentials; PORT and HOSTNAME where to listen (Amplify's specification
    says port 3000; here each server gets a port of its own on the loopback)."""
    env: dict[str, str] = {v.name: v.value for v in effective_environment(branch)}
    env.update(
        {
            "PATH": DEFAULT_PATH,
            "HOME": sandbox.home,
            "TMPDIR": sandbox.tmp,
            "LANG": LANG,
            "NODE_ENV": "production",
            "NEXT_TELEMETRY_DISABLED": "1",
            "PORT": str(port),
            "HOSTNAME": "127.0.0.1",
            "AWS_REGION": settings.AWS_REGION,
            "AWS_DEFAULT_REGION": settings.AWS_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_APP_ID": branch.app.app_id,
            "AWS_BRANCH": branch.name,
            "AWS_BRANCH_ARN": branch.arn,
        }
    )
    if settings.AWS_ENDPOINT_URL:
        env["AWS_ENDPOINT_URL"] = settings.AWS_ENDPOINT_URL
    with_system_certificates(env)  # the image's official Node.js knows only its own CAs otherwise
    mask: list[str] = []
    if build_trust(branch).secrets:
        secrets = build_secrets(branch.app.app_id, branch.name)
        if secrets:
            env["secrets"] = json.dumps(secrets)
            mask.extend(secrets.values())
    return env, mask
