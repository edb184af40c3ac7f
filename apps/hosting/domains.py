"""Custom domains: which branch a Host header that is not a branch URL names."""

from __future__ import annotations

from apps.branches.models import Branch


def branch_for_custom_host(hostname: str) -> Branch | None:
    """The branch `hostname` (lower case, no port, no trailing dot) serves, if a domain maps it."""
    return None
