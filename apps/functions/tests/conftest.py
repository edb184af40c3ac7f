"""A branch of an app, and its backend stack with functions (moto in process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from apps.branches import services as branch_services
from apps.branches.models import Branch
from apps.functions.tests.stacks import deploy_backend

REGION = "us-east-1"


@pytest.fixture
def branch(db: None, make_repo: Callable[..., Path]) -> Branch:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    return app.branches.get(name="main")


@pytest.fixture
def client() -> Callable[[str], Any]:
    """Raw clients for the tests' own writes (moto in process)."""
    return lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture
def functions(branch: Branch, client: Callable[[str], Any]) -> dict[str, str]:
    return deploy_backend(client, branch.backend_stack_name)


def url(name: str, branch: Branch, *args: str) -> str:
    from django.urls import reverse

    return reverse(name, args=[branch.app.app_id, branch.display_name, *args])
