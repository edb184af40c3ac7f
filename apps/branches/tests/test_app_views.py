"""Creating, editing and deleting apps through the pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches import services
from apps.branches.models import App, Branch
from console.models import AuditEvent


def create(client: Client, **fields: str) -> Any:
    data = {
        "name": "Shop",
        "repository": "",
        "production_branch": "main",
        "platform": "WEB",
        "package_name": "",
        "description": "",
    }
    return client.post("/apps/new/", {**data, **fields})


def test_admin_creates_an_app_and_its_production_branch_is_connected(admin_client: Client, repo: Path) -> None:
    response = create(admin_client, repository=str(repo), package_name="shop-web")
    app = App.objects.get()
    assert re.fullmatch(r"d[a-z0-9]{13}", app.app_id)
    assert response.status_code == 302
    assert response["Location"] == f"/apps/{app.app_id}/"
    assert list(app.branches.values_list("name", "stage")) == [("main", Branch.Stage.PRODUCTION)]
    event = AuditEvent.objects.get(action="app.create")
    assert (event.actor_name, event.target, event.outcome) == ("ada", app.app_id, "success")
    page = admin_client.get(response["Location"])
    assert b"amplify-" + app.app_id.encode() + b"-main-branch-" in page.content


def test_app_ids_are_unique(admin_client: Client, repo: Path) -> None:
    for _ in range(5):
        create(admin_client, repository=str(repo))
    assert App.objects.values("app_id").distinct().count() == 5


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        ("http://github.com/acme/shop.git", "Use https://"),
        ("not a url", "spaces or control characters"),
        ("ext::sh -c id", "spaces or control characters"),
        ("", "This field is required."),
    ],
)
def test_invalid_repository_urls_are_refused_and_nothing_is_written(admin_client: Client, repository: str, message: str) -> None:
    response = create(admin_client, repository=repository)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not App.objects.exists()
    assert not AuditEvent.objects.filter(action="app.create").exists()


def test_unreachable_repository_is_refused_with_gits_reason(admin_client: Client, tmp_path: Path) -> None:
    response = create(admin_client, repository=str(tmp_path / "missing.git"))
    assert "Cannot read the repository" in response.content.decode()
    assert "does not appear to be a git repository" in response.content.decode()
    assert not App.objects.exists()


def test_unknown_production_branch_is_refused(admin_client: Client, repo: Path) -> None:
    response = create(admin_client, repository=str(repo), production_branch="trunk")
    assert "The repository has no branch &#x27;trunk&#x27;" in response.content.decode()
    assert not App.objects.exists()


def test_invalid_package_name_is_refused(admin_client: Client, repo: Path) -> None:
    response = create(admin_client, repository=str(repo), package_name="Not Valid")
    assert "is not a valid package.json name" in response.content.decode()
    assert not App.objects.exists()


def test_dashboard_lists_apps_and_has_an_empty_state(admin_client: Client, viewer_client: Client, repo: Path) -> None:
    assert b"Create your first app" in admin_client.get("/").content
    assert b"Ask one to create an app" in viewer_client.get("/").content
    create(admin_client, repository=str(repo))
    page = viewer_client.get("/")
    assert b"Shop" in page.content
    assert b"Create app" not in page.content


def test_admin_edits_settings(admin_client: Client, app: App, repo: Path) -> None:
    data = {
        "name": "Shop 2",
        "repository": str(repo),
        "production_branch": "main",
        "platform": "WEB_COMPUTE",
        "package_name": "shop",
        "description": "d",
    }
    response = admin_client.post(f"/apps/{app.app_id}/settings/", data)
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.name, app.platform, app.package_name) == ("Shop 2", "WEB_COMPUTE", "shop")
    assert AuditEvent.objects.filter(action="app.update", target=app.app_id).exists()


def _settings(repo: Path, **overrides: str) -> dict[str, str]:
    return {"name": "Shop", "repository": str(repo), "production_branch": "main", "platform": "WEB", **overrides}


def test_admin_sets_the_service_role_and_turns_the_build_network_off(admin_client: Client, app: App, repo: Path) -> None:
    role = "arn:aws:iam::123456789012:role/service-role/shop-build"
    response = admin_client.post(f"/apps/{app.app_id}/settings/", _settings(repo, service_role_arn=f"  {role} "))
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.service_role_arn, app.build_network) == (role, False)
    event = AuditEvent.objects.filter(action="app.update", target=app.app_id).latest("pk")
    assert event.detail["service_role_arn"] == role
    assert event.detail["build_network"] is False
    page = admin_client.get(f"/apps/{app.app_id}/settings/").content.decode()
    assert f"assume <code>{role}</code>; network off" in page


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/shop-build",  # a user, not a role
        "arn:aws:iam::12345:role/shop",  # not a 12-digit account
        "arn:aws:s3:::bucket",
        "shop-build",
        "arn:aws:iam::123456789012:role/" + "x" * 65,  # a role name is at most 64 characters
    ],
)
def test_a_bad_service_role_is_refused_with_the_expected_shape_and_nothing_is_saved(
    admin_client: Client, app: App, repo: Path, arn: str
) -> None:
    response = admin_client.post(
        f"/apps/{app.app_id}/settings/", _settings(repo, name="Renamed", service_role_arn=arn, build_network="on")
    )
    assert response.status_code == 400
    assert "Enter an IAM role ARN such as arn:aws:iam::123456789012:role/amplify-build." in response.content.decode()
    app.refresh_from_db()
    assert (app.name, app.service_role_arn) == ("Shop", "")
    assert not AuditEvent.objects.filter(action="app.update").exists()


@pytest.mark.parametrize("who", ["operator_client", "viewer_client"])
def test_only_admins_set_the_service_role(request: pytest.FixtureRequest, app: App, repo: Path, who: str) -> None:
    role = "arn:aws:iam::123456789012:role/shop-build"
    response = request.getfixturevalue(who).post(f"/apps/{app.app_id}/settings/", _settings(repo, service_role_arn=role))
    assert response.status_code == 403
    app.refresh_from_db()
    assert (app.service_role_arn, app.build_network) == ("", True)
    assert not AuditEvent.objects.filter(action="app.update").exists()


def test_settings_with_an_unreachable_repository_change_nothing(admin_client: Client, app: App, tmp_path: Path) -> None:
    data = {"name": "Renamed", "repository": str(tmp_path / "gone.git"), "production_branch": "main", "platform": "WEB"}
    response = admin_client.post(f"/apps/{app.app_id}/settings/", data)
    assert response.status_code == 400
    assert "Cannot read the repository" in response.content.decode()
    app.refresh_from_db()
    assert app.name == "Shop"


def test_delete_needs_the_exact_name(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/delete/", {"confirm_name": "shop"})
    assert response.status_code == 400
    assert "Type the app name &#x27;Shop&#x27; exactly" in response.content.decode()
    assert App.objects.filter(pk=app.pk).exists()
    response = admin_client.post(f"/apps/{app.app_id}/delete/", {"confirm_name": "Shop"})
    assert response.status_code == 302
    assert not App.objects.exists()
    assert not Branch.objects.exists()
    assert AuditEvent.objects.filter(action="app.delete", target=app.app_id).exists()


def test_a_refused_delete_shows_the_whole_settings_form_so_saving_it_keeps_the_service_role(
    admin_client: Client, app: App
) -> None:
    role = "arn:aws:iam::123456789012:role/shop-build"
    App.objects.filter(pk=app.pk).update(service_role_arn=role, build_network=False)
    page = admin_client.post(f"/apps/{app.app_id}/delete/", {"confirm_name": "shop"}).content.decode()
    assert f'name="service_role_arn" value="{role}"' in page
    assert 'name="build_network"' in page


def test_the_settings_page_says_when_builds_get_no_aws_credentials(viewer_client: Client, app: App) -> None:
    page = viewer_client.get(f"/apps/{app.app_id}/settings/").content.decode()
    assert "no service role: builds get no AWS credentials" in page
    assert "Service role" in page  # the field, read-only for a viewer
    assert "Builds get only this role&#x27;s temporary credentials" in page


def test_unknown_app_is_a_404(admin_client: Client, db: None) -> None:
    assert admin_client.get("/apps/dnothere000000/").status_code == 404


def test_viewer_sees_settings_read_only(viewer_client: Client, app: App) -> None:
    page = viewer_client.get(f"/apps/{app.app_id}/settings/").content.decode()
    assert "<fieldset disabled>" in page
    assert "Delete app" not in page


def test_two_admins_editing_the_build_spec_one_wins_and_the_other_is_told(
    admin_client: Client, app: App, admin_user: Any
) -> None:
    ours = "version: 1\nfrontend:\n  phases:\n    build:\n      commands: ['echo ours']\n"
    theirs = "version: 1\nfrontend:\n  phases:\n    build:\n      commands: ['echo theirs']\n"
    page = admin_client.get(f"/apps/{app.app_id}/build-spec/").content.decode()
    loaded = re.search(r'name="loaded_version" value="([0-9a-f]*)"', page)
    assert loaded is not None
    # Another admin saves first, from another tab.
    services.app_build_spec_update(actor=admin_user, app=app, build_spec=theirs)
    refused = admin_client.post(f"/apps/{app.app_id}/build-spec/", {"build_spec": ours, "loaded_version": loaded.group(1)})
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "Someone saved the build spec after you opened it" in text
    assert "echo theirs" in text.split("The build spec saved meanwhile", 1)[1]
    app.refresh_from_db()
    assert app.build_spec == theirs  # nothing of ours was written
    assert AuditEvent.objects.filter(action="app.build_spec.update").count() == 1
    # Saving again from the refreshed form replaces theirs, knowingly.
    again = re.search(r'name="loaded_version" value="([0-9a-f]*)"', text)
    assert again is not None
    assert (
        admin_client.post(f"/apps/{app.app_id}/build-spec/", {"build_spec": ours, "loaded_version": again.group(1)}).status_code
        == 302
    )
    app.refresh_from_db()
    assert app.build_spec == ours


def test_build_spec_is_saved_when_valid(admin_client: Client, app: App) -> None:
    spec = "version: 1\nfrontend:\n  artifacts:\n    baseDirectory: dist\n    files: ['**/*']\n"
    response = admin_client.post(f"/apps/{app.app_id}/build-spec/", {"build_spec": spec})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.build_spec == spec
    assert AuditEvent.objects.filter(action="app.build_spec.update", target=app.app_id).exists()


def test_build_spec_from_a_browser_textarea_is_stored_with_plain_newlines(admin_client: Client, app: App) -> None:
    admin_client.post(f"/apps/{app.app_id}/build-spec/", {"build_spec": "version: 1\r\nfrontend: {}\r\n"})
    app.refresh_from_db()
    assert app.build_spec == "version: 1\nfrontend: {}\n"


def test_invalid_build_spec_shows_key_and_line_and_keeps_the_old_one(admin_client: Client, app: App) -> None:
    app.build_spec = "version: 1\n"
    app.save()
    response = admin_client.post(f"/apps/{app.app_id}/build-spec/", {"build_spec": "version: 1\nfrontned:\n  phases: {}\n"})
    assert response.status_code == 400
    assert "line 2, frontned: unknown key &#x27;frontned&#x27;" in response.content.decode()
    app.refresh_from_db()
    assert app.build_spec == "version: 1\n"
    assert not AuditEvent.objects.filter(action="app.build_spec.update").exists()


def test_errors_and_help_are_tied_to_their_fields_for_screen_readers(admin_client: Client) -> None:
    page = create(admin_client, repository="http://example.com/a.git").content.decode()
    field = re.search(r'<input[^>]*id="id_repository"[^>]*>', page)
    assert field is not None
    described_by = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    assert described_by is not None
    targets = described_by.group(1).split()
    assert targets == ["id_repository_helptext", "id_repository_error"]
    for target in targets:
        assert f'id="{target}"' in page


def test_a_build_spec_of_nested_aliases_is_refused_and_nothing_is_saved(admin_client: Client, app: App) -> None:
    from apps.branches.tests.test_buildspec import billion_laughs

    before = app.build_spec
    response = admin_client.post(f"/apps/{app.app_id}/build-spec/", {"build_spec": billion_laughs()})
    assert response.status_code == 400
    assert "expands to more than 50,000 values through YAML aliases" in response.content.decode()
    app.refresh_from_db()
    assert app.build_spec == before
