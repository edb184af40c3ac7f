"""Open or close a sample pull request against the demo repository.

`open` pushes a branch `demo/pull-request-<N>` with a visible change and does what a
git host's `pull_request opened` webhook does: a preview `pr-<N>` is built.
`close` does what `pull_request closed` does: the preview is torn down, backend
stack included, and the branch is deleted from the repository.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.branches.models import App
from apps.demo.seed import DEMO_APP_NAME
from apps.gitops import services as gitops

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "Demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
}


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_IDENTITY}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CommandError(f"git {args[0]} failed: {result.stderr.strip()}")
    return result.stdout.strip()


class Command(BaseCommand):
    help = "Open or close a sample pull request against the demo repository (make run's demo app)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["open", "close"])
        parser.add_argument("--number", type=int, default=1, help="The pull request number (default 1).")

    def handle(self, *args: Any, **options: Any) -> None:
        app = App.objects.filter(name=DEMO_APP_NAME).first()
        if app is None:
            raise CommandError("No demo app: run `make run` first.")
        number, source_branch = options["number"], f"demo/pull-request-{options['number']}"
        if options["action"] == "open":
            commit = self._push_change(app, source_branch, number)
            outcome = gitops.preview_open(
                app,
                number=number,
                head_branch=source_branch,
                head_commit=commit,
                base_branch=app.production_branch,
                title=f"Demo pull request #{number}",
                source="demo",
            )
            preview = app.branches.filter(pull_request_number=number).first()
            self.stdout.write(outcome)
            if preview:
                self.stdout.write(f"Preview URL (once built): {preview.url}")
        else:
            self.stdout.write(gitops.preview_close(app, number=number, source="demo"))
            with tempfile.TemporaryDirectory() as tmp:
                _git("clone", "-q", "--", app.repository, tmp, cwd=Path(tmp).parent)
                subprocess.run(["git", "push", "-q", "origin", f":{source_branch}"], cwd=tmp, capture_output=True, check=False)

    def _push_change(self, app: App, source_branch: str, number: int) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "work"
            _git("clone", "-q", "--branch", app.production_branch, "--", app.repository, str(work), cwd=Path(tmp))
            _git("checkout", "-q", "-B", source_branch, cwd=work)
            page = work / "public" / "index.html"
            text = page.read_text() if page.exists() else "<h1>Todo app</h1>\n"
            banner = f'<p class="preview-banner">Preview of demo pull request #{number}</p>'
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(text.replace("<h1>Todo app</h1>", f"<h1>Todo app</h1>\n      {banner}", 1))
            _git("commit", "-q", "-am", f"Demo pull request #{number}", cwd=work)
            _git("push", "-q", "-f", "origin", source_branch, cwd=work)
            return _git("rev-parse", "HEAD", cwd=work)
