"""The secrets page: the matrix, effective values, and no value ever leaking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.test import Client

from apps.branches import services as branch_services
from apps.branches.models import App
from apps.secrets.paths import branch_path, shared_path
from apps.secrets.scopes import Scope
from apps.secrets.services import secret_set
from console.models import AuditEvent

VALUES = {"shared": "shared-value-1234", "main": "main-value-5678"}


@pytest.fixture
def app(db: None, make_repo: Callable[..., Path]) -> App:
    app = branch_services.app_create(
        actor=None, name="Shop", repository=str(make_repo(("main", "dev"))), production_branch="main"
    )
    branch_services.branch_connect(actor=None, app=app, name="dev")
    secret_set(actor=None, scope=Scope.shared(app.app_id), name="API_KEY", value=VALUES["shared"])
    secret_set(actor=None, scope=Scope.branch(app.app_id, "main"), name="STRIPE_KEY", value=VALUES["main"])
    return app


def every_response(client: Client, app: App) -> str:
    pages = [
        client.get(f"/apps/{app.app_id}/secrets/"),
        client.get(f"/apps/{app.app_id}/secrets/export.csv"),
        client.get(f"/apps/{app.app_id}/secrets/history/", {"name": "API_KEY", "scope": "__shared__"}),
        client.post(f"/apps/{app.app_id}/secrets/reveal/", {"name": "API_KEY", "scope": "__shared__"}),
        client.post(f"/apps/{app.app_id}/secrets/reveal/", {"name": "STRIPE_KEY", "scope": "main"}),
    ]
    body = ""
    for page in pages:
        body += b"".join(page.streaming_content).decode() if page.streaming else page.content.decode()  # type: ignore[attr-defined]
    return body


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_viewers_and_operators_never_receive_a_value(who: str, app: App, request: pytest.FixtureRequest) -> None:
    body = every_response(request.getfixturevalue(who), app)
    assert "API_KEY" in body
    for value in VALUES.values():
        assert value not in body


def test_the_matrix_shows_effective_values_and_missing_names(viewer_client: Client, app: App) -> None:
    page = viewer_client.get(f"/apps/{app.app_id}/secrets/").content.decode()
    assert "Some branches lack: STRIPE_KEY." in page
    dev_cells = page.count('<span class="badge status-failed">missing</span>')
    assert dev_cells == 1  # dev lacks STRIPE_KEY
    assert page.count('<span class="badge">shared value</span>') == 2  # API_KEY for main and dev
    assert page.count('<span class="badge status-deployed">own value</span>') == 1  # STRIPE_KEY on main


def test_admin_reveals_once_and_it_is_audited(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/secrets/reveal/", {"name": "STRIPE_KEY", "scope": "main"})
    assert VALUES["main"] in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="secret.reveal")
    assert (event.actor_name, event.target) == ("ada", branch_path(app.app_id, "main", "STRIPE_KEY"))
    assert VALUES["main"] not in admin_client.get(f"/apps/{app.app_id}/secrets/").content.decode()


def test_values_never_reach_the_audit_trail(admin_client: Client, app: App) -> None:
    admin_client.post(
        f"/apps/{app.app_id}/secrets/set/", {"name": "NEW", "value": "brand-new-value", "scopes": ["__shared__", "dev"]}
    )
    admin_client.post(f"/apps/{app.app_id}/secrets/reveal/", {"name": "NEW", "scope": "dev"})
    trail = str(list(AuditEvent.objects.values()))
    for value in [*VALUES.values(), "brand-new-value"]:
        assert value not in trail


def test_set_writes_one_securestring_per_scope(admin_client: Client, app: App) -> None:
    response = admin_client.post(
        f"/apps/{app.app_id}/secrets/set/", {"name": "TOKEN", "value": "t0ken", "scopes": ["__shared__", "dev"]}
    )
    assert response.status_code == 302
    ssm = boto3.client("ssm", region_name="us-east-1")
    for path in (shared_path(app.app_id, "TOKEN"), branch_path(app.app_id, "dev", "TOKEN")):
        parameter = ssm.get_parameter(Name=path, WithDecryption=True)["Parameter"]
        assert (parameter["Type"], parameter["Value"]) == ("SecureString", "t0ken")
        assert (
            ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [path]}])["Parameters"][0]["Description"]
            == "Amplify Secret"
        )


@pytest.mark.parametrize(("name", "message"), [("bad name", "is not a valid secret name"), ("", "This field is required")])
def test_bad_names_are_refused_and_nothing_is_written(admin_client: Client, app: App, name: str, message: str) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/secrets/set/", {"name": name, "value": "v", "scopes": ["__shared__"]})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert len(boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"]) == 2


def test_remove_needs_the_typed_name(admin_client: Client, app: App) -> None:
    url = f"/apps/{app.app_id}/secrets/remove/"
    admin_client.post(url, {"name": "API_KEY", "scope": "__shared__", "confirm_name": "api_key"})
    ssm = boto3.client("ssm", region_name="us-east-1")
    assert ssm.get_parameter(Name=shared_path(app.app_id, "API_KEY"))["Parameter"]
    admin_client.post(url, {"name": "API_KEY", "scope": "__shared__", "confirm_name": "API_KEY"})
    assert len(ssm.describe_parameters()["Parameters"]) == 1


def test_copy_a_branchs_secrets(admin_client: Client, app: App) -> None:
    response = admin_client.post(f"/apps/{app.app_id}/secrets/copy/", {"copy-source": "main", "copy-target": "dev"}, follow=True)
    assert "Copied 1 secrets from branch main to branch dev: STRIPE_KEY." in response.content.decode()
    value = boto3.client("ssm", region_name="us-east-1").get_parameter(
        Name=branch_path(app.app_id, "dev", "STRIPE_KEY"), WithDecryption=True
    )
    assert value["Parameter"]["Value"] == VALUES["main"]


def test_import_with_a_bad_line_writes_nothing_and_never_echoes_values(admin_client: Client, app: App) -> None:
    text = "GOOD=imported-value-1\nbad line\nALSO=imported-value-2\n"
    response = admin_client.post(f"/apps/{app.app_id}/secrets/import/", {"import-text": text, "import-scopes": ["__shared__"]})
    body = response.content.decode()
    assert response.status_code == 400
    assert "line 2: expected NAME=value" in body
    assert "imported-value-1" not in body
    assert len(boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"]) == 2


def test_import_preview_lists_names_only(admin_client: Client, app: App) -> None:
    fragment = admin_client.post(
        f"/apps/{app.app_id}/secrets/import/preview/", {"import-text": "A=secret-a\nB=secret-b\n# note\n"}
    ).content.decode()
    assert "2 secrets to import: <code>A</code>, <code>B</code>" in fragment
    assert "secret-a" not in fragment


def test_history_lists_versions_without_values(viewer_client: Client, app: App) -> None:
    secret_set(actor=None, scope=Scope.shared(app.app_id), name="API_KEY", value="second-value")
    page = viewer_client.get(f"/apps/{app.app_id}/secrets/history/", {"name": "API_KEY", "scope": "__shared__"}).content.decode()
    assert "all branches" in page
    assert "Reveal value" not in page  # viewers get no actions
    assert "v2" in page
    assert "v1" in page
    assert "second-value" not in page


def test_export_lists_names_scopes_and_paths(viewer_client: Client, app: App) -> None:
    response = viewer_client.get(f"/apps/{app.app_id}/secrets/export.csv")
    rows = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert rows[0] == "name,scope,path,version,last_modified,last_modified_by"
    assert any(r.startswith(f"API_KEY,all branches,{shared_path(app.app_id, 'API_KEY')},1,") for r in rows)
    assert any(r.startswith(f"STRIPE_KEY,branch main,{branch_path(app.app_id, 'main', 'STRIPE_KEY')},1,") for r in rows)


def test_builds_get_the_secrets_json_with_branch_values_winning(app: App) -> None:
    from apps.secrets.selectors import build_secrets

    secret_set(actor=None, scope=Scope.branch(app.app_id, "main"), name="API_KEY", value="main-api-key")
    assert build_secrets(app.app_id, "main") == {"API_KEY": "main-api-key", "STRIPE_KEY": VALUES["main"]}
    assert build_secrets(app.app_id, "dev") == {"API_KEY": VALUES["shared"]}


def test_a_build_masks_the_secret_values_it_prints(app: App, make_repo: Any) -> None:
    from apps.builds.models import Job
    from apps.builds.tests.builds import build, log_of

    spec = 'version: 1\nfrontend:\n  phases:\n    build:\n      commands:\n        - echo "secrets=$secrets"\n'
    app.build_spec = spec
    app.save()
    job = build(app)
    log = log_of(job)
    assert job.status == Job.Status.SUCCEED, log
    assert '"API_KEY": "********"' in log
    assert VALUES["shared"] not in log
