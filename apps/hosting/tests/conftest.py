"""The core fixtures (a repository and an app connected to it), shared with the branches tests,
and fresh hosting caches for every test."""

from collections.abc import Iterator

import pytest

from apps.branches.tests.conftest import app, repo
from apps.hosting import delivery, store

__all__ = ["app", "repo"]


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A memory cache of its own, of the default size whatever HOSTING_MEMORY_CACHE_MB says,
    # and no manifest read by an earlier test (ids come back after a rollback).
    monkeypatch.setattr(store, "memory", store.ObjectCache(max_bytes=64 * 1024 * 1024, max_object=256 * 1024))
    delivery._manifest.cache_clear()
    yield
    delivery._manifest.cache_clear()
