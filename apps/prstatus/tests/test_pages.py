"""The Pull request status page: admins set it up, replace the token or stop reporting;
others see whether it is set up, never the token; bad input is refused saying why, and
nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.branches.models import App
from apps.prstatus.models import Call, PullRequest, Reporting
from apps.prstatus.services import reporting_save, token_of
from console.models import AuditEvent

TOKEN = "ghp_pageToken0123456789abcdefghijklmnop"
PUBLIC_API = "https://140.82.112.6/api/v3"  # an address literal: public, and no DNS needed


def url(app: App, tail: str = "") -> str:
    return f"/apps/{app.app_id}/pull-request-status/{tail}"


@pytest.fixture
def private_refused(settings: Any) -> None:
    settings.PR_STATUS_ALLOW_PRIVATE_HOSTS = False


def test_a_viewer_sees_whether_it_is_set_up_but_not_the_token_nor_the_form(app: App, viewer_client: Client) -> None:
    page = viewer_client.get(url(app)).content.decode()
    assert "Not set up" in page
    assert "Admins set this up." in page
    reporting_save(actor=None, app=app, provider="github", api_url=PUBLIC_API, repository="octo-org/shop", token=TOKEN)
    page = viewer_client.get(url(app)).content.decode()
    assert "octo-org/shop" in page
    assert "saved (encrypted; never shown)" in page
    assert TOKEN not in page
    assert 'name="token"' not in page
    previews = viewer_client.get(f"/apps/{app.app_id}/previews/").content.decode()
    assert "reported to GitHub (<code>octo-org/shop</code>)" in previews


@pytest.mark.usefixtures("private_refused")
def test_an_admin_sets_it_up_and_the_token_is_sealed_never_shown_nor_audited(app: App, admin_client: Client) -> None:
    response = admin_client.post(
        url(app), {"provider": "gitlab", "api_url": "", "repository": "", "token": TOKEN}
    )  # the repository is required
    assert response.status_code == 400
    response = admin_client.post(
        url(app), {"provider": "github", "api_url": PUBLIC_API + "/", "repository": " octo-org/shop ", "token": TOKEN}
    )
    assert response.status_code == 302
    reporting = Reporting.objects.get(app=app)
    assert (reporting.provider, reporting.api_url, reporting.repository) == ("github", PUBLIC_API, "octo-org/shop")
    assert TOKEN not in reporting.token_sealed
    assert token_of(reporting) == TOKEN
    page = admin_client.get(url(app)).content.decode()
    assert TOKEN not in page
    assert 'value="octo-org/shop"' in page
    event = AuditEvent.objects.get(action="prstatus.save")
    assert event.detail["access"] == "replaced"  # whether the token changed, never the token
    assert TOKEN not in str(list(AuditEvent.objects.values()))


@pytest.mark.usefixtures("private_refused")
def test_the_default_api_is_used_when_left_empty(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    import ipaddress

    monkeypatch.setattr("console.outbound.resolve", lambda host, port: [ipaddress.ip_address("140.82.112.6")])
    reporting = reporting_save(actor=None, app=app, provider="gitlab", api_url=" ", repository="group/shop", token=TOKEN)
    assert reporting.api_url == "https://gitlab.com/api/v4"


def test_an_empty_token_keeps_the_saved_one_and_a_new_one_replaces_it(app: App, admin_client: Client) -> None:
    reporting_save(actor=None, app=app, provider="github", api_url=PUBLIC_API, repository="octo-org/shop", token=TOKEN)
    form = {"provider": "github", "api_url": PUBLIC_API, "repository": "octo-org/shop"}
    assert admin_client.post(url(app), form | {"token": ""}).status_code == 302
    assert token_of(Reporting.objects.get(app=app)) == TOKEN
    assert admin_client.post(url(app), form | {"token": "ghp_replacement"}).status_code == 302
    assert token_of(Reporting.objects.get(app=app)) == "ghp_replacement"
    assert AuditEvent.objects.filter(action="prstatus.save").count() == 3


def test_moving_to_another_repository_forgets_the_comments(app: App) -> None:
    reporting_save(actor=None, app=app, provider="github", api_url=PUBLIC_API, repository="octo-org/shop", token=TOKEN)
    PullRequest.objects.create(app=app, number=3, comment_id="55")
    reporting_save(actor=None, app=app, provider="github", api_url=PUBLIC_API, repository="octo-org/shop", token="")
    assert PullRequest.objects.filter(app=app).exists()  # the same repository: kept
    reporting_save(actor=None, app=app, provider="github", api_url=PUBLIC_API, repository="octo-org/other", token="")
    assert not PullRequest.objects.filter(app=app).exists()


@pytest.mark.usefixtures("private_refused")
@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"provider": "github", "repository": "just-a-name"}, "owner/name"),
        ({"provider": "github", "repository": "octo/shop/extra"}, "owner/name"),
        ({"provider": "gitlab", "repository": "no-group"}, "group/project"),
        ({"provider": "gitlab", "repository": "group/../etc"}, "group/project"),
        ({"provider": "github", "api_url": "ftp://140.82.112.6/"}, "http:// or https://"),
        ({"provider": "github", "api_url": "not a url"}, "http:// or https://"),
        ({"provider": "github", "api_url": "https://user:pw@140.82.112.6/"}, "no user name or password"),
        ({"provider": "github", "api_url": "https://140.82.112.6/?x=1"}, "no query"),
        ({"provider": "github", "api_url": "http://127.0.0.1:9/"}, "a loopback address"),
        ({"provider": "gitlab", "api_url": "https://10.0.0.5/api/v4"}, "a private address"),
        ({"provider": "github", "api_url": "http://140.82.112.6/"}, "Use https://"),
        ({"provider": "bitbucket"}, "Select a valid choice"),
        ({"provider": "github", "token": "two words"}, "no spaces"),
    ],
)
def test_bad_input_is_refused_saying_why_and_nothing_is_saved(
    app: App, admin_client: Client, form: dict[str, str], message: str
) -> None:
    data = {"api_url": PUBLIC_API, "repository": "octo-org/shop", "token": TOKEN} | form
    response = admin_client.post(url(app), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Reporting.objects.exists()
    assert not AuditEvent.objects.filter(action="prstatus.save").exists()
    assert TOKEN not in response.content.decode()


def test_the_first_save_needs_a_token(app: App, admin_client: Client) -> None:
    response = admin_client.post(url(app), {"provider": "github", "api_url": PUBLIC_API, "repository": "o/r", "token": ""})
    assert response.status_code == 400
    assert "Enter an API token" in response.content.decode()
    assert not Reporting.objects.exists()


def test_stopping_needs_the_repository_typed_and_forgets_the_token(app: App, admin_client: Client) -> None:
    reporting_save(actor=None, app=app, provider="github", api_url=PUBLIC_API, repository="octo-org/shop", token=TOKEN)
    PullRequest.objects.create(app=app, number=3, comment_id="55")
    Call.objects.create(
        app=app, number=3, action="status", method="POST", path="/repos/octo-org/shop/statuses/a", response_code=201
    )
    response = admin_client.post(url(app, "remove/"), {"confirm": "octo-org/other"})
    assert response.status_code == 400
    assert "Type octo-org/shop exactly" in response.content.decode()
    assert Reporting.objects.exists()
    assert admin_client.post(url(app, "remove/"), {"confirm": "octo-org/shop"}).status_code == 302
    assert not Reporting.objects.exists()
    assert not PullRequest.objects.exists()
    assert Call.objects.count() == 1  # the history of calls stays
    assert AuditEvent.objects.filter(action="prstatus.remove", outcome="success").exists()
