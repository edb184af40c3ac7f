"""What a build gets by where its code comes from: apps.builds.trust.build_trust."""

from __future__ import annotations

import dataclasses

import pytest

from apps.branches.models import App, Branch
from apps.builds.trust import BuildTrust, build_trust


def branch(*, policy: str, from_fork: bool) -> Branch:
    # Unsaved: build_trust reads only the branch and its app, never the database.
    return Branch(app=App(fork_previews=policy), name="pr-5", pull_request_number=5, pr_from_fork=from_fork)


@pytest.mark.parametrize("policy", App.ForkPreviews.values)
def test_a_branch_not_from_a_fork_gets_secrets_and_the_role_whatever_the_policy(policy: str) -> None:
    assert build_trust(branch(policy=policy, from_fork=False)) == BuildTrust(secrets=True, service_role=True, reason="")


def test_a_fork_s_preview_gets_secrets_and_the_role_when_an_admin_opted_in() -> None:
    trust = build_trust(branch(policy=App.ForkPreviews.WITH_SECRETS, from_fork=True))
    assert (trust.secrets, trust.service_role) == (True, True)
    assert trust.reason == "Pull request from a fork: built with secrets and the service role (an admin opted in)"


def test_a_fork_s_preview_built_without_secrets_gets_neither_and_says_which_setting() -> None:
    trust = build_trust(branch(policy=App.ForkPreviews.WITHOUT_SECRETS, from_fork=True))
    assert (trust.secrets, trust.service_role) == (False, False)
    assert trust.reason == (
        "Pull request from a fork: built without secrets or service role "
        "(Previews of pull requests from forks: Build without secrets and without the service role)"
    )


def test_a_fork_s_job_that_exists_while_previews_are_off_gets_neither() -> None:
    # E.g. queued before an admin turned fork previews off.
    trust = build_trust(branch(policy=App.ForkPreviews.OFF, from_fork=True))
    assert (trust.secrets, trust.service_role) == (False, False)
    assert trust.reason.startswith("Pull request from a fork: built without secrets or service role")
    assert "Off: pull requests from forks get no preview" in trust.reason
    assert "\n" not in trust.reason


def test_build_trust_is_frozen() -> None:
    trust = build_trust(branch(policy=App.ForkPreviews.OFF, from_fork=True))
    with pytest.raises(dataclasses.FrozenInstanceError):
        trust.secrets = True  # type: ignore[misc]
