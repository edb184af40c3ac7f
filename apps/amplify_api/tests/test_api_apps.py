"""Apps, branches and webhooks through boto3's `amplify` client against a live server:
each response satisfies botocore's output shape, settings land on the console's own
models, errors come back as the service's error codes, and lists page with nextToken."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from apps.amplify_api.tests.conftest import assert_valid_output, error_code
from apps.branches.models import App, Branch, EnvironmentVariable
from apps.builds.models import Webhook
from console.models import AuditEvent


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(("main", "dev", "feature-a"))


@pytest.fixture
def app_id(admin_api: Any, repo: Path) -> str:
    return str(admin_api.create_app(name="Site", repository=str(repo))["app"]["appId"])


def test_create_app_maps_settings_onto_the_console(admin_api: Any, repo: Path) -> None:
    response = admin_api.create_app(
        name="Shop",
        description="The shop front",
        repository=str(repo),
        platform="WEB_COMPUTE",
        environmentVariables={"API_URL": "https://api.example.com", "MODE": "prod"},
        enableBranchAutoBuild=False,
        enableBranchAutoDeletion=True,
        enableAutoBranchCreation=True,
        autoBranchCreationPatterns=["feature-*", "!feature-old*"],
        autoBranchCreationConfig={"stage": "BETA"},
        buildSpec="version: 1\nfrontend:\n  phases:\n    build:\n      commands: ['echo hi']\n",
    )
    assert_valid_output(admin_api, "CreateApp", response)
    shown = response["app"]
    app = App.objects.get(app_id=shown["appId"])
    assert (app.name, app.description, app.platform, app.repository) == ("Shop", "The shop front", "WEB_COMPUTE", str(repo))
    assert (app.enable_branch_auto_build, app.auto_disconnect, app.auto_detect_branches) == (False, True, True)
    assert (app.auto_detect_patterns, app.auto_detect_stage) == ("feature-*, !feature-old*", "BETA")
    assert "echo hi" in app.build_spec
    assert dict(EnvironmentVariable.objects.filter(app=app).values_list("name", "value")) == {
        "API_URL": "https://api.example.com", "MODE": "prod",
    }  # fmt: skip
    # CreateApp connects no branch (as Amplify's); the production branch is the repository's main.
    assert app.branches.count() == 0
    assert app.production_branch == "main"
    assert shown["autoBranchCreationPatterns"] == ["feature-*", "!feature-old*"]
    assert shown["environmentVariables"] == {"API_URL": "https://api.example.com", "MODE": "prod"}
    assert shown["appArn"].endswith(f":apps/{app.app_id}")
    assert shown["defaultDomain"] == app.default_domain
    assert AuditEvent.objects.filter(action="app.create", target=app.app_id, actor_name="ada").exists()


def test_get_update_delete_app(admin_api: Any, app_id: str) -> None:
    got = admin_api.get_app(appId=app_id)
    assert_valid_output(admin_api, "GetApp", got)
    assert got["app"]["name"] == "Site"
    admin_api.update_app(appId=app_id, environmentVariables={"A": "1", "B": "2"})
    updated = admin_api.update_app(appId=app_id, name="Site 2", environmentVariables={"B": "3"})
    assert_valid_output(admin_api, "UpdateApp", updated)
    # The map replaces the app's variables as a whole: A is gone.
    assert updated["app"]["environmentVariables"] == {"B": "3"}
    assert updated["app"]["name"] == "Site 2"
    deleted = admin_api.delete_app(appId=app_id)
    assert_valid_output(admin_api, "DeleteApp", deleted)
    assert deleted["app"]["appId"] == app_id
    assert not App.objects.filter(app_id=app_id).exists()
    with pytest.raises(ClientError) as missing:
        admin_api.get_app(appId=app_id)
    assert error_code(missing) == ("NotFoundException", 404)


def test_bad_input_is_refused_with_bad_request_and_nothing_written(admin_api: Any, repo: Path, app_id: str) -> None:
    apps_before = App.objects.count()
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: admin_api.create_app(name="No repo"), "repository is required"),
        (lambda: admin_api.create_app(name="Bad", repository="/nonexistent/repo.git"), "Cannot read the repository"),
        (
            lambda: admin_api.create_app(name="Auth", repository=str(repo), enableBasicAuth=True),
            "basicAuthCredentials is required",
        ),
        (lambda: admin_api.create_app(name="Var", repository=str(repo), environmentVariables={"AWS_X": "1"}), "reserved"),
        (lambda: admin_api.update_app(appId=app_id, buildSpec="version: [unclosed"), "buildSpec: line 1"),
        (lambda: admin_api.create_branch(appId=app_id, branchName="no-such-branch"), "no branch"),
        (lambda: admin_api.create_app(name="x" * 256, repository=str(repo)), "at most 255"),
        (
            lambda: admin_api.create_app(name="Role", repository=str(repo), iamServiceRoleArn="arn:aws:iam::1:user/x"),
            "iamServiceRoleArn: Enter an IAM role ARN",
        ),
        (
            lambda: admin_api.update_app(appId=app_id, name="Renamed", iamServiceRoleArn="not-an-arn"),
            "iamServiceRoleArn: Enter an IAM role ARN such as arn:aws:iam::123456789012:role/amplify-build.",
        ),
    ]
    for call, message in cases:
        with pytest.raises((ClientError, ParamValidationError)) as raised:
            call()
        if isinstance(raised.value, ClientError):
            assert raised.value.response["Error"]["Code"] == "BadRequestException", message
            assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert message.lower() in str(raised.value).lower(), (message, str(raised.value))
    assert App.objects.count() == apps_before
    assert App.objects.get(app_id=app_id).build_spec == ""
    assert App.objects.get(app_id=app_id).service_role_arn == ""
    assert App.objects.get(app_id=app_id).name == "Site"  # nothing of a refused UpdateApp is written
    assert not Branch.objects.filter(name="no-such-branch").exists()


def test_the_service_role_is_set_shown_and_cleared_through_the_api(admin_api: Any, repo: Path) -> None:
    role = "arn:aws:iam::123456789012:role/service-role/AmplifyBuild"
    created = admin_api.create_app(name="Roled", repository=str(repo), iamServiceRoleArn=role)
    assert_valid_output(admin_api, "CreateApp", created)
    app_id = created["app"]["appId"]
    assert created["app"]["iamServiceRoleArn"] == role
    assert App.objects.get(app_id=app_id).service_role_arn == role
    assert admin_api.get_app(appId=app_id)["app"]["iamServiceRoleArn"] == role
    listed = admin_api.list_apps()
    assert_valid_output(admin_api, "ListApps", listed)
    assert [app["iamServiceRoleArn"] for app in listed["apps"] if app["appId"] == app_id] == [role]
    other = "arn:aws:iam::123456789012:role/other"
    assert admin_api.update_app(appId=app_id, iamServiceRoleArn=other)["app"]["iamServiceRoleArn"] == other
    event = AuditEvent.objects.filter(action="app.update", target=app_id).latest("pk")
    assert event.detail["service_role_arn"] == other
    cleared = admin_api.update_app(appId=app_id, iamServiceRoleArn="")["app"]
    assert "iamServiceRoleArn" not in cleared
    assert App.objects.get(app_id=app_id).service_role_arn == ""


def test_a_raw_request_with_an_invalid_enum_or_body_is_a_bad_request(admin_api: Any, app_id: str) -> None:
    # botocore checks enums only on the server: the console must refuse them itself.
    with pytest.raises(ClientError) as stage:
        admin_api.create_branch(appId=app_id, branchName="dev", stage="SOMETIME")
    assert error_code(stage) == ("BadRequestException", 400)
    assert "stage" in str(stage.value)
    assert not Branch.objects.filter(name="dev").exists()


def test_branches_create_get_update_list_delete(admin_api: Any, app_id: str) -> None:
    created = admin_api.create_branch(
        appId=app_id, branchName="dev", stage="BETA", description="QA", environmentVariables={"MODE": "qa"},
        enableAutoBuild=False, framework="Next.js - SSR", enablePullRequestPreview=True,
    )  # fmt: skip
    assert_valid_output(admin_api, "CreateBranch", created)
    branch = Branch.objects.get(app__app_id=app_id, name="dev")
    assert (branch.stage, branch.description, branch.enable_auto_build, branch.framework) == (
        "BETA",
        "QA",
        False,
        "Next.js - SSR",
    )
    assert branch.pr_previews_enabled
    assert dict(branch.environment_variables.values_list("name", "value")) == {"MODE": "qa"}

    # What ampx's branch linker does: read the branch, then record the backend stack on it.
    stack_arn = "arn:aws:cloudformation:us-east-1:123456789012:stack/amplify-site-dev-branch-abc/guid"
    got = admin_api.get_branch(appId=app_id, branchName="dev")
    assert_valid_output(admin_api, "GetBranch", got)
    updated = admin_api.update_branch(appId=app_id, branchName="dev", backend={"stackArn": stack_arn}, stage="DEVELOPMENT")
    assert_valid_output(admin_api, "UpdateBranch", updated)
    assert updated["branch"]["backend"] == {"stackArn": stack_arn}
    assert updated["branch"]["stage"] == "DEVELOPMENT"
    branch.refresh_from_db()
    assert branch.backend_stack_arn == stack_arn
    assert branch.description == "QA"

    admin_api.create_branch(appId=app_id, branchName="main", stage="PRODUCTION")
    listed = admin_api.list_branches(appId=app_id)
    assert_valid_output(admin_api, "ListBranches", listed)
    assert [b["branchName"] for b in listed["branches"]] == ["dev", "main"]
    assert admin_api.get_app(appId=app_id)["app"]["productionBranch"]["branchName"] == "main"

    with pytest.raises(ClientError) as again:
        admin_api.create_branch(appId=app_id, branchName="dev")
    assert error_code(again) == ("BadRequestException", 400)
    assert "already connected" in str(again.value)
    deleted = admin_api.delete_branch(appId=app_id, branchName="dev")
    assert_valid_output(admin_api, "DeleteBranch", deleted)
    assert not Branch.objects.filter(app__app_id=app_id, name="dev").exists()
    with pytest.raises(ClientError) as gone:
        admin_api.get_branch(appId=app_id, branchName="dev")
    assert error_code(gone) == ("NotFoundException", 404)


def test_lists_page_with_next_token_and_max_results(admin_api: Any, repo: Path) -> None:
    made = [admin_api.create_app(name=f"App {n}", repository=str(repo))["app"]["appId"] for n in range(5)]
    seen, token, pages = [], None, 0
    while True:
        response = admin_api.list_apps(maxResults=2, **({"nextToken": token} if token else {}))
        assert_valid_output(admin_api, "ListApps", response)
        assert len(response["apps"]) <= 2
        seen += [a["appId"] for a in response["apps"]]
        pages += 1
        token = response.get("nextToken")
        if not token:
            break
    assert seen == made
    assert pages == 3
    # The paginator boto3 ships walks the same pages.
    walked = [a["appId"] for page in admin_api.get_paginator("list_apps").paginate(PaginationConfig={"PageSize": 2})
              for a in page["apps"]]  # fmt: skip
    assert walked == made
    with pytest.raises(ClientError) as forged:
        admin_api.list_apps(nextToken="not-a-token")
    assert error_code(forged) == ("BadRequestException", 400)


def test_webhooks_create_get_list_update_delete(admin_api: Any, app_id: str, live_server: Any) -> None:
    admin_api.create_branch(appId=app_id, branchName="main")
    admin_api.create_branch(appId=app_id, branchName="dev")
    created = admin_api.create_webhook(appId=app_id, branchName="main", description="CMS publish")
    assert_valid_output(admin_api, "CreateWebhook", created)
    hook = created["webhook"]
    stored = Webhook.objects.get(webhook_id=hook["webhookId"])
    assert hook["webhookUrl"].startswith(f"{live_server.url}/webhooks?id={stored.webhook_id}&token=")
    assert (stored.name, stored.branch.name) == ("CMS publish", "main")
    unnamed = admin_api.create_webhook(appId=app_id, branchName="main")["webhook"]
    assert unnamed["description"] == "API webhook 1"

    got = admin_api.get_webhook(webhookId=hook["webhookId"])
    assert_valid_output(admin_api, "GetWebhook", got)
    listed = admin_api.list_webhooks(appId=app_id)
    assert_valid_output(admin_api, "ListWebhooks", listed)
    assert {w["webhookId"] for w in listed["webhooks"]} == {hook["webhookId"], unnamed["webhookId"]}

    moved = admin_api.update_webhook(webhookId=hook["webhookId"], branchName="dev", description="CMS preview")
    assert_valid_output(admin_api, "UpdateWebhook", moved)
    stored.refresh_from_db()
    assert (stored.name, stored.branch.name) == ("CMS preview", "dev")
    assert moved["webhook"]["webhookUrl"] == hook["webhookUrl"]  # the URL callers hold still works

    deleted = admin_api.delete_webhook(webhookId=hook["webhookId"])
    assert_valid_output(admin_api, "DeleteWebhook", deleted)
    assert not Webhook.objects.filter(webhook_id=hook["webhookId"]).exists()
    with pytest.raises(ClientError) as gone:
        admin_api.get_webhook(webhookId=hook["webhookId"])
    assert error_code(gone) == ("NotFoundException", 404)


def test_branch_quota_is_a_limit_exceeded_error(admin_api: Any, app_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from apps.amplify_api import operations

    monkeypatch.setattr(operations, "MAX_BRANCHES_PER_APP", 1)
    admin_api.create_branch(appId=app_id, branchName="main")
    with pytest.raises(ClientError) as limited:
        admin_api.create_branch(appId=app_id, branchName="dev")
    assert error_code(limited) == ("LimitExceededException", 429)
    assert not Branch.objects.filter(app__app_id=app_id, name="dev").exists()


def test_operators_and_viewers_cannot_change_apps_branches_or_webhooks(
    admin_api: Any, operator_api: Any, viewer_api: Any, app_id: str
) -> None:
    admin_api.create_branch(appId=app_id, branchName="main")
    hook = admin_api.create_webhook(appId=app_id, branchName="main")["webhook"]["webhookId"]
    writes: list[Callable[[Any], Any]] = [
        lambda c: c.update_app(appId=app_id, name="Renamed"),
        lambda c: c.delete_app(appId=app_id),
        lambda c: c.create_branch(appId=app_id, branchName="dev"),
        lambda c: c.update_branch(appId=app_id, branchName="main", description="changed"),
        lambda c: c.delete_branch(appId=app_id, branchName="main"),
        lambda c: c.create_webhook(appId=app_id, branchName="main"),
        lambda c: c.update_webhook(webhookId=hook, description="changed"),
        lambda c: c.delete_webhook(webhookId=hook),
    ]
    for client in (operator_api, viewer_api):
        for write in writes:
            with pytest.raises(ClientError) as refused:
                write(client)
            assert error_code(refused) == ("UnauthorizedException", 401)
            assert "admin role" in str(refused.value)
        assert client.get_app(appId=app_id)["app"]["name"] == "Site"  # reading is allowed
    app = App.objects.get(app_id=app_id)
    assert app.name == "Site"
    assert [b.name for b in app.branches.all()] == ["main"]
    assert Webhook.objects.filter(branch__app=app).count() == 1
    assert Branch.objects.get(app=app, name="main").description == ""
