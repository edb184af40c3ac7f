"""The Groups tab against moto: create (checked first), list and page, members (paged),
add several at once (all or nothing), remove several, delete after typing Delete."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.users import cognito
from apps.users.tests.conftest import add_user, all_users, group_names, members, pool_state, url
from console.aws_errors import AwsError
from console.models import AuditEvent


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def follow(client: Client, response: Any, rel: str) -> Any:
    link = re.search(rf'href="(\?[^"]+)" rel="{rel}"', response.content.decode())
    assert link, f"no {rel} link"
    return client.get(response.request["PATH_INFO"] + html.unescape(link[1]))


@pytest.fixture
def people(pool_id: str, idp: Any) -> dict[str, str]:
    """Three users: by email, by phone number and by username (the generated one)."""
    return {
        "ana": add_user(idp, pool_id, "ana@example.com"),
        "ben": add_user(idp, pool_id, "ben@example.com", phone_number="+14155550101"),
        "cy": add_user(idp, pool_id, "cy@example.com"),
    }


def test_admin_creates_a_group(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    form = {"name": "Editors", "description": "Write todos", "precedence": "10"}
    response = admin_client.post(url("users_group_create", branch), form, follow=True)
    assert "Group Editors created. Add its members below." in text(response)
    assert "No members yet" in text(response)
    group = idp.get_group(UserPoolId=pool_id, GroupName="Editors")["Group"]
    assert (group["Description"], group["Precedence"]) == ("Write todos", 10)
    assert AuditEvent.objects.get(action="users.group_create").detail["group"] == "Editors"
    listed = text(admin_client.get(url("users_groups", branch)))
    assert "Editors" in listed
    assert "Write todos" in listed


@pytest.mark.parametrize(
    ("form", "error_id", "message"),
    [
        ({"name": "Power users"}, "id_name_error", "no spaces"),
        ({"name": ""}, "id_name_error", "This field is required."),
        ({"name": "Ops", "precedence": "-1"}, "id_precedence_error", "whole number from 0"),
        ({"name": "Ops", "precedence": "high"}, "id_precedence_error", "whole number from 0"),
        ({"name": "Editors"}, "id_name_error", "A group with that name already exists in this user pool."),
    ],
)
def test_bad_groups_are_refused_by_their_field(
    form: dict[str, str], error_id: str, message: str, admin_client: Client, branch: Branch, pool_id: str, idp: Any
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    response = admin_client.post(url("users_group_create", branch), form)
    assert response.status_code == 200
    assert re.search(rf'id="{error_id}">.*{re.escape(message)}', text(response))
    assert f'value="{html.escape(form["name"])}"' in response.content.decode() or not form["name"]
    assert group_names(idp, pool_id) == ["Editors"]


def test_groups_page_forward_and_back(viewer_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    for number in range(25):
        idp.create_group(UserPoolId=pool_id, GroupName=f"group-{number:02d}")
    first = viewer_client.get(url("users_groups", branch, size="10"))
    second = follow(viewer_client, first, "next")
    third = follow(viewer_client, second, "next")
    assert 'rel="next"' not in third.content.decode()
    back = follow(viewer_client, third, "prev")

    def names(response: Any) -> list[str]:
        return re.findall(r">(group-\d\d)</a>", response.content.decode())

    assert [len(names(r)) for r in (first, second, third)] == [10, 10, 5]
    assert names(back) == names(second)
    assert sorted(names(first) + names(second) + names(third)) == [f"group-{n:02d}" for n in range(25)]


def test_empty_states_say_what_to_do(admin_client: Client, viewer_client: Client, branch: Branch, idp: Any, pool_id: str) -> None:
    assert "Create one below, then add people to it." in text(admin_client.get(url("users_groups", branch)))
    assert "when an admin creates them" in text(viewer_client.get(url("users_groups", branch)))
    assert "Create the first user" in text(admin_client.get(url("users_list", branch)))
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    group_page = text(admin_client.get(url("users_group_detail", branch, group="Editors")))
    assert "Add people below by their email address, phone number or username." in group_page


def test_admin_adds_several_people_at_once(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, people: dict[str, str]
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    # Blank lines and spaces around are ignored; a person named twice (email and username) is added once.
    lines = f"ana@example.com\n  +14155550101 \ncy@example.com\n\n{people['ana']}\nana@example.com\n"
    response = admin_client.post(url("users_group_add", branch), {"group": "Editors", "members": lines}, follow=True)
    assert "Added 3 people to Editors." in text(response)
    assert members(idp, pool_id, "Editors") == ["ana@example.com", "ben@example.com", "cy@example.com"]
    again = admin_client.post(url("users_group_add", branch), {"group": "Editors", "members": "ana@example.com"}, follow=True)
    assert "Added 0 people to Editors. 1 was a member already." in text(again)
    events = AuditEvent.objects.filter(action="users.group_members_add").order_by("pk")
    assert sorted(events[0].detail["added"]) == sorted(people.values())


def test_nobody_is_added_when_a_line_names_nobody(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, people: dict[str, str]
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    before = pool_state(idp, pool_id)
    lines = "ana@example.com\nnobody@example.com\n+14155550199\n+1 555\nghost-user"
    response = admin_client.post(url("users_group_add", branch), {"group": "Editors", "members": lines})
    assert response.status_code == 200
    page = text(response)
    assert re.search(r'id="id_members_error">.*Nobody was added: no user has', page)
    for line in ("'nobody@example.com'", "'+14155550199'", "'ghost-user'", "'+1 555' is not valid"):
        assert line in page
    assert "ana@example.com\nnobody@example.com" in page  # the textarea keeps what was typed
    assert pool_state(idp, pool_id) == before


def test_an_email_shared_by_two_users_is_ambiguous(admin_client: Client, app_branch: Branch, idp: Any) -> None:
    from apps.users.tests.conftest import make_pool, with_pool

    pool_id = make_pool(idp, [])  # usernames: the email is only an attribute, it may repeat
    branch = with_pool(app_branch, pool_id, [])
    for name in ("ana1", "ana2"):
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=name,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": "ana@example.com"}],
        )
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    response = admin_client.post(url("users_group_add", branch), {"group": "Editors", "members": "ana@example.com"})
    assert "more than one user has 'ana@example.com' (use the username)" in text(response)
    admin_client.post(url("users_group_add", branch), {"group": "Editors", "members": "ana2"})
    assert members(idp, pool_id, "Editors") == ["ana@example.com"]


def test_a_failed_add_takes_back_the_ones_added(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, people: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    real_add = cognito.add_to_group

    def add_but_not_cy(pool: Any, username: str, group: str) -> None:
        if username == people["cy"]:
            raise AwsError("Cognito is receiving too many requests; try again in a moment.", code="TooManyRequestsException")
        real_add(pool, username, group)

    monkeypatch.setattr(cognito, "add_to_group", add_but_not_cy)
    lines = "ana@example.com\nben@example.com\ncy@example.com"
    response = admin_client.post(url("users_group_add", branch), {"group": "Editors", "members": lines})
    assert "Nobody was added: adding cy@example.com failed (Cognito is receiving too many requests" in text(response)
    assert members(idp, pool_id, "Editors") == []


def test_admin_removes_several_members(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, people: dict[str, str]
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    for username in people.values():
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="Editors")
    form = {"group": "Editors", "usernames": [people["ana"], people["cy"]]}
    response = admin_client.post(url("users_group_remove", branch), form, follow=True)
    assert "Removed 2 members from Editors." in text(response)
    assert members(idp, pool_id, "Editors") == ["ben@example.com"]
    assert len(all_users(idp, pool_id)) == 3  # they stay in the pool
    nothing = admin_client.post(url("users_group_remove", branch), {"group": "Editors"}, follow=True)
    assert "Select the members to remove first." in text(nothing)


def test_a_failed_removal_puts_back_the_ones_removed(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, people: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    for username in people.values():
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="Editors")
    real_remove = cognito.remove_from_group

    def remove_but_not_cy(pool: Any, username: str, group: str) -> None:
        if username == people["cy"]:
            raise AwsError("A Cognito limit was reached.", code="LimitExceededException")
        real_remove(pool, username, group)

    monkeypatch.setattr(cognito, "remove_from_group", remove_but_not_cy)
    form = {"group": "Editors", "usernames": [people["ana"], people["cy"]]}
    response = admin_client.post(url("users_group_remove", branch), form, follow=True)
    assert "Nobody was removed" in text(response)
    assert members(idp, pool_id, "Editors") == ["ana@example.com", "ben@example.com", "cy@example.com"]


def test_members_page_forward_and_back(viewer_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Big")
    for number in range(15):
        username = add_user(idp, pool_id, f"m{number:02d}@example.com")
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="Big")
    first = viewer_client.get(url("users_group_detail", branch, group="Big", size="10"))
    second = follow(viewer_client, first, "next")
    back = follow(viewer_client, second, "prev")

    def listed(response: Any) -> list[str]:
        return re.findall(r">(m\d\d@example\.com)</a>", response.content.decode())

    assert (len(listed(first)), len(listed(second))) == (10, 5)
    assert listed(back) == listed(first)
    assert 'rel="next"' not in second.content.decode()


def test_delete_a_group_after_typing_delete(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, people: dict[str, str]
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=people["ana"], GroupName="Editors")
    for typed in ("", "delete", "Editors", "DELETE"):
        response = admin_client.post(url("users_group_delete", branch), {"group": "Editors", "confirm": typed})
        assert response.status_code == 200
        assert re.search(r'id="id_confirm_error">', response.content.decode())
        assert group_names(idp, pool_id) == ["Editors"]
    response = admin_client.post(url("users_group_delete", branch), {"group": "Editors", "confirm": "Delete"}, follow=True)
    assert "Group Editors deleted; its members stay in the user pool." in text(response)
    assert group_names(idp, pool_id) == []
    assert len(all_users(idp, pool_id)) == 3
    assert AuditEvent.objects.filter(action="users.group_delete").count() == 1


def test_a_missing_group_sends_back_to_the_groups(admin_client: Client, branch: Branch) -> None:
    response = admin_client.get(url("users_group_detail", branch, group="Nope"), follow=True)
    assert "There is no such group in this user pool (any more)." in text(response)
    gone = admin_client.post(url("users_group_add", branch), {"group": "Nope", "members": "a@example.com"}, follow=True)
    assert "There is no such group" in text(gone)
