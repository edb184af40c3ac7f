from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from apps.branches import services
from apps.branches.models import App


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(("main", "dev", "feature/login", "feature-login"))


@pytest.fixture
def app(db: None, repo: Path) -> App:
    return services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")
