"""Saving a secret over one that changed since the form was opened, or that the admin did
not know was there, asks first: nothing is written, the versions (never the values) are
shown, and saving again replaces it knowingly."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from apps.branches import services as branch_services
from apps.branches.models import App
from apps.secrets import ssm
from apps.secrets.paths import branch_path, shared_path
from apps.secrets.scopes import Scope
from apps.secrets.services import secret_set

URL = "/apps/{}/secrets/set/"


@pytest.fixture
def app(db: None, make_repo: Callable[..., Path]) -> App:
    app = branch_services.app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    secret_set(actor=None, scope=Scope.branch(app.app_id, "main"), name="STRIPE_KEY", value="theirs-value-1")
    return app


def replaces_in(page: str) -> str:
    """The hidden field's value ("" when Django renders it without one)."""
    field = re.search(r'<input type="hidden" name="replaces"[^>]*>', page)
    assert field is not None
    value = re.search(r'value="([^"]*)"', field.group(0))
    return value.group(1).replace("&quot;", '"') if value else ""


def test_the_page_form_carries_what_the_admin_replaces(admin_client: Client, app: App) -> None:
    assert replaces_in(admin_client.get(f"/apps/{app.app_id}/secrets/").content.decode()) == ""


def test_setting_a_secret_that_is_there_already_asks_first_and_shows_no_value(admin_client: Client, app: App) -> None:
    path = branch_path(app.app_id, "main", "STRIPE_KEY")
    form = {"name": "STRIPE_KEY", "value": "mine-value-2", "scopes": ["main"], "replaces": ""}
    refused = admin_client.post(URL.format(app.app_id), form)
    page = refused.content.decode()
    assert refused.status_code == 409
    assert "STRIPE_KEY already has a value in branch main (version 1" in page
    assert "theirs-value-1" not in page
    assert "mine-value-2" not in page
    assert ssm.get_value(path) == "theirs-value-1", "nothing written"

    again = admin_client.post(URL.format(app.app_id), {**form, "replaces": replaces_in(page)})
    assert again.status_code == 302
    assert ssm.get_value(path) == "mine-value-2"
    assert ssm.version_of(path) is not None
    assert ssm.version_of(path).version == 2  # type: ignore[union-attr]


def test_a_scope_changed_since_the_form_was_opened_stops_every_scope(admin_client: Client, app: App) -> None:
    shared, main = shared_path(app.app_id, "STRIPE_KEY"), branch_path(app.app_id, "main", "STRIPE_KEY")
    seen = json.dumps({main: 1})  # the admin saw main at version 1 and no shared value
    secret_set(actor=None, scope=Scope.branch(app.app_id, "main"), name="STRIPE_KEY", value="newer-value-3")
    form = {"name": "STRIPE_KEY", "value": "mine-value-2", "scopes": ["__shared__", "main"], "replaces": seen}
    refused = admin_client.post(URL.format(app.app_id), form)
    assert refused.status_code == 409
    assert "branch main (version 2" in refused.content.decode()
    assert ssm.get_value(shared) is None, "the other scope was not written either"
    assert ssm.get_value(main) == "newer-value-3"


def test_a_post_without_the_field_saves_as_before(admin_client: Client, app: App) -> None:
    response = admin_client.post(URL.format(app.app_id), {"name": "STRIPE_KEY", "value": "blind-value", "scopes": ["main"]})
    assert response.status_code == 302
    assert ssm.get_value(branch_path(app.app_id, "main", "STRIPE_KEY")) == "blind-value"
