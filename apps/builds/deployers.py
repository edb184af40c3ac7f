"""Extension points of the build runner for other ways of deploying a build's output.

Builds host static files themselves (apps.hosting). An app that deploys other output
(apps.compute: server-rendered apps) registers here when Django starts, so builds
never import it: the runner asks each registered deployer first, and a deployer that
recognises the output deploys it whole or raises DeployFailed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from apps.branches.models import Branch
from apps.hosting.models import Deployment

Say = Callable[[str], None]


class DeployFailed(Exception):
    """The output could not be deployed; the message is the job's failure reason."""


@dataclass(frozen=True)
class BuildOutput:
    branch: Branch
    job_pk: int
    project: Path  # the build's project folder (hostile: read it with the workspace helpers)
    artifacts: dict[str, Any]  # the spec's frontend.artifacts
    custom_headers: Callable[[], str]  # customHttp.yml, read and checked on demand
    say: Say


class OutputDeployer(Protocol):
    def __call__(self, output: BuildOutput) -> Deployment | None:
        """Deploy the output and return its live deployment, or None when it is not of this kind."""


class RedeployHook(Protocol):
    def __call__(self, branch: Branch, deployment: Deployment, say: Say) -> None:
        """Prepare a kept deployment to be served again (raises DeployFailed)."""


_deployers: list[OutputDeployer] = []
_redeploy_hooks: list[RedeployHook] = []


def register_output_deployer(deployer: OutputDeployer) -> None:
    if deployer not in _deployers:
        _deployers.append(deployer)


def register_redeploy_hook(hook: RedeployHook) -> None:
    if hook not in _redeploy_hooks:
        _redeploy_hooks.append(hook)


def deploy_other_output(output: BuildOutput) -> Deployment | None:
    """The deployment a registered deployer made of the output, or None: host its files as usual."""
    for deployer in _deployers:
        deployment = deployer(output)
        if deployment is not None:
            return deployment
    return None


def before_redeploy(branch: Branch, deployment: Deployment, say: Say) -> None:
    for hook in _redeploy_hooks:
        hook(branch, deployment, say)
