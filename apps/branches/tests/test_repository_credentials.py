"""A repository URL with credentials (https://user:token@host/repo.git): git gets the token
through its environment, and no log line, job log, page, API answer, audit event or build
sees it."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from django.test import Client

from apps.amplify_api.render import app_shape
from apps.branches import services
from apps.branches.git import GitCredentials, mask_credentials, split_credentials
from apps.branches.models import App
from apps.branches.tests.https_git import PrivateRepo
from apps.builds.models import Job
from apps.builds.tests.builds import build, log_of
from console.models import AuditEvent


def _everything_written(app: App) -> str:
    rows = App.objects.filter(pk=app.pk).values().first()
    events = list(AuditEvent.objects.values_list("message", "detail"))
    return f"{rows}{events}"


def test_split_credentials_keeps_the_url_bare() -> None:
    assert split_credentials("https://bot:t%40k@git.example.com/o/r.git") == (
        "https://git.example.com/o/r.git", GitCredentials("bot", "t@k"),
    )  # fmt: skip
    assert split_credentials("https://ghp_only@github.com/o/r.git")[1] == GitCredentials("ghp_only", "")
    assert split_credentials("git@github.com:o/r.git") == ("git@github.com:o/r.git", None)
    assert split_credentials("ssh://git@host/o/r.git") == ("ssh://git@host/o/r.git", None)
    assert mask_credentials("https://bot:tok@h/o.git") == "https://***@h/o.git"
    assert "tok" not in repr(GitCredentials("bot", "tok"))


def test_an_app_made_from_a_url_with_a_token_keeps_it_sealed_apart(
    db: None, private_repo: PrivateRepo, admin_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    form = {"name": "Private", "repository": private_repo.url_with(), "production_branch": "main", "platform": "WEB"}
    response = admin_client.post("/apps/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    app = App.objects.get(name="Private")
    assert app.repository == private_repo.url
    assert app.git_credentials == GitCredentials("ci-bot", private_repo.token)
    assert private_repo.token not in _everything_written(app)  # sealed, in no column or audit event
    assert private_repo.seen_users  # git did authenticate
    for page in ("/", f"/apps/{app.app_id}/", f"/apps/{app.app_id}/settings/", f"/apps/{app.app_id}/connect-branch/"):
        body = admin_client.get(page).content.decode()
        assert private_repo.url in body or page == "/"
        assert private_repo.token not in body, page
    assert app_shape(app)["repository"] == private_repo.url  # GetApp, ListApps
    assert private_repo.token not in caplog.text


def test_a_wrong_token_is_refused_with_the_reason_and_nothing_is_written(
    db: None, private_repo: PrivateRepo, admin_client: Client
) -> None:
    form = {"name": "Private", "repository": private_repo.url_with("wrong"), "production_branch": "main", "platform": "WEB"}
    response = admin_client.post("/apps/new/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Cannot read the repository" in page
    assert "Enter the repository&#x27;s credentials again" in page
    assert "wrong" not in page  # even a wrong token is not sent back
    assert f'value="{mask_credentials(private_repo.url_with())}"' in page
    assert not App.objects.exists()


def test_a_build_clones_with_the_token_and_neither_its_log_nor_its_environment_holds_it(
    db: None, private_repo: PrivateRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = services.app_create(actor=None, name="Private", repository=private_repo.url_with(), production_branch="main")
    command_lines: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(args: Any, *rest: Any, **kwargs: Any) -> Any:
        command_lines.append([str(part) for part in args])
        return real_run(args, *rest, **kwargs)

    monkeypatch.setattr("apps.branches.git.subprocess.run", recording_run)
    job = build(app)
    assert job.status == Job.Status.SUCCEED, job.status_reason
    log = log_of(job)
    assert f"clone={private_repo.url}\n" in log  # AWS_CLONE_URL: the bare URL
    assert f"Cloning {private_repo.url} (main)" in log
    assert f"origin\t{private_repo.url} (fetch)" in log  # the clone's own remote has no token
    assert "CONSOLE_GIT_" not in log  # the build's environment is not git's
    assert private_repo.token not in log
    assert command_lines
    assert not any(private_repo.token in " ".join(line) for line in command_lines)  # nothing on a command line


def test_saving_settings_keeps_the_token_and_a_new_url_replaces_or_drops_it(
    db: None, private_repo: PrivateRepo, make_repo: Any, admin_client: Client
) -> None:
    app = services.app_create(actor=None, name="Private", repository=private_repo.url_with(), production_branch="main")
    settings_form = {"name": "Renamed", "repository": app.repository, "production_branch": "main", "platform": "WEB"}
    assert admin_client.post(f"/apps/{app.app_id}/settings/", settings_form).status_code == 302
    app.refresh_from_db()
    assert (app.name, app.git_credentials) == ("Renamed", GitCredentials("ci-bot", private_repo.token))
    # Another repository (a public one, a local path here) without credentials: they go.
    public = make_repo(("main",))
    assert admin_client.post(f"/apps/{app.app_id}/settings/", {**settings_form, "repository": str(public)}).status_code == 302
    app.refresh_from_db()
    assert (app.repository, app.git_credentials, app.repository_credentials_sealed) == (str(public), None, "")
    event = AuditEvent.objects.filter(action="app.update").order_by("pk").last()
    assert event is not None
    assert "repository_credentials" in event.message


def test_an_api_created_app_keeps_the_token_out_of_its_answer(db: None, private_repo: PrivateRepo) -> None:
    from apps.amplify_api import operations

    call = operations.Call(request=None, user=None, params={"name": "Api", "repository": private_repo.url_with()})  # type: ignore[arg-type]
    answer = operations.create_app(call)
    assert answer["app"]["repository"] == private_repo.url
    assert private_repo.token not in str(answer)
    assert App.objects.get(name="Api").git_credentials == GitCredentials("ci-bot", private_repo.token)
