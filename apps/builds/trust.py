"""How far a build is trusted: code from a fork's pull request is untrusted, and
gets the branch secrets and the service role only if an admin opted in."""

from __future__ import annotations

from dataclasses import dataclass

from apps.branches.models import App, Branch


@dataclass(frozen=True)
class BuildTrust:
    secrets: bool  # the branch's secrets reach the build
    service_role: bool  # the app's service role credentials reach the build
    reason: str  # one line for the job log ("" for a trusted build)


def build_trust(branch: Branch) -> BuildTrust:
    if not branch.pr_from_fork:
        return BuildTrust(secrets=True, service_role=True, reason="")
    policy = App.ForkPreviews(branch.app.fork_previews)
    if policy == App.ForkPreviews.WITH_SECRETS:
        return BuildTrust(
            secrets=True,
            service_role=True,
            reason="Pull request from a fork: built with secrets and the service role (an admin opted in)",
        )
    return BuildTrust(
        secrets=False,
        service_role=False,
        reason=(
            "Pull request from a fork: built without secrets or service role "
            f"(Previews of pull requests from forks: {policy.label})"
        ),
    )
