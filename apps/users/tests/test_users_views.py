"""The Users tab against moto: list and page, search (never wider than typed), create by
the pool's sign-in rules, edit attributes, passwords, disable and enable, delete.
Bad input gets a message by its field and writes nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import Branch
from apps.users import cognito
from apps.users.tests.conftest import (
    STRONG,
    CognitoCalls,
    add_user,
    all_users,
    attrs,
    make_pool,
    members,
    pool_state,
    url,
    with_pool,
)
from console.aws_errors import AwsError
from console.models import AuditEvent


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def emails_listed(response: Any) -> list[str]:
    return re.findall(r'<a href="[^"]*/users/user/\?username=[^"]*">([^<]*@example\.com)</a>', response.content.decode())


def test_a_branch_without_auth_says_what_to_do(admin_client: Client, app_branch: Branch, idp: Any) -> None:
    page = text(admin_client.get(url("users_list", app_branch)))
    assert "This branch has no user pool" in page
    assert "build it once" in page
    app_branch.backend_outputs = {"version": "1.4", "storage": {"aws_region": "us-east-1", "bucket_name": "b"}}
    app_branch.save()
    page = admin_client.get(url("users_groups", app_branch)).content.decode()
    assert "has no <code>auth</code> section" in page
    response = admin_client.post(url("users_group_create", app_branch), {"name": "X"}, follow=True)
    assert "main has no user pool: nothing was changed." in text(response)


def test_the_branch_page_links_to_authentication(viewer_client: Client, branch: Branch) -> None:
    page = viewer_client.get(f"/apps/{branch.app.app_id}/branches/main/").content.decode()
    assert f'href="{url("users_list", branch)}"' in page


def test_the_list_pages_forward_and_back(viewer_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    for number in range(25):
        add_user(idp, pool_id, f"user{number:02d}@example.com")
    first = viewer_client.get(url("users_list", branch, size="10"))
    assert len(emails_listed(first)) == 10
    next_link = re.search(r'href="\?([^"]+)" rel="next"', first.content.decode())
    assert next_link
    assert 'rel="prev"' not in first.content.decode()
    second = viewer_client.get(url("users_list", branch) + "?" + html.unescape(next_link[1]))
    assert "Page 2" in text(second)
    third_link = re.search(r'href="\?([^"]+)" rel="next"', second.content.decode())
    assert third_link
    third = viewer_client.get(url("users_list", branch) + "?" + html.unescape(third_link[1]))
    assert len(emails_listed(third)) == 5
    assert 'rel="next"' not in third.content.decode()
    back_link = re.search(r'href="\?([^"]+)" rel="prev"', third.content.decode())
    assert back_link
    back = viewer_client.get(url("users_list", branch) + "?" + html.unescape(back_link[1]))
    assert emails_listed(back) == emails_listed(second)
    seen = emails_listed(first) + emails_listed(second) + emails_listed(third)
    assert sorted(seen) == [f"user{n:02d}@example.com" for n in range(25)]


def test_a_forged_page_link_shows_the_first_page(viewer_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    add_user(idp, pool_id, "only@example.com")
    page = text(viewer_client.get(url("users_list", branch, at="forged")))
    assert "That page link is damaged; showing the first page." in page
    assert "only@example.com" in page


def test_search_by_email_and_phone_number(viewer_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    add_user(idp, pool_id, "ana@example.com", phone_number="+14155550100")
    add_user(idp, pool_id, "anabel@example.com")
    add_user(idp, pool_id, "bob@example.com", phone_number="+447911123456")
    by_email = viewer_client.get(url("users_list", branch, field="email", q="ana"))
    assert sorted(emails_listed(by_email)) == ["ana@example.com", "anabel@example.com"]
    by_phone = viewer_client.get(url("users_list", branch, field="phone_number", q="+44"))
    assert emails_listed(by_phone) == ["bob@example.com"]
    nobody = text(viewer_client.get(url("users_list", branch, field="email", q="zed")))
    assert "No user's email starts with “zed”" in nobody


def test_search_by_username(viewer_client: Client, app_branch: Branch, idp: Any) -> None:
    pool_id = make_pool(idp, [])
    branch = with_pool(app_branch, pool_id, [])
    for name in ("ana.lima", "anton", "bob"):
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=name,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
        )
    listed = emails_listed(viewer_client.get(url("users_list", branch, field="username", q="an")))
    assert sorted(listed) == ["ana.lima@example.com", "anton@example.com"]


@pytest.mark.parametrize("injection", ['a" or email ^= "', 'x" or username ^= "', '\\" or email ^= \\"', '" = ""'])
def test_filter_injection_is_searched_literally_and_never_widens(
    injection: str, viewer_client: Client, branch: Branch, pool_id: str, idp: Any, calls: CognitoCalls
) -> None:
    add_user(idp, pool_id, "alice@example.com")
    add_user(idp, pool_id, "xavier@example.com")
    page = viewer_client.get(url("users_list", branch, field="email", q=injection))
    assert emails_listed(page) == []
    assert "No user's email starts with" in text(page)
    # What Cognito was sent is one comparison whose value is the text exactly as typed.
    [sent] = calls.filters()
    escaped = injection.replace("\\", "\\\\").replace('"', '\\"')
    assert sent == f'email ^= "{escaped}"'


def test_a_search_with_control_characters_is_refused_without_listing(
    viewer_client: Client, branch: Branch, pool_id: str, idp: Any, calls: CognitoCalls
) -> None:
    add_user(idp, pool_id, "alice@example.com")
    page = viewer_client.get(url("users_list", branch, field="email", q="a\nb"))
    assert "A search may not hold control characters or line breaks." in text(page)
    assert "Nothing searched" in text(page)
    assert emails_listed(page) == []
    assert "ListUsers" not in calls.names()


def test_a_phone_search_must_look_like_a_phone_number(viewer_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    add_user(idp, pool_id, "alice@example.com", phone_number="+14155550100")
    page = viewer_client.get(url("users_list", branch, field="phone_number", q='+1" or email ^= "'))
    assert "Search phone numbers by their start in E.164 form" in text(page)
    assert emails_listed(page) == []


def test_the_create_form_shows_the_pools_password_policy(admin_client: Client, app_branch: Branch, idp: Any) -> None:
    policy = {
        "MinimumLength": 12,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": False,
        "RequireSymbols": False,
    }
    # The outputs say 8 characters and digits: DescribeUserPool's policy is the one shown.
    branch = with_pool(app_branch, make_pool(idp, ["email"], policy), ["email"])
    page = text(admin_client.get(url("users_create", branch)))
    assert "at least 12 characters" in page
    assert "a digit (0-9)" not in page
    assert 'name="username"' not in page  # an email pool has no usernames to choose


def test_admin_creates_a_user_in_an_email_pool(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    response = admin_client.post(
        url("users_create", branch),
        {"email": "new@example.com", "phone": "+14155550123", "temporary_password": STRONG, "verified": "on"},
        follow=True,
    )
    assert "User new@example.com created." in text(response)
    [user] = all_users(idp, pool_id)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert attrs(user)["email"] == "new@example.com"
    assert attrs(user)["email_verified"] == "true"
    assert attrs(user)["phone_number"] == "+14155550123"
    event = AuditEvent.objects.get(action="users.user_create")
    assert event.detail["sign_in"] == "new@example.com"
    assert event.actor_name == "ada"
    assert STRONG not in str(event.detail) + event.message


def test_admin_creates_a_user_in_a_username_pool(admin_client: Client, app_branch: Branch, idp: Any) -> None:
    pool_id = make_pool(idp, [])
    branch = with_pool(app_branch, pool_id, [])
    page = text(admin_client.get(url("users_create", branch)))
    assert 'name="username"' in page
    response = admin_client.post(
        url("users_create", branch), {"username": "ana.lima", "email": "ana@example.com", "temporary_password": STRONG}
    )
    assert response.status_code == 302
    user = idp.admin_get_user(UserPoolId=pool_id, Username="ana.lima")
    assert attrs(user)["email_verified"] == "false"  # the box was left unticked


def test_a_phone_pool_needs_a_well_formed_phone_number(admin_client: Client, app_branch: Branch, idp: Any) -> None:
    pool_id = make_pool(idp, ["phone_number"])
    branch = with_pool(app_branch, pool_id, ["phone_number"])
    for phone, problem in (("", "This field is required."), ("555-0123", "E.164 form"), ("+1 415 555 0123", "E.164 form")):
        response = admin_client.post(url("users_create", branch), {"phone": phone, "temporary_password": STRONG})
        assert response.status_code == 200
        assert problem in text(response)
        assert f'value="{phone}"' in response.content.decode() or not phone  # the input is kept
    assert all_users(idp, pool_id) == []
    admin_client.post(url("users_create", branch), {"phone": "+14155550123", "temporary_password": STRONG})
    assert [attrs(u)["phone_number"] for u in all_users(idp, pool_id)] == ["+14155550123"]


def test_a_duplicate_user_is_refused_by_its_field(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    add_user(idp, pool_id, "taken@example.com")
    before = pool_state(idp, pool_id)
    response = admin_client.post(url("users_create", branch), {"email": "taken@example.com", "temporary_password": STRONG})
    assert response.status_code == 200
    page = text(response)
    assert re.search(r'id="id_email_error"><p class="error" role="alert">A user with that sign-in name already exists', page)
    assert 'value="taken@example.com"' in page
    assert pool_state(idp, pool_id) == before
    assert not AuditEvent.objects.filter(action="users.user_create").exists()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1!", "at least 8 characters"),
        ("nouppercase1!", "uppercase letter"),
        ("NoSymbol123", "a symbol"),
        ("NoDigits!!a", "a digit"),
    ],
)
def test_a_weak_temporary_password_is_refused_before_cognito(
    password: str, problem: str, admin_client: Client, branch: Branch, pool_id: str, idp: Any, calls: CognitoCalls
) -> None:
    response = admin_client.post(url("users_create", branch), {"email": "new@example.com", "temporary_password": password})
    assert response.status_code == 200
    assert re.search(rf'id="id_temporary_password_error">.*{problem}', text(response))
    assert "AdminCreateUser" not in calls.names()  # moto would have taken it
    assert all_users(idp, pool_id) == []
    assert password not in response.content.decode()  # never sent back to the page


def test_create_with_a_group_puts_the_user_in_it(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")
    admin_client.post(url("users_create", branch), {"email": "ed@example.com", "temporary_password": STRONG, "group": "Editors"})
    assert members(idp, pool_id, "Editors") == ["ed@example.com"]


def test_create_with_a_missing_group_creates_nothing(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    response = admin_client.post(
        url("users_create", branch), {"email": "ed@example.com", "temporary_password": STRONG, "group": "Nope"}
    )
    assert re.search(r'id="id_group_error">.*There is no such group', text(response))
    assert all_users(idp, pool_id) == []


def test_a_failed_group_join_deletes_the_new_user(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    idp.create_group(UserPoolId=pool_id, GroupName="Editors")

    def refuse(*_: Any) -> None:
        raise AwsError("A Cognito limit was reached (groups per user).", code="LimitExceededException")

    monkeypatch.setattr(cognito, "add_to_group", refuse)
    response = admin_client.post(
        url("users_create", branch), {"email": "ed@example.com", "temporary_password": STRONG, "group": "Editors"}
    )
    page = text(response)
    assert "The user was not created: Adding the user to Editors failed" in page
    assert "so the user was deleted again; nothing was created." in page
    assert all_users(idp, pool_id) == []
    assert AuditEvent.objects.get(action="users.user_create").outcome == "failure"


def test_a_cognito_limit_is_shown_and_nothing_is_created(
    admin_client: Client, branch: Branch, pool_id: str, idp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def limit(*_: Any, **__: Any) -> None:
        with cognito.cognito_errors("AdminCreateUser"):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "LimitExceededException", "Message": "Too many users."}}, "AdminCreateUser")

    monkeypatch.setattr(cognito, "create_user", limit)
    response = admin_client.post(url("users_create", branch), {"email": "new@example.com", "temporary_password": STRONG})
    assert "The user was not created: A Cognito limit was reached (Too many users)" in text(response)
    assert all_users(idp, pool_id) == []


def test_admin_edits_adds_and_removes_attributes(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    username = add_user(idp, pool_id, "ana@example.com", given_name="Ana", family_name="Lima")
    form = {
        "username": username,
        "email": "ana@example.com",
        "phone_number": "+14155550100",
        "name": "Ana Lima",
        "given_name": "Ana",
        "family_name": "",
        "preferred_username": "",
        "new_name": "locale",
        "new_value": "pt-BR",
    }
    response = admin_client.post(url("users_attributes", branch), form, follow=True)
    assert "Changed family_name, locale, name, phone_number." in text(response)
    now = attrs(idp.admin_get_user(UserPoolId=pool_id, Username=username))
    assert now["name"] == "Ana Lima"
    assert now["phone_number"] == "+14155550100"
    assert now["locale"] == "pt-BR"
    assert "family_name" not in now
    event = AuditEvent.objects.get(action="users.user_attributes")
    assert event.detail["set"] == ["locale", "name", "phone_number"]
    assert event.detail["removed"] == ["family_name"]
    assert "Ana Lima" not in str(event.detail)  # names of attributes, not their values


def test_bad_attribute_values_change_nothing(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    username = add_user(idp, pool_id, "ana@example.com", name="Ana")
    before = pool_state(idp, pool_id)
    cases = [
        ({"phone_number": "0155 550"}, "id_phone_number_error", "E.164"),
        ({"email": ""}, "id_email_error", "People sign in with their email address: it cannot be removed."),
        ({"email": "not-an-email"}, "id_email_error", "not an email address"),
        ({"new_name": "favourite colour", "new_value": "x"}, "id_new_name_error", "standard attribute"),
        ({"name": "two\nlines"}, "id_name_error", "control characters"),
    ]
    for change, error_id, message in cases:
        form = {"username": username, "email": "ana@example.com", "name": "Changed", **change}
        response = admin_client.post(url("users_attributes", branch), form)
        assert response.status_code == 200
        assert re.search(rf'id="{error_id}">.*{re.escape(message)}', text(response)), change
        assert pool_state(idp, pool_id) == before


def test_fields_left_out_of_a_post_are_left_alone(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    username = add_user(idp, pool_id, "ana@example.com", name="Ana", given_name="Ana")
    admin_client.post(url("users_attributes", branch), {"username": username, "name": "Ana L"})
    now = attrs(idp.admin_get_user(UserPoolId=pool_id, Username=username))
    assert now["name"] == "Ana L"
    assert now["given_name"] == "Ana"
    assert now["email"] == "ana@example.com"


def test_reset_and_temporary_passwords(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    username = add_user(idp, pool_id, "ana@example.com", email_verified="true")
    # A user who never signed in cannot be reset (Cognito's rule): the page says so.
    refused = admin_client.post(url("users_password", branch), {"username": username, "action": "reset"}, follow=True)
    assert "The password was not reset: Cognito did not allow it" in text(refused)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=STRONG, Permanent=True)
    reset = admin_client.post(url("users_password", branch), {"username": username, "action": "reset"}, follow=True)
    assert "Password reset: Cognito sends the user a code" in text(reset)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"] == "RESET_REQUIRED"

    weak = admin_client.post(url("users_password", branch), {"username": username, "password": "weak"})
    assert re.search(r'id="id_password_error">.*at least 8 characters', text(weak))
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"] == "RESET_REQUIRED"
    admin_client.post(url("users_password", branch), {"username": username, "password": "N3w!temporary"})
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    events = AuditEvent.objects.filter(action__startswith="users.user_").order_by("pk").values_list("action", "detail")
    assert [a for a, _ in events] == ["users.user_password_reset", "users.user_temporary_password"]
    assert "N3w!temporary" not in str(list(events))


def test_disable_and_enable(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    username = add_user(idp, pool_id, "ana@example.com")
    page = text(admin_client.post(url("users_disable", branch), {"username": username}, follow=True))
    assert "User disabled: they cannot sign in." in page
    assert "Enable user" in page
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["Enabled"] is False
    listed = text(admin_client.get(url("users_list", branch)))
    assert "Disabled" in listed
    admin_client.post(url("users_enable", branch), {"username": username})
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["Enabled"] is True
    actions = AuditEvent.objects.filter(action__startswith="users.").order_by("pk").values_list("action", flat=True)
    assert list(actions) == ["users.user_disable", "users.user_enable"]


def test_delete_needs_the_typed_confirmation(admin_client: Client, branch: Branch, pool_id: str, idp: Any) -> None:
    username = add_user(idp, pool_id, "ana@example.com")
    for typed in ("", "delete", "yes"):
        response = admin_client.post(url("users_delete", branch), {"username": username, "confirm": typed})
        assert response.status_code == 200
        assert re.search(r'id="id_confirm_error">', response.content.decode())
        assert len(all_users(idp, pool_id)) == 1
    response = admin_client.post(url("users_delete", branch), {"username": username, "confirm": "Delete"}, follow=True)
    assert "User deleted." in text(response)
    assert all_users(idp, pool_id) == []


def test_a_missing_user_sends_back_to_the_list(admin_client: Client, branch: Branch) -> None:
    response = admin_client.get(url("users_detail", branch, username="nobody"), follow=True)
    assert "There is no such user in this user pool (any more)." in text(response)
    gone = admin_client.post(url("users_disable", branch), {"username": "nobody"}, follow=True)
    assert "The user was not disabled: There is no such user" in text(gone)


HOSTILE = '<script>alert("x")</script>'


def test_hostile_attributes_are_shown_as_text(
    viewer_client: Client, admin_client: Client, branch: Branch, pool_id: str, idp: Any
) -> None:
    username = add_user(idp, pool_id, "evil@example.com", name=HOSTILE, given_name='"><img src=x onerror=alert(1)>')
    idp.create_group(UserPoolId=pool_id, GroupName="Editors", Description=HOSTILE)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="Editors")
    pages = [
        viewer_client.get(url("users_list", branch)),
        viewer_client.get(url("users_detail", branch, username=username)),
        admin_client.get(url("users_detail", branch, username=username)),
        viewer_client.get(url("users_groups", branch)),
        viewer_client.get(url("users_group_detail", branch, group="Editors")),
    ]
    for response in pages:
        raw = response.content.decode()
        assert "<script>alert" not in raw
        assert "<img src=x" not in raw
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in pages[0].content.decode()


def test_a_user_named_with_url_characters_has_working_links(viewer_client: Client, app_branch: Branch, idp: Any) -> None:
    pool_id = make_pool(idp, [])
    branch = with_pool(app_branch, pool_id, [])
    odd = "a/b?c&d#e%f"
    idp.admin_create_user(UserPoolId=pool_id, Username=odd, MessageAction="SUPPRESS")
    listing = viewer_client.get(url("users_list", branch)).content.decode()
    link = re.search(r'href="([^"]*/users/user/\?username=[^"]*)"', listing)
    assert link
    detail = viewer_client.get(html.unescape(link[1]))
    assert detail.status_code == 200
    assert f"<code>{html.escape(odd)}</code>" in detail.content.decode()
