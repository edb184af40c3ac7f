"""The demo's sample pull request: open makes a preview, close tears it down."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

from django.core.management import call_command

from apps.branches.models import App
from apps.demo.seed import seed_demo


def test_open_and_close_a_sample_pull_request(
    db: None, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.VAR_DIR = tmp_path
    seed_demo(build=False, say=lambda _: None)
    app = App.objects.get()
    assert (app.auto_detect_branches, app.auto_detect_patterns) == (True, "feature/*, dev")
    assert app.branches.get(name="main").pr_previews_enabled

    out = io.StringIO()
    call_command("demo_pull_request", "open", "--number", "4", stdout=out)
    preview = app.branches.get(name="pr-4")
    heads = subprocess.run(["git", "ls-remote", app.repository], capture_output=True, text=True, check=True).stdout
    assert "refs/heads/demo/pull-request-4" in heads
    assert preview.pr_source_branch == "demo/pull-request-4"
    assert preview.jobs.get().commit_id in heads
    assert f"Preview URL (once built): http://pr-4.{app.app_id}." in out.getvalue()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo_pull_request", "close", "--number", "4", stdout=io.StringIO())
    assert not app.branches.filter(name="pr-4").exists()
    assert app.teardowns.get().status == "SUCCEEDED"
    heads = subprocess.run(["git", "ls-remote", app.repository], capture_output=True, text=True, check=True).stdout
    assert "demo/pull-request-4" not in heads


def test_without_a_demo_the_command_says_what_to_do(db: None) -> None:
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="run `make run` first"):
        call_command("demo_pull_request", "open")
