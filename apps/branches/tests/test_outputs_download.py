"""The captured amplify_outputs.json, as the build wrote it: the branch page links it, the
download gives it back without the console's own notes, and a preview sharing the backend
gets the same document."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from apps.branches.models import App, Branch
from apps.branches.outputs import FIELD_ORDER_KEY, outputs_as_written

FIELDS = {"id": {"name": "id"}, "content": {"name": "content"}, "done": {"name": "done"}}
OUTPUTS: dict[str, Any] = {
    "version": "1.4",
    "auth": {"user_pool_id": "us-east-1_abc", "aws_region": "us-east-1", "user_pool_client_id": "client"},
    "data": {
        "url": "https://api.example.test/graphql",
        "aws_region": "us-east-1",
        "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
        "authorization_types": ["AWS_IAM"],
        "model_introspection": {
            "version": 1,
            "models": {"Todo": {"name": "Todo", "fields": FIELDS}},
            "enums": {},
            "nonModels": {},
        },
    },
}


def captured(app: App) -> Branch:
    branch = app.branches.get(name="main")
    branch.backend_outputs = json.loads(json.dumps(OUTPUTS))
    branch.save(update_fields=["backend_outputs"])
    branch.refresh_from_db()
    return branch


def test_the_stored_copy_carries_a_field_order_note_the_written_one_does_not() -> None:
    stored = json.loads(json.dumps(OUTPUTS))
    stored["data"]["model_introspection"]["models"]["Todo"][FIELD_ORDER_KEY] = ["id", "content", "done"]
    # As jsonb may give it back: keys sorted.
    stored["data"]["model_introspection"]["models"]["Todo"]["fields"] = dict(sorted(FIELDS.items()))

    written = outputs_as_written(stored)

    assert written == OUTPUTS
    assert list(written["data"]["model_introspection"]["models"]["Todo"]["fields"]) == ["id", "content", "done"]
    assert FIELD_ORDER_KEY in stored["data"]["model_introspection"]["models"]["Todo"]  # a copy: the stored one is untouched
    assert outputs_as_written({"version": "1", "data": {"model_introspection": {"models": {"X": "junk"}}}})["version"] == "1"


def test_viewers_download_the_outputs_as_written(viewer_client: Client, app: App) -> None:
    branch = captured(app)
    assert FIELD_ORDER_KEY in branch.backend_outputs["data"]["model_introspection"]["models"]["Todo"]

    response = viewer_client.get(f"/apps/{app.app_id}/branches/main/amplify_outputs.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="amplify_outputs.json"'
    document = json.loads(response.content)
    assert document == OUTPUTS
    assert FIELD_ORDER_KEY not in response.content.decode()


def test_the_branch_page_links_the_download_or_says_there_is_none(viewer_client: Client, app: App) -> None:
    page = viewer_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert "None yet: the first build with a backend phase captures amplify_outputs.json." in page
    assert "amplify_outputs.json</a>" not in page

    captured(app)
    page = viewer_client.get(f"/apps/{app.app_id}/branches/main/").content.decode()
    assert f'href="/apps/{app.app_id}/branches/main/amplify_outputs.json"' in page
    assert "(version 1.4" in page


def test_no_outputs_yet_is_a_404_that_says_why(viewer_client: Client, app: App) -> None:
    response = viewer_client.get(f"/apps/{app.app_id}/branches/main/amplify_outputs.json")
    assert response.status_code == 404
    assert b"the branch's first build with a backend phase captures it" in response.content
