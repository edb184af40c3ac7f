"""Domain associations through boto3's `amplify` client against a live server: each
response satisfies botocore's output shape, the domains land on hosting's models (the
same services as the Custom domains page), and refusals come back as the service's errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from apps.amplify_api.tests.conftest import assert_valid_output, error_code
from apps.hosting import domain_dns
from apps.hosting.models import DomainAssociation
from console.models import AuditEvent

TARGET = "edge.console.test"
EDGE = "203.0.113.10"


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch, settings: Any) -> dict[str, set[str]]:
    """The live server checks DNS once a domain is saved: the answers come from here."""
    settings.HOSTING_DNS_TARGET = TARGET
    answers = {TARGET: {EDGE}}
    monkeypatch.setattr(domain_dns, "resolve", lambda name: frozenset(answers.get(name, set())))
    return answers


@pytest.fixture
def app_id(admin_api: Any, make_repo: Callable[..., Path]) -> str:
    app_id = str(admin_api.create_app(name="Site", repository=str(make_repo(("main", "dev"))))["app"]["appId"])
    admin_api.create_branch(appId=app_id, branchName="main", stage="PRODUCTION")
    admin_api.create_branch(appId=app_id, branchName="dev")
    return app_id


def test_create_get_list_update_delete_a_domain_association(admin_api: Any, app_id: str, dns: dict[str, set[str]]) -> None:
    dns["www.example.com"] = {EDGE}
    created = admin_api.create_domain_association(
        appId=app_id,
        domainName="example.com",
        subDomainSettings=[{"prefix": "", "branchName": "main"}, {"prefix": "www", "branchName": "main"}],
    )
    assert_valid_output(admin_api, "CreateDomainAssociation", created)
    shown = created["domainAssociation"]
    assert shown["domainAssociationArn"].endswith(f":apps/{app_id}/domains/example.com")
    assert (shown["domainName"], shown["enableAutoSubDomain"]) == ("example.com", False)
    assert [s["subDomainSetting"] for s in shown["subDomains"]] == [
        {"prefix": "", "branchName": "main"},
        {"prefix": "www", "branchName": "main"},
    ]
    assert shown["subDomains"][1]["dnsRecord"] == f"www CNAME {TARGET}"
    assert AuditEvent.objects.filter(action="domain.create", actor_name="ada").exists()

    # The check ran once the create committed: www leads to the console, the apex has no record yet.
    got = admin_api.get_domain_association(appId=app_id, domainName="example.com")
    assert_valid_output(admin_api, "GetDomainAssociation", got)
    association = got["domainAssociation"]
    assert association["domainStatus"] == "PENDING_VERIFICATION"
    assert "example.com has no DNS record yet" in association["statusReason"]
    assert [(s["subDomainSetting"]["prefix"], s["verified"]) for s in association["subDomains"]] == [("", False), ("www", True)]
    assert admin_api.get_branch(appId=app_id, branchName="main")["branch"]["customDomains"] == [
        "example.com",
        "www.example.com",
    ]

    admin_api.create_domain_association(
        appId=app_id, domainName="example.org", subDomainSettings=[{"prefix": "", "branchName": "dev"}]
    )
    first = admin_api.list_domain_associations(appId=app_id, maxResults=1)
    assert_valid_output(admin_api, "ListDomainAssociations", first)
    rest = admin_api.list_domain_associations(appId=app_id, nextToken=first["nextToken"])
    names = [d["domainName"] for d in first["domainAssociations"] + rest["domainAssociations"]]
    assert names == ["example.com", "example.org"]
    assert "nextToken" not in rest

    updated = admin_api.update_domain_association(
        appId=app_id,
        domainName="example.com",
        subDomainSettings=[{"prefix": "www", "branchName": "dev"}],
        enableAutoSubDomain=True,
        autoSubDomainCreationPatterns=["feature/**"],
    )
    assert_valid_output(admin_api, "UpdateDomainAssociation", updated)
    association = updated["domainAssociation"]
    assert (association["enableAutoSubDomain"], association["autoSubDomainCreationPatterns"]) == (True, ["feature/**"])
    assert [s["subDomainSetting"] for s in association["subDomains"]] == [{"prefix": "www", "branchName": "dev"}]

    deleted = admin_api.delete_domain_association(appId=app_id, domainName="example.com")
    assert_valid_output(admin_api, "DeleteDomainAssociation", deleted)
    assert deleted["domainAssociation"]["domainName"] == "example.com"
    assert list(DomainAssociation.objects.values_list("domain_name", flat=True)) == ["example.org"]
    with pytest.raises(ClientError) as missing:
        admin_api.get_domain_association(appId=app_id, domainName="example.com")
    assert error_code(missing) == ("NotFoundException", 404)


def test_viewers_read_but_cannot_create_change_or_delete(admin_api: Any, viewer_api: Any, operator_api: Any, app_id: str) -> None:
    admin_api.create_domain_association(
        appId=app_id, domainName="example.com", subDomainSettings=[{"prefix": "www", "branchName": "main"}]
    )
    writes: list[Callable[[Any], Any]] = [
        lambda c: c.create_domain_association(
            appId=app_id, domainName="example.org", subDomainSettings=[{"prefix": "", "branchName": "main"}]
        ),
        lambda c: c.update_domain_association(
            appId=app_id, domainName="example.com", subDomainSettings=[{"prefix": "", "branchName": "dev"}]
        ),
        lambda c: c.delete_domain_association(appId=app_id, domainName="example.com"),
    ]
    for client in (viewer_api, operator_api):
        for write in writes:
            with pytest.raises(ClientError) as refused:
                write(client)
            assert error_code(refused) == ("UnauthorizedException", 401)
        assert client.list_domain_associations(appId=app_id)["domainAssociations"][0]["domainName"] == "example.com"
    assert list(DomainAssociation.objects.values_list("domain_name", flat=True)) == ["example.com"]
    assert list(DomainAssociation.objects.get().sub_domains.values_list("prefix", "branch__name")) == [("www", "main")]


@pytest.mark.parametrize(
    ("domain_name", "settings_list", "message"),
    [
        ("192.168.0.10", [{"prefix": "", "branchName": "main"}], "domainName: 192.168.0.10 is an IP address"),
        ("shop.localhost", [{"prefix": "", "branchName": "main"}], "under the console's own hosting domain"),
        ("*.example.com", [{"prefix": "", "branchName": "main"}], "domainName"),
        ("example.com", [{"prefix": "www", "branchName": "nope"}], "branch 'nope' is not a branch of app"),
        ("example.com", [{"prefix": "a.b", "branchName": "main"}], "subDomains: 'a.b': a prefix is one label"),
        ("example.com", [], "Map at least one name to a branch"),
    ],
)
def test_bad_domains_are_bad_requests_and_nothing_is_written(
    admin_api: Any, app_id: str, domain_name: str, settings_list: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(ClientError) as refused:
        admin_api.create_domain_association(appId=app_id, domainName=domain_name, subDomainSettings=settings_list)
    assert error_code(refused) == ("BadRequestException", 400)
    assert message in str(refused.value)
    assert not DomainAssociation.objects.exists()
    assert not AuditEvent.objects.filter(action="domain.create").exists()
