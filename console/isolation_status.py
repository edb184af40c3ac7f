"""What the dashboard says about build isolation: the deployment's own choices
(settings the web process reads) and what workers found (through the cache, since
web and worker may run on different machines)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

_KEY = "builds:isolation-problem"
# A worker re-checks every minute; a problem it stopped reporting fades after this.
_REMEMBER_SECONDS = 600


@dataclass(frozen=True)
class IsolationWarning:
    title: str
    text: str
    admins_only: bool


def record_isolation_problem(problem: str | None) -> None:
    """A worker's finding: why it cannot isolate builds, or None when it can."""
    if problem:
        cache.set(_KEY, {"problem": problem, "at": timezone.now().isoformat()}, timeout=_REMEMBER_SECONDS)
    else:
        cache.delete(_KEY)


def isolation_warnings() -> list[IsolationWarning]:
    warnings = []
    if settings.BUILD_ISOLATION == "off":
        warnings.append(
            IsolationWarning(
                "Builds are not isolated.",
                "BUILD_ISOLATION=off: any branch or pull request can read the console's secrets and act as the console.",
                admins_only=True,
            )
        )
    elif settings.BUILD_NETWORK_GUARD == "off":
        warnings.append(
            IsolationWarning(
                "Builds are not fully isolated.",
                "Builds with the network on can reach this host's own ports (BUILD_NETWORK_GUARD=off).",
                admins_only=True,
            )
        )
    found = cache.get(_KEY)
    if found and settings.BUILD_ISOLATION != "off":
        warnings.append(
            IsolationWarning("Builds are refused.", f"A worker cannot isolate them: {found['problem']}", admins_only=False)
        )
    return warnings
