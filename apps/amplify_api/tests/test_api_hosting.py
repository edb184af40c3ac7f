"""Hosting settings through boto3's `amplify` client: customRules, customHeaders and basic
auth on apps and branches are kept, read back, applied to the branch URL at once, and
refused with BadRequest (nothing written) when wrong."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.test import Client

from apps.amplify_api.tests.conftest import assert_valid_output, error_code
from apps.branches.models import App
from apps.builds.tests.builds import build, make_app
from apps.hosting.models import BasicAuth, SiteSettings
from console.models import AuditEvent

SPA_RULE = {
    "source": "</^[^.]+$|\\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json|webp)$)([^.]+$)/>",
    "target": "/index.html",
    "status": "200",
}
RULES = [
    {"source": "/old/<*>", "target": "/docs/<*>", "status": "301"},
    SPA_RULE,
]
HEADERS = "customHeaders:\n  - pattern: '**/*'\n    headers:\n      - key: X-Frame-Options\n        value: DENY\n"


def credentials(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def app_id(admin_api: Any, make_repo: Callable[..., Path]) -> str:
    """An app whose main branch builds a small site (index.html, docs/index.html, app.css)."""
    return make_app(make_repo).app_id


def host(app_id: str, label: str = "main") -> str:
    return f"{label}.{app_id}.localhost:8000"


def test_custom_rules_and_headers_are_set_read_back_and_served_without_a_rebuild(admin_api: Any, app_id: str) -> None:
    app = App.objects.get(app_id=app_id)
    assert build(app).status == "SUCCEED"  # the site: index.html and docs/index.html

    response = admin_api.update_app(appId=app_id, customRules=RULES, customHeaders=HEADERS)
    assert_valid_output(admin_api, "UpdateApp", response)
    assert response["app"]["customRules"] == RULES
    assert response["app"]["customHeaders"] == HEADERS
    read = admin_api.get_app(appId=app_id)["app"]
    assert (read["customRules"], read["customHeaders"]) == (RULES, HEADERS)
    assert SiteSettings.objects.get(app=app).custom_rules == [{**rule, "condition": None} for rule in RULES]
    assert AuditEvent.objects.filter(action="hosting.rules.update", target=app_id).exists()

    client = Client()
    moved = client.get("/old/intro", HTTP_HOST=host(app_id))
    assert (moved.status_code, moved["Location"]) == (301, "/docs/intro")
    spa = client.get("/settings/profile", HTTP_HOST=host(app_id))  # no such file: the SPA rule serves the app
    assert spa.status_code == 200
    assert spa.content == client.get("/", HTTP_HOST=host(app_id)).content
    assert spa["X-Frame-Options"] == "DENY"

    admin_api.update_app(appId=app_id, customRules=[])
    assert client.get("/settings/profile", HTTP_HOST=host(app_id)).status_code == 404  # applies at once
    assert admin_api.get_app(appId=app_id)["app"]["customRules"] == []


def test_basic_auth_on_the_app_and_a_branch_override(admin_api: Any, app_id: str) -> None:
    app = App.objects.get(app_id=app_id)
    assert build(app).status == "SUCCEED"
    response = admin_api.update_app(appId=app_id, enableBasicAuth=True, basicAuthCredentials=credentials("team", "s3cret-pass"))
    assert_valid_output(admin_api, "UpdateApp", response)
    assert response["app"]["enableBasicAuth"] is True
    assert "basicAuthCredentials" not in response["app"]  # stored hashed: not given back
    row = BasicAuth.objects.get(app=app, branch=None)
    assert row.username == "team"
    assert "s3cret-pass" not in row.password_hash
    assert not AuditEvent.objects.filter(detail__icontains="s3cret-pass").exists()

    client = Client()
    asked = client.get("/", HTTP_HOST=host(app_id))
    assert asked.status_code == 401
    assert asked["WWW-Authenticate"].startswith("Basic realm=")
    wrong = client.get("/", HTTP_HOST=host(app_id), HTTP_AUTHORIZATION="Basic " + credentials("team", "wrong-pass"))
    assert wrong.status_code == 401
    right = client.get("/", HTTP_HOST=host(app_id), HTTP_AUTHORIZATION="Basic " + credentials("team", "s3cret-pass"))
    assert right.status_code == 200

    # A branch's own setting wins: main opened, the app stays protected elsewhere.
    branch = admin_api.update_branch(appId=app_id, branchName="main", enableBasicAuth=False)
    assert_valid_output(admin_api, "UpdateBranch", branch)
    assert branch["branch"]["enableBasicAuth"] is False
    assert client.get("/", HTTP_HOST=host(app_id)).status_code == 200
    assert admin_api.get_app(appId=app_id)["app"]["enableBasicAuth"] is True

    dev = admin_api.create_branch(
        appId=app_id, branchName="dev", enableBasicAuth=True, basicAuthCredentials=credentials("dev", "dev-password")
    )
    assert dev["branch"]["enableBasicAuth"] is True
    assert BasicAuth.objects.get(branch__name="dev").username == "dev"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"customRules": [{"source": "/<*>", "target": "https://evil.example/<*>", "status": "200"}]}, "customRules"),
        ({"customRules": [{"source": "/a", "target": "/b", "status": "307"}]}, "customRules"),
        ({"customHeaders": HEADERS.replace("X-Frame-Options", "Content-Length")}, "customHeaders"),
        ({"customHeaders": "customHeaders: [unclosed"}, "customHeaders"),
        ({"enableBasicAuth": True, "basicAuthCredentials": base64.b64encode(b"no-colon").decode()}, "colon"),
        ({"enableBasicAuth": True, "basicAuthCredentials": credentials("team", "short")}, "at least"),
        ({"enableBasicAuth": True, "basicAuthCredentials": "***not base64***"}, "base64"),
        ({"autoBranchCreationConfig": {"enableBasicAuth": True}}, "automatically created branches"),
    ],
)
def test_bad_hosting_settings_are_refused_and_nothing_is_written(
    admin_api: Any, app_id: str, params: dict[str, Any], message: str
) -> None:
    name = App.objects.get(app_id=app_id).name
    with pytest.raises(ClientError) as raised:
        admin_api.update_app(appId=app_id, name="Renamed", **params)
    assert error_code(raised) == ("BadRequestException", 400)
    assert message.lower() in str(raised.value).lower()
    app = App.objects.get(app_id=app_id)
    assert app.name == name
    assert not SiteSettings.objects.filter(app=app).exclude(custom_rules=[], custom_headers="").exists()
    assert not BasicAuth.objects.filter(app=app).exists()


def test_a_viewer_cannot_change_hosting_settings(viewer_api: Any, app_id: str) -> None:
    with pytest.raises(ClientError) as raised:
        viewer_api.update_app(appId=app_id, customRules=RULES)
    assert error_code(raised)[1] in (401, 403)
    assert not SiteSettings.objects.filter(app__app_id=app_id).exists()
