"""The Node.js version of an app's and a branch's builds, set on their settings pages
(apps.builds.nodejs reads them: the branch's over the app's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.branches import services
from apps.branches.models import App
from console.models import AuditEvent


def _app_settings(repo: Path, **overrides: str) -> dict[str, str]:
    fields = {"name": "Shop", "repository": str(repo), "production_branch": "main", "platform": "WEB", "build_network": "on"}
    return {**fields, **overrides}


def test_admin_sets_the_app_s_node_version_and_the_audit_event_shows_it(admin_client: Client, app: App, repo: Path) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/settings/", _app_settings(repo, node_version="22"))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.node_version == "22"
    event = AuditEvent.objects.filter(action="app.update", target=app.app_id).latest("pk")
    assert (event.detail["changed"], event.detail["node_version"]) == (["node_version"], "22")
    page = admin_client.get(f"/apps/{app.app_id}/settings/").content.decode()
    assert "at most 120 minutes; Node.js 22" in page
    assert 'name="node_version" value="22"' in page


NOT_A_MAJOR = "is not a Node.js major version: enter a number such as 22, or leave it empty for the default."


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("v22", NOT_A_MAJOR),
        ("22.1", NOT_A_MAJOR),
        ("lts", NOT_A_MAJOR),
        ("0", NOT_A_MAJOR),
        ("1000", NOT_A_MAJOR),
    ],
)
def test_an_app_node_version_that_is_no_major_is_refused_and_nothing_is_written(
    admin_client: Client, app: App, repo: Path, value: str, message: str
) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/settings/", _app_settings(repo, name="Renamed", node_version=value))
    assert response.status_code == 400
    assert message in response.content.decode()
    app.refresh_from_db()
    assert (app.name, app.node_version) == ("Shop", "")
    assert not AuditEvent.objects.filter(action="app.update").exists()


@pytest.mark.parametrize("who", ["operator_client", "viewer_client"])
def test_only_admins_set_the_app_s_node_version(request: pytest.FixtureRequest, app: App, repo: Path, who: str) -> None:
    response = request.getfixturevalue(who).post(f"/apps/{app.app_id}/settings/", _app_settings(repo, node_version="22"))
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.node_version == ""


def test_admin_sets_the_branch_s_node_version_and_the_branch_page_shows_it(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/branches/main/", {"stage": "PRODUCTION", "node_version": "22"})
    assert response.status_code == 302
    assert app.branches.get(name="main").node_version == "22"
    event = AuditEvent.objects.get(action="branch.update")
    assert event.detail["node_version"] == "22"
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "<dt>Node.js</dt><dd>22 (this branch)" in page
    # Emptied: the app's setting applies again.
    App.objects.filter(pk=app.pk).update(node_version="20")
    admin_client.post(f"/apps/{app.app_id}/branches/main/", {"stage": "PRODUCTION", "node_version": ""})
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "<dt>Node.js</dt><dd>20 (the app's)" in page


def test_a_branch_node_version_that_is_no_major_is_refused_and_nothing_is_written(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/branches/main/", {"stage": "BETA", "node_version": "22.1"})
    assert response.status_code == 400
    assert "&#x27;22.1&#x27; is not a Node.js major version" in response.content.decode()
    branch = app.branches.get(name="main")
    assert (branch.stage, branch.node_version) == ("PRODUCTION", "")
    assert not AuditEvent.objects.filter(action="branch.update").exists()


def test_a_full_version_typed_in_is_not_cut_short_and_is_refused_with_the_reason(admin_client: Client, app: App) -> None:
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert 'name="node_version" maxlength="20"' in page  # the browser keeps "v22.1.0" whole
    response = admin_client.post(f"/apps/{app.app_id}/branches/main/", {"stage": "BETA", "node_version": "v22.1.0"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "&#x27;v22.1.0&#x27; is not a Node.js major version" in text
    assert "at most" not in text  # one reason, not a length complaint besides it
    assert app.branches.get(name="main").node_version == ""


def test_the_service_refuses_a_bad_branch_node_version_before_writing(app: App) -> None:
    branch = app.branches.get(name="main")
    with pytest.raises(ValidationError):
        services.branch_update(actor=None, branch=branch, stage="BETA", enable_auto_build=True, node_version="abc")
    assert app.branches.get(name="main").stage == "PRODUCTION"


def test_callers_that_do_not_set_the_node_version_keep_it(app: App) -> None:
    """The Amplify API's UpdateBranch has no such field: it must not clear the page's setting."""
    branch = app.branches.get(name="main")
    services.branch_update(actor=None, branch=branch, stage="PRODUCTION", enable_auto_build=True, node_version="22")
    services.branch_update(actor=None, branch=app.branches.get(name="main"), stage="BETA", enable_auto_build=False)
    assert app.branches.get(name="main").node_version == "22"
