"""Pages never call git or CloudFormation: they show what a worker last read, with its
age, and ask for a new read at most once per cool-down. A hanging remote holds no page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from apps.branches import services
from apps.branches.models import App, Branch, RepositoryHeads, StackRead
from apps.branches.remote_reads import read_heads_now, read_stack_now
from apps.branches.tasks import read_backend_stack, read_repository_heads
from apps.branches.tests.https_git import silent_server
from console.models import AuditEvent

# Generous: the point is that nothing waits on the hanging remote (30 s); the benchmark
# (benchmarks/bench_page_reads.py) measures the pages' own time.
FAST = 2.0


@pytest.fixture
def hanging_remote() -> Iterator[str]:
    """An https "git host" that accepts connections and never answers."""
    with silent_server() as port:
        yield f"https://127.0.0.1:{port}/owner/repo.git"


def _app_on(repository: str) -> App:
    # Made directly: creating it through the service would itself read the repository.
    app = App.objects.create(app_id="dhang000000001", name="Hangs", repository=repository, production_branch="main")
    Branch.objects.create(app=app, name="main", display_name="main")
    return app


def _timed(url: str, client: Client) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


def test_the_pattern_preview_answers_at_once_while_the_remote_hangs(
    db: None, hanging_remote: str, admin_client: Client, settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:  # fmt: skip
    app = _app_on(hanging_remote)
    with django_capture_on_commit_callbacks() as asked:
        for typed in ("f", "fe", "fea", "feat", "feat*"):  # keystrokes
            url = f"/apps/{app.app_id}/git/patterns/?auto_detect_patterns={typed}"
            response, seconds = _timed(url, admin_client)
            assert response.status_code == 200
            assert seconds < FAST
            assert "Reading the repository's branches…" in response.content.decode()
    assert len(asked) == 1  # one read asked of a worker, not one per keystroke

    # The worker's read times out; the page says so, with the age of that read.
    settings.GIT_TIMEOUT_SECONDS = 1
    read_repository_heads(app.pk)
    page = admin_client.get(f"/apps/{app.app_id}/git/patterns/?auto_detect_patterns=*").content.decode()
    assert "The last read failed: git ls-remote timed out after 1 s." in page
    assert "As read 0" in page


def test_the_pattern_preview_shows_the_last_read_with_its_age(
    db: None, make_repo: Callable[..., Path], admin_client: Client
) -> None:
    app = _app_on(str(make_repo(("main", "feature/a", "feature/b", "fix/c"))))
    read_heads_now(app)
    page = admin_client.get(f"/apps/{app.app_id}/git/patterns/?auto_detect_patterns=feature/*").content.decode()
    assert "2 of 4 branches match" in page
    assert "As read 0" in page
    assert "Reading" not in page
    connect = admin_client.get(f"/apps/{app.app_id}/remote-branches/").content.decode()
    assert "feature/a" in connect


def test_a_stale_read_is_shown_while_a_new_one_is_asked_for(
    db: None, make_repo: Callable[..., Path], admin_client: Client, settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:  # fmt: skip
    app = _app_on(str(make_repo(("main", "dev"))))
    read_heads_now(app)
    settings.REMOTE_READ_FRESH_SECONDS = 1
    RepositoryHeads.objects.filter(app=app).update(read_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks() as asked:
        page = admin_client.get(f"/apps/{app.app_id}/git/patterns/?auto_detect_patterns=dev").content.decode()
    assert "1 of 2 branches match" in page  # the old read, still useful
    assert "reading again…" in page
    assert 'hx-trigger="load delay:2s"' in page  # the fragment polls until the new read lands
    assert len(asked) == 1


class _HangingCloudFormation:
    calls = 0

    def describe_stacks(self, **kwargs: Any) -> None:
        type(self).calls += 1
        time.sleep(30)


def test_the_branch_page_answers_at_once_while_cloudformation_hangs(
    db: None, make_repo: Callable[..., Path], operator_client: Client, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:  # fmt: skip
    app = _app_on(str(make_repo(("main",))))
    monkeypatch.setattr("console.cloudformation.aws_client", lambda service, **kwargs: _HangingCloudFormation())
    with django_capture_on_commit_callbacks() as asked:
        for url in (f"/apps/{app.app_id}/branches/main/", f"/apps/{app.app_id}/branches/main/status/"):
            response, seconds = _timed(url, operator_client)
            assert response.status_code == 200
            assert seconds < FAST
            assert "checking…" in response.content.decode()
    assert _HangingCloudFormation.calls == 0
    assert len(asked) == 1


def test_the_branch_page_shows_the_stack_a_worker_read(db: None, make_repo: Callable[..., Path], operator_client: Client) -> None:
    from apps.branches.tests.test_outputs_ownership import deploy_stack

    app = _app_on(str(make_repo(("main",))))
    main = app.branches.get(name="main")
    read_backend_stack(main.pk)
    assert "Not deployed" in operator_client.get(f"/apps/{app.app_id}/branches/main/status/").content.decode()
    deploy_stack(main, bucket="hang-main-bucket")
    read_stack_now(main)
    page = operator_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "CREATE_COMPLETE" in page
    assert "(as read 0" in page
    assert (StackRead.objects.get(branch=main).value or {})["stack_status"] == "CREATE_COMPLETE"


def test_checks_that_stay_interactive_are_limited_per_user(
    db: None, make_repo: Callable[..., Path], admin_client: Client, admin_user: Any, settings: Any
) -> None:
    settings.GIT_CHECKS_PER_MINUTE = 3
    window = int(timezone.now().timestamp() // 60)
    cache.delete_many([f"rate:git-check:user:{admin_user.pk}:{w}" for w in (window - 1, window, window + 1)])
    repo = make_repo(("main", "dev", "x", "y", "z"))
    app = services.app_create(actor=admin_user, name="Shop", repository=str(repo), production_branch="main")
    for name in ("dev", "x"):
        assert admin_client.post(f"/apps/{app.app_id}/connect-branch/", {"name": name, "stage": "DEVELOPMENT"}).status_code == 302
    refused = admin_client.post(f"/apps/{app.app_id}/connect-branch/", {"name": "y", "stage": "DEVELOPMENT"})
    assert refused.status_code == 400
    assert "More than 3 repository checks in a minute: wait a minute." in refused.content.decode()
    assert not app.branches.filter(name="y").exists()
    assert not AuditEvent.objects.filter(action="branch.connect", target__contains="/y").exists()
