"""The Custom headers and Password protection pages: who sees them, who changes them,
what a refused change says, and that a password never reaches a page or the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.hosting.models import BasicAuth, Deployment, SiteSettings
from console.models import AuditEvent

PASSWORD = "open-sesame-42"
HEADERS = "customHeaders:\n  - pattern: '**/*'\n    headers:\n      - key: X-Frame-Options\n        value: DENY\n"


def headers_url(app: App) -> str:
    return f"/apps/{app.app_id}/hosting/headers/"


def access_url(app: App) -> str:
    return f"/apps/{app.app_id}/hosting/access/"


def saved_headers(app: App) -> str | None:
    return SiteSettings.objects.filter(app=app).values_list("custom_headers", flat=True).first()


@pytest.fixture
def dev(app: App) -> Branch:
    return Branch.objects.create(app=app, name="dev", display_name="dev")


def test_viewer_sees_the_saved_headers_without_a_save_button(viewer_client: Client, app: App) -> None:
    SiteSettings.objects.create(app=app, custom_headers=HEADERS)
    html = viewer_client.get(headers_url(app)).content.decode()
    assert "X-Frame-Options" in html
    assert "Save custom headers" not in html
    assert f'href="{headers_url(app)}" aria-current="page"' in html


def test_the_empty_state_shows_an_example(viewer_client: Client, app: App) -> None:
    html = viewer_client.get(headers_url(app)).content.decode()
    assert "No custom headers yet" in html
    assert "Strict-Transport-Security" in html


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_only_admins_save_headers(request: pytest.FixtureRequest, app: App, who: str) -> None:
    client = request.getfixturevalue(who)
    response = client.post(headers_url(app), {"custom_headers": HEADERS})
    assert response.status_code == 403
    assert saved_headers(app) is None
    assert not AuditEvent.objects.filter(action="hosting.custom_headers.update").exists()


def test_signed_out_visitors_are_sent_to_sign_in(outsider_client: Client, app: App) -> None:
    for url in (headers_url(app), access_url(app)):
        response = outsider_client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_admin_saves_headers_and_the_change_is_audited(admin_client: Client, app: App) -> None:
    response = admin_client.post(headers_url(app), {"custom_headers": HEADERS.replace("\n", "\r\n")})
    assert response.status_code == 302
    assert saved_headers(app) == HEADERS
    event = AuditEvent.objects.get(action="hosting.custom_headers.update")
    assert (event.actor_name, event.target, event.detail["rules"]) == ("ada", app.app_id, 1)


def test_bad_yaml_says_line_and_column_and_nothing_is_written(admin_client: Client, app: App) -> None:
    SiteSettings.objects.create(app=app, custom_headers=HEADERS)
    response = admin_client.post(headers_url(app), {"custom_headers": "customHeaders:\n  - pattern: '*\n"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 3, column 1: not valid YAML: found unexpected end of stream" in html
    assert "(while scanning a quoted scalar at line 2, column 14)" in html
    assert "pattern: &#x27;*" in html  # what was typed stays in the editor
    assert saved_headers(app) == HEADERS
    assert not AuditEvent.objects.filter(action="hosting.custom_headers.update").exists()


def test_a_forbidden_header_is_refused_with_its_reason(admin_client: Client, app: App) -> None:
    text = HEADERS.replace("X-Frame-Options", "Set-Cookie")
    response = admin_client.post(headers_url(app), {"custom_headers": text})
    assert response.status_code == 400
    assert "line 4, customHeaders[0].headers[0].key: Set-Cookie cannot be set" in response.content.decode()
    assert saved_headers(app) is None


def test_the_page_names_branches_whose_live_customhttp_wins(viewer_client: Client, app: App, dev: Branch) -> None:
    job = Job.objects.create(branch=dev, job_id=1, job_type=Job.Type.MANUAL, status=Job.Status.SUCCEED)
    dev.live_deployment = Deployment.objects.create(branch=dev, job=job, custom_headers=HEADERS)
    dev.save(update_fields=["live_deployment"])
    main = app.branches.get(name="main")
    html = viewer_client.get(headers_url(app)).content.decode()
    note = html[html.index('class="message warning"') :].split("</div>", 1)[0]
    assert "customHttp.yml</code> wins over this setting" in note
    assert f'href="{reverse("branch_detail", args=[app.app_id, dev.display_name])}">dev</a>' in note
    assert f">{main.name}<" not in note


def test_viewer_sees_the_protection_state_but_never_the_hash(viewer_client: Client, app: App, dev: Branch) -> None:
    hashed = make_password(PASSWORD)
    BasicAuth.objects.create(app=app, enabled=True, username="ada", password_hash=hashed)
    BasicAuth.objects.create(app=app, branch=dev, enabled=False)
    html = viewer_client.get(access_url(app)).content.decode()
    assert "<code>ada</code>" in html
    assert hashed not in html
    assert hashed.split("$")[-1] not in html
    assert "uses the app's setting" in html  # main follows the app
    assert "Save dev" not in html
    assert 'type="submit" class="primary">Save<' not in html


def app_form(**fields: str) -> dict[str, str]:
    return {"scope": "app", **{f"app-{k}": v for k, v in fields.items()}}


def branch_form(branch: Branch, **fields: str) -> dict[str, str]:
    return {"scope": f"branch-{branch.pk}", **{f"branch-{branch.pk}-{k}": v for k, v in fields.items()}}


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_only_admins_change_protection(request: pytest.FixtureRequest, app: App, who: str) -> None:
    client = request.getfixturevalue(who)
    response = client.post(access_url(app), app_form(enabled="on", username="ada", password=PASSWORD))
    assert response.status_code == 403
    assert not BasicAuth.objects.exists()


def test_admin_turns_on_app_protection_and_the_password_goes_nowhere(admin_client: Client, app: App) -> None:
    response = admin_client.post(access_url(app), app_form(enabled="on", username="ada", password=PASSWORD))
    assert response.status_code == 302
    row = BasicAuth.objects.get(app=app, branch=None)
    assert row.enabled
    assert row.username == "ada"
    assert row.password_hash != PASSWORD
    event = AuditEvent.objects.get(action="hosting.basic_auth.update")
    trail = json.dumps([event.message, event.detail, event.target])
    assert PASSWORD not in trail
    assert row.password_hash not in trail
    page = admin_client.get(access_url(app)).content.decode()
    assert PASSWORD not in page
    assert row.password_hash not in page


def test_an_empty_password_keeps_the_stored_one(admin_client: Client, app: App) -> None:
    admin_client.post(access_url(app), app_form(enabled="on", username="ada", password=PASSWORD))
    before = BasicAuth.objects.get(app=app).password_hash
    response = admin_client.post(access_url(app), app_form(enabled="on", username="bob", password=""))
    assert response.status_code == 302
    row = BasicAuth.objects.get(app=app)
    assert (row.username, row.password_hash) == ("bob", before)


def test_turning_on_without_a_password_is_refused_and_nothing_is_written(admin_client: Client, app: App) -> None:
    response = admin_client.post(access_url(app), app_form(enabled="on", username="ada"))
    assert response.status_code == 400
    assert "Set a password to turn password protection on." in response.content.decode()
    assert not BasicAuth.objects.exists()
    assert not AuditEvent.objects.filter(action="hosting.basic_auth.update").exists()


def test_a_refused_password_is_not_echoed_back(admin_client: Client, app: App) -> None:
    response = admin_client.post(access_url(app), app_form(enabled="on", username="ada", password="tiny-pw"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "at least 8 characters" in html
    assert "tiny-pw" not in html
    assert not BasicAuth.objects.exists()


def test_admin_gives_a_branch_its_own_credentials_then_turns_it_off_then_back_to_the_app(
    admin_client: Client, app: App, dev: Branch
) -> None:
    response = admin_client.post(access_url(app), branch_form(dev, mode="on", username="bob", password=PASSWORD))
    assert response.status_code == 302
    own = BasicAuth.objects.get(branch=dev)
    assert own.enabled
    assert own.username == "bob"
    assert admin_client.post(access_url(app), branch_form(dev, mode="off")).status_code == 302
    own.refresh_from_db()
    assert not own.enabled
    assert own.password_hash
    assert admin_client.post(access_url(app), branch_form(dev, mode="app")).status_code == 302
    assert not BasicAuth.objects.filter(branch=dev).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="hosting.basic_auth").order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["hosting.basic_auth.update", "hosting.basic_auth.update", "hosting.basic_auth.clear"]


def test_a_refused_branch_form_opens_with_its_error(admin_client: Client, app: App, dev: Branch) -> None:
    response = admin_client.post(access_url(app), branch_form(dev, mode="on", username="bob"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "<details open>" in html
    assert "Set a password" in html
    assert not BasicAuth.objects.exists()


@pytest.mark.parametrize("scope", ["", "branch-", "branch-x", "branch-999999", "elsewhere"])
def test_an_unknown_scope_is_404(admin_client: Client, app: App, scope: str) -> None:
    response = admin_client.post(access_url(app), {"scope": scope})
    assert response.status_code == 404
    assert not BasicAuth.objects.exists()


def test_a_branch_of_another_app_is_404(admin_client: Client, app: App) -> None:
    other = App.objects.create(name="Other", repository=app.repository)
    stranger = Branch.objects.create(app=other, name="dev", display_name="dev")
    response = admin_client.post(access_url(app), branch_form(stranger, mode="off"))
    assert response.status_code == 404
    assert not BasicAuth.objects.exists()


def test_the_sidebar_links_both_pages(viewer_client: Client, app: App) -> None:
    html = viewer_client.get(access_url(app)).content.decode()
    assert f'href="{headers_url(app)}"' in html
    assert ">Custom headers</a>" in html
    assert f'href="{access_url(app)}" aria-current="page">Password protection</a>' in html


def test_posts_without_a_csrf_token_are_refused(admin_user: Any, app: App) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(headers_url(app), {"custom_headers": HEADERS}).status_code == 403
    assert client.post(access_url(app), app_form(enabled="on", username="ada", password=PASSWORD)).status_code == 403
    assert saved_headers(app) is None
    assert not BasicAuth.objects.exists()


def test_a_refused_post_is_audited_as_denied(viewer_client: Client, app: App) -> None:
    viewer_client.post(access_url(app), app_form(enabled="on", username="ada", password=PASSWORD))
    denied = AuditEvent.objects.get(outcome="denied")
    assert denied.target == access_url(app)
    assert PASSWORD not in json.dumps([denied.message, denied.detail])
