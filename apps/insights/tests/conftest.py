"""The core fixtures (a repository and an app connected to it), shared with the branches tests."""

from apps.branches.tests.conftest import app, repo

__all__ = ["app", "repo"]
