"""Git settings, the live pattern preview, the webhook secret and preview settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from apps.branches import services
from apps.branches.models import App
from apps.branches.tasks import read_repository_heads
from apps.builds.tests.builds import preview_branch
from console.models import AuditEvent


@pytest.fixture
def app(db: None, make_repo: Callable[..., Path]) -> App:
    repo = make_repo(("main", "dev", "feature/a", "feature/wip-b", "feature/x/y"))
    return services.app_create(actor=None, name="Shop", repository=str(repo), production_branch="main")


def settings_data(**overrides: str) -> dict[str, str]:
    return {
        "auto_detect_branches": "on",
        "auto_detect_patterns": "feature/*, !feature/wip-*",
        "auto_detect_stage": "BETA",
        "fork_previews": "OFF",
        **overrides,
    }


def test_admin_saves_git_settings(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/git/", settings_data(auto_disconnect="on"))
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.auto_detect_branches, app.auto_detect_patterns, app.auto_detect_stage, app.auto_disconnect) == (
        True,
        "feature/*, !feature/wip-*",
        "BETA",
        True,
    )
    assert AuditEvent.objects.filter(action="app.git_settings.update", target=app.app_id).exists()


@pytest.mark.parametrize("policy", ["OFF", "WITHOUT_SECRETS", "WITH_SECRETS"])
def test_admin_chooses_the_fork_previews_policy_and_the_change_is_audited(admin_client: Client, app: App, policy: str) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/git/", settings_data(fork_previews=policy))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.fork_previews == policy
    event = AuditEvent.objects.filter(action="app.git_settings.update", target=app.app_id).latest("pk")
    assert event.detail["fork_previews"] == policy
    if policy != "OFF":
        assert event.detail["changed"]["fork_previews"] == ["OFF", policy]


def test_a_bad_fork_previews_choice_is_refused_and_nothing_is_saved(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/git/", settings_data(fork_previews="ALWAYS"))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    app.refresh_from_db()
    assert app.fork_previews == "OFF"
    assert not app.auto_detect_branches
    assert not AuditEvent.objects.filter(action="app.git_settings.update").exists()


@pytest.mark.parametrize("who", ["operator_client", "viewer_client"])
def test_only_admins_change_the_fork_previews_policy(request: pytest.FixtureRequest, app: App, who: str) -> None:
    client = request.getfixturevalue(who)
    response = client.post(f"/apps/{app.app_id}/git/", settings_data(fork_previews="WITH_SECRETS"))
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.fork_previews == "OFF"


def test_the_previews_page_shows_the_fork_policy_and_marks_previews_from_forks(viewer_client: Client, app: App) -> None:
    App.objects.filter(pk=app.pk).update(fork_previews="WITHOUT_SECRETS")
    preview_branch(app, 7, "feature/a", from_fork=True)
    page = viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "Pull requests from forks:</strong> Build without secrets and without the service role." in page
    assert "Admins change this in Git settings." in page
    assert '<span class="badge status-unknown">from a fork</span>' in page
    assert "built without secrets, without the service role" in page


def test_the_previews_page_says_a_fork_s_preview_gets_secrets_once_an_admin_opted_in(admin_client: Client, app: App) -> None:
    App.objects.filter(pk=app.pk).update(fork_previews="WITH_SECRETS")
    preview_branch(app, 7, "feature/a", from_fork=True)
    page = admin_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "Pull requests from forks:</strong> Build with secrets and the service role." in page
    assert f'<a href="/apps/{app.app_id}/git/">Change in Git settings</a>' in page
    assert "built with secrets, with the service role" in page


def test_a_preview_from_the_app_s_own_repository_is_not_marked(viewer_client: Client, app: App) -> None:
    preview_branch(app, 3, "feature/a", from_fork=False)
    page = viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "Off: pull requests from forks get no preview." in page
    assert ">pr-3</a>" in page
    assert "from a fork" not in page
    assert "built with" not in page


def test_the_git_settings_page_offers_the_three_fork_policies_as_labelled_radio_buttons(admin_client: Client, app: App) -> None:
    page = admin_client.get(f"/apps/{app.app_id}/git/").content.decode()
    assert "<legend>Previews of pull requests from forks</legend>" in page
    for value, label in App.ForkPreviews.choices:
        assert f'type="radio" name="fork_previews" value="{value}"' in page
        assert label in page
    assert 'value="OFF" required id="id_fork_previews_0" checked' in page
    assert "untrusted" in page


@pytest.mark.parametrize(
    ("patterns", "message"),
    [("feature/[abc", "feature/[abc"), ("", "Give at least one pattern")],
)
def test_bad_patterns_are_refused_and_nothing_is_saved(admin_client: Client, app: App, patterns: str, message: str) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/git/", settings_data(auto_detect_patterns=patterns))
    assert response.status_code == 400
    assert message in response.content.decode()
    app.refresh_from_db()
    assert not app.auto_detect_branches


def test_the_pattern_preview_shows_which_branches_match(viewer_client: Client, app: App) -> None:
    read_repository_heads(app.pk)  # the worker's read, which the page asked for
    fragment = viewer_client.get(
        f"/apps/{app.app_id}/git/patterns/", {"auto_detect_patterns": "feature/*, !feature/wip-*"}
    ).content.decode()
    assert "1 of 5 branches match" in fragment
    assert '<span class="badge status-deployed">match</span> feature/a' in fragment
    assert '<span class="badge status-none">no</span> feature/wip-b' in fragment
    bad = viewer_client.get(f"/apps/{app.app_id}/git/patterns/", {"auto_detect_patterns": "[x"}).content.decode()
    assert 'role="alert"' in bad


def test_webhook_urls_and_secret(admin_client: Client, viewer_client: Client, app: App) -> None:
    page = admin_client.get(f"/apps/{app.app_id}/git/").content.decode()
    assert f"http://testserver/hooks/github/{app.app_id}" in page
    assert f"http://testserver/hooks/gitlab/{app.app_id}" in page
    assert app.git_webhook_secret in page
    assert app.git_webhook_secret not in viewer_client.get(f"/apps/{app.app_id}/git/").content.decode()


def test_rotating_the_secret_replaces_it_and_keeps_it_out_of_the_audit_log(admin_client: Client, app: App) -> None:
    old = app.git_webhook_secret
    assert admin_client.post(f"/apps/{app.app_id}/git/rotate-secret/").status_code == 302
    app.refresh_from_db()
    assert app.git_webhook_secret not in ("", old)
    assert len(app.git_webhook_secret) == 64
    trail = str(list(AuditEvent.objects.values()))
    assert app.git_webhook_secret not in trail
    assert old not in trail


def test_admin_enables_previews_with_a_shared_backend(admin_client: Client, app: App) -> None:
    main = app.branches.get(name="main")
    response = admin_client.post(
        f"/apps/{app.app_id}/branches/main/previews/", {"pr_previews_enabled": "on", "pr_shared_backend": main.pk}
    )
    assert response.status_code == 302
    main.refresh_from_db()
    assert main.pr_previews_enabled
    assert main.pr_shared_backend_id == main.pk
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "Share the backend of main" in page
