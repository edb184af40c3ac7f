"""Connecting, configuring and disconnecting branches."""

from __future__ import annotations

from typing import Any

import boto3
from django.test import Client

from apps.branches.models import App, Branch
from apps.branches.services import branch_connect
from apps.branches.tasks import read_backend_stack, read_repository_heads
from console.models import AuditEvent


def connect(client: Client, app: App, name: str, **extra: Any) -> Any:
    return client.post(
        f"/apps/{app.app_id}/connect-branch/", {"name": name, "stage": "DEVELOPMENT", "enable_auto_build": "on", **extra}
    )


def test_connect_page_lists_the_repositorys_branches(admin_client: Client, app: App) -> None:
    read_repository_heads(app.pk)  # the worker's read, which the page asked for
    fragment = admin_client.get(f"/apps/{app.app_id}/remote-branches/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-branch="dev"' in fragment
    assert 'data-branch="feature/login"' in fragment
    assert '<span>main</span> <span class="badge">connected</span>' in fragment


def test_connect_page_says_when_the_repository_cannot_be_read(admin_client: Client, app: App, tmp_path: Any) -> None:
    App.objects.filter(pk=app.pk).update(repository=str(tmp_path / "moved.git"))
    read_repository_heads(app.pk)
    fragment = admin_client.get(f"/apps/{app.app_id}/remote-branches/").content.decode()
    assert "The last read failed: git ls-remote failed" in fragment


def test_admin_connects_a_branch(admin_client: Client, app: App) -> None:
    response = connect(admin_client, app, "feature/login", stage="BETA")
    branch = app.branches.get(name="feature/login")
    assert response.status_code == 302
    assert response["Location"] == f"/apps/{app.app_id}/branches/feature-login/"
    assert (branch.display_name, branch.stage, branch.enable_auto_build) == ("feature-login", "BETA", True)
    assert AuditEvent.objects.filter(action="branch.connect", target=f"{app.app_id}/feature/login").exists()


def test_display_names_do_not_collide(admin_client: Client, app: App) -> None:
    connect(admin_client, app, "feature/login")
    connect(admin_client, app, "feature-login")
    names = dict(app.branches.values_list("name", "display_name"))
    assert names["feature/login"] == "feature-login"
    assert names["feature-login"] == "feature-login-2"
    assert admin_client.get(f"/apps/{app.app_id}/branches/feature-login-2/").status_code == 200


def test_unknown_branch_is_refused_and_nothing_written(admin_client: Client, app: App) -> None:
    response = connect(admin_client, app, "nope")
    assert response.status_code == 400
    assert "The repository has no branch &#x27;nope&#x27;." in response.content.decode()
    assert list(app.branches.values_list("name", flat=True)) == ["main"]


def test_invalid_and_duplicate_branch_names_are_refused(admin_client: Client, app: App) -> None:
    assert "is not a valid git branch name" in connect(admin_client, app, "bad..name").content.decode()
    assert "already connected" in connect(admin_client, app, "main").content.decode()
    assert app.branches.count() == 1


def test_branch_page_shows_url_stack_name_and_stack_status(admin_client: Client, app: App) -> None:
    branch = app.branches.get(name="main")
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(
        StackName=branch.backend_stack_name,
        TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"awsAppsyncApiId": {"Value": "api123"}}}',
        Tags=[{"Key": "created-by", "Value": "amplify"}],
    )
    read_backend_stack(branch.pk)
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert f"http://main.{app.app_id}.localhost:8000/" in page
    assert branch.backend_stack_name in page
    assert 'class="badge status-deployed"' in page
    assert "awsAppsyncApiId" in page


def test_branch_page_without_a_stack_says_not_deployed(viewer_client: Client, app: App) -> None:
    read_backend_stack(app.branches.get(name="main").pk)
    page = viewer_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "Not deployed" in page
    assert "<fieldset disabled>" in page
    assert "Disconnect" not in page


def test_hosted_url_of_odd_branch_names_is_a_valid_hostname(app: App) -> None:
    branch = branch_connect(actor=None, app=app, name="feature/login")
    assert branch.url == f"http://feature-login.{app.app_id}.localhost:8000/"
    odd = Branch(app=app, name="fix#42/Ünïcode", display_name="fix#42-Ünïcode")
    assert odd.hostname_label == "fix-42-n-code"
    long = Branch(app=app, name="x" * 100, display_name="x" * 100)
    assert len(long.hostname_label) == 63


def test_admin_updates_branch_settings(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/branches/main/", {"stage": "BETA", "description": "Beta site"})
    assert response.status_code == 302
    branch = app.branches.get(name="main")
    assert (branch.stage, branch.enable_auto_build, branch.description) == ("BETA", False, "Beta site")
    assert AuditEvent.objects.filter(action="branch.update").exists()


def test_invalid_stage_is_refused(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/branches/main/", {"stage": "LIVE"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert app.branches.get(name="main").stage == "PRODUCTION"


def test_disconnect_needs_the_exact_branch_name(admin_client: Client, app: App) -> None:
    branch_connect(actor=None, app=app, name="feature/login")
    url = f"/apps/{app.app_id}/branches/feature-login/disconnect/"
    response = admin_client.post(url, {"confirm_name": "feature-login"})
    assert response.status_code == 400
    assert "Type the branch name &#x27;feature/login&#x27; exactly" in response.content.decode()
    assert app.branches.filter(name="feature/login").exists()
    response = admin_client.post(url, {"confirm_name": "feature/login"})
    assert response.status_code == 302
    assert not app.branches.filter(name="feature/login").exists()
    assert AuditEvent.objects.filter(action="branch.disconnect", target=f"{app.app_id}/feature/login").exists()


def test_branch_with_hash_and_unicode_has_a_working_page(admin_client: Client, make_repo: Any, db: None) -> None:
    from apps.branches.services import app_create

    repo = make_repo(("main", "fix#42", "größe"))
    app = app_create(actor=None, name="Odd", repository=str(repo), production_branch="main")
    for name in ("fix#42", "größe"):
        assert connect(admin_client, app, name).status_code == 302
    from django.urls import reverse

    for branch in app.branches.all():
        page = admin_client.get(reverse("branch_detail", args=[app.app_id, branch.display_name]))
        assert page.status_code == 200
        assert branch.backend_stack_name in page.content.decode()


def test_overview_loads_each_branch_status_as_a_fragment(viewer_client: Client, app: App) -> None:
    overview = viewer_client.get(f"/apps/{app.app_id}/").content.decode()
    assert f'hx-get="/apps/{app.app_id}/branches/main/status/"' in overview
    read_backend_stack(app.branches.get(name="main").pk)
    fragment = viewer_client.get(f"/apps/{app.app_id}/branches/main/status/").content.decode()
    assert "Not deployed" in fragment
    assert "<html" not in fragment


def test_an_aws_failure_shows_as_unknown_with_the_reason(admin_client: Client, app: App, settings: Any) -> None:
    from console.aws import clear_client_cache

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.AWS_MAX_ATTEMPTS = 1
    clear_client_cache()
    read_backend_stack(app.branches.get(name="main").pk)
    fragment = admin_client.get(f"/apps/{app.app_id}/branches/main/status/").content.decode()
    assert "Unknown" in fragment
    assert "Cannot reach AWS for cloudformation:DescribeStacks" in fragment
    page = admin_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "Cannot reach AWS for cloudformation:DescribeStacks" in page
