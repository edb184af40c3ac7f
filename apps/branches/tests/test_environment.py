"""Environment variables: app level, branch overrides, and the rules on names and values."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import App, EnvironmentVariable
from apps.branches.selectors import effective_environment
from apps.branches.services import branch_connect
from console.models import AuditEvent


def post(client: Client, app: App, name: str, value: str, branch: Any = "") -> Any:
    return client.post(f"/apps/{app.app_id}/environment/", {"name": name, "value": value, "branch": branch})


def test_admin_sets_an_app_variable_and_a_branch_override(admin_client: Client, app: App) -> None:
    dev = branch_connect(actor=None, app=app, name="dev")
    assert post(admin_client, app, "API_URL", "https://api.example.com").status_code == 302
    assert post(admin_client, app, "API_URL", "https://dev-api.example.com", branch=dev.pk).status_code == 302
    main = app.branches.get(name="main")
    assert [(v.name, v.value, v.source) for v in effective_environment(main)] == [("API_URL", "https://api.example.com", "app")]
    assert [(v.name, v.value, v.source) for v in effective_environment(dev)] == [
        ("API_URL", "https://dev-api.example.com", "branch")
    ]
    assert AuditEvent.objects.filter(action="envvar.create").count() == 2


def test_setting_an_existing_name_updates_it(admin_client: Client, app: App) -> None:
    post(admin_client, app, "MODE", "a")
    post(admin_client, app, "MODE", "b")
    assert list(EnvironmentVariable.objects.values_list("name", "value")) == [("MODE", "b")]
    assert AuditEvent.objects.filter(action="envvar.update").count() == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("AWS_REGION", "starts with AWS"),
        ("aws_thing", "starts with AWS"),
        ("1ABC", "is not a valid name"),
        ("WITH SPACE", "is not a valid name"),
        ("", "This field is required."),
    ],
)
def test_bad_names_are_refused_with_a_clear_message(admin_client: Client, app: App, name: str, message: str) -> None:
    response = post(admin_client, app, name, "v")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not EnvironmentVariable.objects.exists()


def test_values_over_5500_characters_are_refused(admin_client: Client, app: App) -> None:
    response = post(admin_client, app, "BIG", "x" * 5501)
    assert response.status_code == 400
    assert "The value is 5,501 characters long; the limit is 5,500." in response.content.decode()
    assert not EnvironmentVariable.objects.exists()
    assert post(admin_client, app, "BIG", "x" * 5500).status_code == 302


def test_a_branch_of_another_app_cannot_be_targeted(admin_client: Client, app: App, make_repo: Any) -> None:
    from apps.branches.services import app_create

    other = app_create(actor=None, name="Other", repository=str(make_repo(("main",))), production_branch="main")
    response = post(admin_client, app, "X", "1", branch=other.branches.get().pk)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not EnvironmentVariable.objects.exists()


def test_admin_removes_a_variable(admin_client: Client, app: App) -> None:
    post(admin_client, app, "MODE", "a")
    variable = EnvironmentVariable.objects.get()
    assert admin_client.post(f"/apps/{app.app_id}/environment/{variable.pk}/delete/").status_code == 302
    assert not EnvironmentVariable.objects.exists()
    assert AuditEvent.objects.filter(action="envvar.delete", target=f"{app.app_id}/*/MODE").exists()


def test_variables_of_another_app_cannot_be_removed_through_this_app(admin_client: Client, app: App, make_repo: Any) -> None:
    from apps.branches.services import app_create, env_var_set

    other = app_create(actor=None, name="Other", repository=str(make_repo(("main",))), production_branch="main")
    variable = env_var_set(actor=None, app=other, name="KEEP", value="1")
    assert admin_client.post(f"/apps/{app.app_id}/environment/{variable.pk}/delete/").status_code == 404
    assert EnvironmentVariable.objects.filter(pk=variable.pk).exists()


def test_environment_values_are_not_logged_in_the_audit_trail(admin_client: Client, app: App) -> None:
    post(admin_client, app, "TOKENISH", "very-private-value")
    assert "very-private-value" not in str(list(AuditEvent.objects.values()))


def page_form(client: Client, app: App, query: str = "") -> dict[str, str]:
    """The variable form's fields as the page renders them (the hidden `replaces` included)."""
    return page_form_from(client.get(f"/apps/{app.app_id}/environment/{query}").content.decode())


def test_editing_a_variable_over_a_newer_save_is_refused_with_theirs_and_saving_again_replaces_it(
    admin_client: Client, app: App
) -> None:
    post(admin_client, app, "MODE", "a")
    variable = EnvironmentVariable.objects.get(name="MODE")
    mine = page_form(admin_client, app, f"?edit={variable.pk}")
    assert (mine["name"], mine["value"]) == ("MODE", "a")
    theirs = page_form(admin_client, app, f"?edit={variable.pk}")
    assert admin_client.post(f"/apps/{app.app_id}/environment/", {**theirs, "value": "theirs", "branch": ""}).status_code == 302

    refused = admin_client.post(f"/apps/{app.app_id}/environment/", {**mine, "value": "mine", "branch": ""})
    assert refused.status_code == 409
    assert "MODE already has a value for all branches" in refused.content.decode()
    assert "&#x27;theirs&#x27;" in refused.content.decode()
    assert EnvironmentVariable.objects.get(name="MODE").value == "theirs"
    again = page_form_from(refused.content.decode())
    assert again["value"] == "mine", "the admin's value is kept in the form"
    assert admin_client.post(f"/apps/{app.app_id}/environment/", {**again, "branch": ""}).status_code == 302
    assert EnvironmentVariable.objects.get(name="MODE").value == "mine"


def page_form_from(page: str) -> dict[str, str]:
    form = page[page.index('id="variable-form"') :]
    replaces = re.search(r'name="replaces" value="([^"]*)"', form)
    name = re.search(r'name="name" value="([^"]*)"', form)
    value = re.search(r'<textarea name="value"[^>]*>\n?([^<]*)</textarea>', form)
    return {"replaces": replaces.group(1) if replaces else "", "name": name.group(1) if name else "",
            "value": value.group(1) if value else ""}  # fmt: skip


def test_adding_a_name_that_exists_asks_before_replacing_it(admin_client: Client, app: App) -> None:
    post(admin_client, app, "MODE", "a")
    new = page_form(admin_client, app)
    refused = admin_client.post(f"/apps/{app.app_id}/environment/", {**new, "name": "MODE", "value": "b", "branch": ""})
    assert refused.status_code == 409
    assert EnvironmentVariable.objects.get(name="MODE").value == "a"


def test_viewers_see_the_variables_without_edit_links_or_the_form(admin_client: Client, viewer_client: Client, app: App) -> None:
    post(admin_client, app, "MODE", "a")
    variable = EnvironmentVariable.objects.get(name="MODE")
    page = viewer_client.get(f"/apps/{app.app_id}/environment/?edit={variable.pk}").content.decode()
    assert "MODE" in page
    assert f"?edit={variable.pk}" not in page
    assert 'id="variable-form"' not in page
    refused = viewer_client.post(f"/apps/{app.app_id}/environment/", {"name": "MODE", "value": "b", "replaces": ""})
    assert refused.status_code == 403
    assert EnvironmentVariable.objects.get(name="MODE").value == "a"


def test_an_edit_link_to_a_variable_of_another_app_opens_an_empty_form(admin_client: Client, app: App, make_repo: Any) -> None:
    other = branch_services_app(make_repo)
    post(admin_client, other, "THEIRS", "x")
    foreign = EnvironmentVariable.objects.get(name="THEIRS")
    form = page_form(admin_client, app, f"?edit={foreign.pk}")
    assert form == {"replaces": "", "name": "", "value": ""}


def branch_services_app(make_repo: Any) -> App:
    from apps.branches.services import app_create

    return app_create(actor=None, name="Other", repository=str(make_repo(("main",))), production_branch="main")
