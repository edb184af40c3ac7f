"""Custom domains: names and their validation, the services, which branch a Host names,
the DNS check (with a resolver the tests answer), the TLS ask endpoint and the page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from apps.branches import services as branch_services
from apps.branches.models import App, Branch
from apps.builds.tests.builds import build, make_app
from apps.hosting import domain_dns, services
from apps.hosting.domains import (
    branch_for_custom_host,
    check_pending_key,
    normalize_domain_name,
    normalize_patterns,
    normalize_prefix,
)
from apps.hosting.models import DomainAssociation, SubDomain
from apps.hosting.tasks import check_domains
from console.models import AuditEvent

TARGET = "edge.console.test"
EDGE = "203.0.113.10"
ELSEWHERE = "198.51.100.7"

# The URLs of custom domains, for tests/test_permissions.py's census (as storage's and the
# API's tables are): the two pages read on GET and change on POST; the ask endpoint
# needs no session (Caddy calls it; it answers only yes or no).
MUTATING = {"hosting_domains", "hosting_domain_edit", "hosting_domain_delete", "hosting_domain_check"}
WITHOUT_SESSION = {"hosting_tls_ask"}


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch, settings: Any) -> dict[str, Any]:
    """The resolver's answers by name (a set of addresses, or an exception to raise);
    names not listed do not exist."""
    settings.HOSTING_DNS_TARGET = TARGET
    answers: dict[str, Any] = {TARGET: frozenset({EDGE})}

    def resolve(name: str) -> frozenset[str]:
        answer = answers.get(name, frozenset())
        if isinstance(answer, Exception):
            raise answer
        return frozenset(answer)

    monkeypatch.setattr(domain_dns, "resolve", resolve)
    cache.delete(domain_dns.TARGET_ADDRESSES_KEY)
    return answers


@pytest.fixture
def shop(app: App) -> App:
    """Shop with main (production), dev and feature/login (shown as feature-login)."""
    branch_services.branch_connect(actor=None, app=app, name="dev")
    branch_services.branch_connect(actor=None, app=app, name="feature/login")
    return app


def branch(app: App, name: str) -> Branch:
    return app.branches.get(name=name)


@pytest.fixture
def domain(shop: App, dns: dict[str, Any]) -> Iterator[DomainAssociation]:
    created = services.domain_create(
        actor=None,
        app=shop,
        domain_name="example.com",
        sub_domains=[("", branch(shop, "main")), ("www", branch(shop, "main")), ("dev", branch(shop, "dev"))],
    )
    yield created
    cache.delete(check_pending_key(created.pk))


# --- Names --------------------------------------------------------------------------


def test_domain_names_are_stored_idna_encoded_in_lower_case_without_the_root_dot() -> None:
    assert normalize_domain_name(" WWW.Example.COM. ") == "www.example.com"
    assert normalize_domain_name("bücher.example") == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter a domain name"),
        ("*.example.com", "Wildcards are not domain names"),
        ("192.0.2.1", "is an IP address"),
        ("[2001:db8::1]", "is an IP address"),
        ("https://example.com/", "without scheme, port or path"),
        ("example.com:8443", "without scheme, port or path"),
        ("intranet", "single label"),
        ("example..com", "empty part"),
        ("-shop.example.com", "does not start or end with a hyphen"),
        ("shop_1.example.com", "letters, digits or hyphens"),
        ("a" * 64 + ".com", "1 to 63"),
        (".".join(["abcdefghij"] * 23) + ".com", "at most 253 characters"),
        ("example.123", "ends in a number"),
        ("shop.localhost", "under the console's own hosting domain localhost"),
        ("testserver.example", None),  # a valid name: the checks are no blanket refusal
    ],
)
def test_bad_domain_names_are_refused_saying_why(raw: str, message: str | None) -> None:
    if message is None:
        assert normalize_domain_name(raw) == raw
        return
    with pytest.raises(ValidationError) as refused:
        normalize_domain_name(raw)
    assert message in " ".join(refused.value.messages)


def test_the_consoles_own_names_are_refused(settings: Any) -> None:
    settings.HOSTING_DNS_TARGET = "console.example.net"
    settings.ALLOWED_HOSTS = ["admin.example.org", ".example.io", "*"]
    for own in ("console.example.net", "admin.example.org"):
        with pytest.raises(ValidationError, match="console's own address"):
            normalize_domain_name(own)
    assert normalize_domain_name("shop.example.io") == "shop.example.io"  # a pattern is no name of the console


def test_prefixes_are_one_label_or_the_apex() -> None:
    assert (normalize_prefix(" WWW "), normalize_prefix("")) == ("www", "")
    for bad, message in (("a.b", "one label"), ("*", "wildcards"), ("-x", "hyphen"), ("x" * 64, "1 to 63")):
        with pytest.raises(ValidationError, match=message):
            normalize_prefix(bad)


def test_patterns_use_the_branch_pattern_syntax() -> None:
    assert normalize_patterns([" feature/** ", "", "dev", "dev"]) == ["feature/**", "dev"]
    with pytest.raises(ValidationError, match="reversed character range"):
        normalize_patterns(["[z-a]"])
    with pytest.raises(ValidationError, match="without commas"):
        normalize_patterns(["a,b"])


# --- Services -----------------------------------------------------------------------


def test_creating_a_domain_stores_its_names_audits_and_checks_dns(
    shop: App, dns: dict[str, Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    dns.update({"example.com": {EDGE}, "www.example.com": {EDGE}})
    with django_capture_on_commit_callbacks(execute=True):
        created = services.domain_create(
            actor=None,
            app=shop,
            domain_name="Example.com",
            sub_domains=[("", branch(shop, "main")), ("WWW", branch(shop, "main"))],
        )
    created.refresh_from_db()
    assert created.domain_name == "example.com"
    assert sorted(created.sub_domains.values_list("prefix", "dns_verified")) == [("", True), ("www", True)]
    assert (created.status, created.status_reason) == ("AVAILABLE", "")
    assert created.checked_at is not None
    event = AuditEvent.objects.get(action="domain.create")
    assert (event.target, event.detail["sub_domains"]) == (f"{shop.app_id}/example.com", {"": "main", "www": "main"})


def refused(call: Callable[[], Any]) -> str:
    with pytest.raises(ValidationError) as error:
        call()
    return " ".join(error.value.messages)


def test_what_a_domain_may_not_be_is_refused_and_nothing_is_written(
    shop: App, domain: DomainAssociation, make_repo: Callable[..., Path]
) -> None:
    main = branch(shop, "main")
    other = branch_services.app_create(actor=None, name="Other", repository=str(make_repo(("main",))), production_branch="main")
    before = (DomainAssociation.objects.count(), SubDomain.objects.count(), AuditEvent.objects.count())

    def create(name: str, subs: list[tuple[str, Branch]], **extra: Any) -> str:
        return refused(lambda: services.domain_create(actor=None, app=shop, domain_name=name, sub_domains=subs, **extra))

    assert "not a branch of Shop" in create("shop.example.org", [("", branch(other, "main"))])
    assert "listed twice" in create("shop.example.org", [("www", main), ("WWW", main)])
    assert "already added" in create("EXAMPLE.com", [("", main)])
    assert "already served as a sub domain of example.com" in create("www.example.com", [("", main)])
    assert "Map at least one name" in create("shop.example.org", [])
    assert "at least one branch pattern" in create("shop.example.org", [], enable_auto_sub_domain=True)
    assert "reversed character range" in create(
        "shop.example.org", [], enable_auto_sub_domain=True, auto_sub_domain_patterns=["[z-a]"]
    )
    assert (DomainAssociation.objects.count(), SubDomain.objects.count(), AuditEvent.objects.count()) == before
    # The other way round: a prefix naming a domain already added on its own.
    services.domain_create(actor=None, app=shop, domain_name="shop.example.org", sub_domains=[("", main)])
    assert "already added as a domain of its own" in create("example.org", [("shop", main)])


def test_updating_replaces_the_mapping_and_keeps_what_was_verified(domain: DomainAssociation, shop: App) -> None:
    SubDomain.objects.filter(domain=domain).update(dns_verified=True)
    DomainAssociation.objects.filter(pk=domain.pk).update(status="AVAILABLE")
    domain.refresh_from_db()
    services.domain_update(
        actor=None,
        domain=domain,
        sub_domains=[("", branch(shop, "main")), ("www", branch(shop, "dev")), ("beta", branch(shop, "dev"))],
        enable_auto_sub_domain=True,
        auto_sub_domain_patterns=["feature/**"],
    )
    rows = {s.prefix: (s.branch.name, s.dns_verified) for s in domain.sub_domains.select_related("branch")}
    assert rows == {"": ("main", True), "www": ("dev", True), "beta": ("dev", False)}
    domain.refresh_from_db()
    # A new name is not verified yet: the domain waits for it.
    assert (domain.status, domain.enable_auto_sub_domain, domain.auto_sub_domain_patterns) == (
        "PENDING_VERIFICATION", True, ["feature/**"],
    )  # fmt: skip
    detail = AuditEvent.objects.get(action="domain.update").detail
    assert (detail["added"], detail["removed"], detail["moved"]) == ({"beta": "dev"}, ["dev"], {"www": "dev"})


def test_a_refused_update_changes_nothing(domain: DomainAssociation, shop: App) -> None:
    before = list(SubDomain.objects.order_by("pk").values())
    assert "listed twice" in refused(
        lambda: services.domain_update(
            actor=None, domain=domain, sub_domains=[("x", branch(shop, "dev")), ("x", branch(shop, "main"))]
        )
    )
    assert list(SubDomain.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(action="domain.update").exists()


def test_deleting_needs_the_name_typed(domain: DomainAssociation) -> None:
    assert "exactly" in refused(lambda: services.domain_delete(actor=None, domain=domain, confirm_name="example"))
    services.domain_delete(actor=None, domain=domain, confirm_name="Example.com")
    assert not DomainAssociation.objects.exists()
    assert not SubDomain.objects.exists()
    assert AuditEvent.objects.filter(action="domain.delete", target__endswith="/example.com").exists()


# --- Which branch a Host names ------------------------------------------------------


def test_the_apex_and_prefixes_name_their_branches(
    domain: DomainAssociation, shop: App, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        found = branch_for_custom_host("example.com")
        assert found is not None
        assert found.name == "main"
        assert found.app.app_id == shop.app_id
    assert getattr(branch_for_custom_host("www.example.com"), "name", None) == "main"
    assert getattr(branch_for_custom_host("dev.example.com"), "name", None) == "dev"
    for unknown in ("shop.example.com", "example.org", "www.www.example.com", "com", ""):
        with django_assert_max_num_queries(2):
            assert branch_for_custom_host(unknown) is None


def test_automatic_sub_domains_serve_matching_branches_and_explicit_prefixes_win(
    domain: DomainAssociation, shop: App, django_assert_max_num_queries: Any
) -> None:
    services.domain_update(
        actor=None,
        domain=domain,
        sub_domains=[("www", branch(shop, "main")), ("dev", branch(shop, "main"))],
        enable_auto_sub_domain=True,
        auto_sub_domain_patterns=["feature/**", "dev"],
    )
    with django_assert_max_num_queries(2):
        # feature/login's label is feature-login.
        assert getattr(branch_for_custom_host("feature-login.example.com"), "name", None) == "feature/login"
    # dev matches the patterns, but the explicit prefix dev names main.
    assert getattr(branch_for_custom_host("dev.example.com"), "name", None) == "main"
    assert branch_for_custom_host("main.example.com") is None  # main matches no pattern


def test_a_custom_domain_serves_its_branchs_site(
    db: None, make_repo: Callable[..., Path], dns: dict[str, Any], settings: Any
) -> None:
    site = make_app(make_repo)
    assert build(site).status == "SUCCEED"
    branch_services.branch_connect(actor=None, app=site, name="dev")
    services.domain_create(
        actor=None,
        app=site,
        domain_name="example.com",
        sub_domains=[("www", branch(site, "main")), ("dev", branch(site, "dev"))],
    )
    client = Client()
    home = client.get("/", HTTP_HOST="www.example.com")
    assert (home.status_code, home.content) == (200, b"<h1>home</h1>")
    assert client.get("/docs/", HTTP_HOST="WWW.example.com.").content == b"<p>docs</p>"
    empty = client.get("/", HTTP_HOST="dev.example.com")
    assert empty.status_code == 404
    assert b"Nothing is deployed here yet" in empty.content
    # A name no domain maps is the console's (which refuses hosts it does not know).
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 400


# --- DNS ----------------------------------------------------------------------------


def checked(domain: DomainAssociation) -> DomainAssociation:
    domain_dns.check_domain(domain)
    domain.refresh_from_db()
    return domain


def test_names_leading_to_the_console_make_the_domain_available(domain: DomainAssociation, dns: dict[str, Any]) -> None:
    dns.update({"example.com": {EDGE}, "www.example.com": {EDGE}, "dev.example.com": {EDGE}})
    assert checked(domain).status == "AVAILABLE"
    assert set(domain.sub_domains.values_list("dns_verified", flat=True)) == {True}


def test_a_name_pointing_elsewhere_fails_the_domain_naming_it(domain: DomainAssociation, dns: dict[str, Any]) -> None:
    # An old A record left beside the new one still sends visitors elsewhere.
    dns.update({"example.com": {EDGE}, "www.example.com": {EDGE, ELSEWHERE}, "dev.example.com": set()})
    domain = checked(domain)
    assert domain.status == "FAILED"
    assert f"www.example.com points at {ELSEWHERE}, which is not the console ({EDGE})" in domain.status_reason
    assert "dev.example.com has no DNS record yet" in domain.status_reason
    assert dict(domain.sub_domains.values_list("prefix", "dns_verified")) == {"": True, "www": False, "dev": False}


def test_missing_records_or_a_silent_resolver_leave_the_domain_pending(domain: DomainAssociation, dns: dict[str, Any]) -> None:
    SubDomain.objects.filter(domain=domain, prefix="www").update(dns_verified=True)
    dns.update({"example.com": {EDGE}, "www.example.com": domain_dns.LookupFailed("server failure")})
    domain = checked(domain)
    assert domain.status == "PENDING_VERIFICATION"
    assert "www.example.com: the look-up failed (server failure)" in domain.status_reason
    # No answer is no news: www keeps what the last answer said.
    assert dict(domain.sub_domains.values_list("prefix", "dns_verified")) == {"": True, "www": True, "dev": False}


def test_a_hung_lookup_is_given_up_on_time(
    domain: DomainAssociation, dns: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(domain_dns, "LOOKUP_TIMEOUT_SECONDS", 0.2)
    answered = domain_dns.resolve

    def slow(name: str) -> frozenset[str]:
        if name == "www.example.com":
            time.sleep(2)
        return answered(name)

    monkeypatch.setattr(domain_dns, "resolve", slow)
    started = time.monotonic()
    domain = checked(domain)
    assert time.monotonic() - started < 1.5
    assert "www.example.com: the look-up failed (no answer within 0.2 s)" in domain.status_reason


def test_an_unresolvable_target_says_to_check_the_setting(domain: DomainAssociation, dns: dict[str, Any]) -> None:
    dns[TARGET] = set()
    domain = checked(domain)
    assert domain.status == "PENDING_VERIFICATION"
    assert "HOSTING_DNS_TARGET" in domain.status_reason


def test_records_to_create_cname_for_prefixes_and_addresses_for_the_apex(
    domain: DomainAssociation, dns: dict[str, Any], settings: Any
) -> None:
    www = domain.sub_domains.get(prefix="www")
    apex = domain.sub_domains.get(prefix="")
    assert domain_dns.dns_record_text(www) == f"www CNAME {TARGET}"
    assert domain_dns.dns_record_text(apex) == f" ALIAS {TARGET}"  # addresses unknown before a check
    dns[TARGET] = {EDGE, "2001:db8::10"}
    checked(domain)
    assert [(r.type, r.value) for r in domain_dns.records_for("example.com", "")] == [("A", EDGE), ("AAAA", "2001:db8::10")]
    settings.HOSTING_DNS_TARGET = "192.0.2.44"  # an address: every name gets an A record
    assert domain_dns.dns_record_text(www) == "www A 192.0.2.44"


def test_the_system_resolver_answers_for_localhost() -> None:
    assert "127.0.0.1" in domain_dns.resolve("localhost")


def test_the_periodic_task_checks_domains_not_yet_verified(
    domain: DomainAssociation, dns: dict[str, Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    dns.update({"example.com": {EDGE}, "www.example.com": {EDGE}, "dev.example.com": {EDGE}})
    assert check_domains() == 1  # Celery runs eagerly in tests: the check is done
    domain.refresh_from_db()
    assert domain.status == "AVAILABLE"
    assert check_domains() == 0  # verified a moment ago


# --- The TLS ask endpoint -----------------------------------------------------------


def test_the_tls_ask_endpoint_vouches_only_for_names_the_console_serves(domain: DomainAssociation, shop: App) -> None:
    services.domain_update(actor=None, domain=domain, enable_auto_sub_domain=True, auto_sub_domain_patterns=["feature/**"])
    client = Client()  # not signed in: Caddy calls it
    url = reverse("hosting_tls_ask")
    for name in (
        "example.com",
        "www.example.com",
        "WWW.Example.com.",
        "feature-login.example.com",
        f"main.{shop.app_id}.localhost",
    ):
        assert client.get(url, {"domain": name}).status_code == 200, name
    for name in ("shop.example.com", "main.example.com", "evil.test", f"nope.{shop.app_id}.localhost", "localhost", ""):
        assert client.get(url, {"domain": name}).status_code == 404, name
    assert client.get(url).status_code == 404
    assert client.post(url, {"domain": "example.com"}).status_code == 405


# --- The page -----------------------------------------------------------------------


def page(app: App) -> str:
    return reverse("hosting_domains", args=[app.app_id])


def test_viewers_see_domains_records_and_links_but_no_forms(viewer_client: Client, domain: DomainAssociation, shop: App) -> None:
    response = viewer_client.get(page(shop))
    text = response.content.decode()
    assert response.status_code == 200
    assert 'href="http://www.example.com/"' in text
    assert f"www.example.com CNAME {TARGET}" in text
    assert "Waiting for DNS" in text
    assert 'aria-current="page">Custom domains' in text
    assert 'id="add-domain"' not in text
    assert reverse("hosting_domain_check", args=[shop.app_id, "example.com"]) not in text


def test_the_empty_state_says_what_to_do(admin_client: Client, shop: App) -> None:
    text = admin_client.get(page(shop)).content.decode()
    assert "No custom domains yet" in text
    assert "create the DNS records" in text
    # A new domain's apex and www start with the production branch.
    main = branch(shop, "main").pk
    assert text.count(f'<option value="{main}" selected>') == 2


def add_form(shop: App, name: str = "example.com", **rows: str) -> dict[str, Any]:
    pairs = rows or {"": "main", "www": "main"}
    return {
        "domain_name": name,
        "prefix": list(pairs),
        "branch": [str(branch(shop, b).pk) if b else "" for b in pairs.values()],
        "auto_sub_domain_patterns": "",
    }


def test_every_custom_domain_url_is_in_the_census() -> None:
    from tests.test_permissions import url_names

    assert {n for n in url_names() if n.startswith(("hosting_domain", "hosting_tls"))} == MUTATING | WITHOUT_SESSION


def test_outsiders_are_sent_to_sign_in(outsider_client: Client, domain: DomainAssociation, shop: App) -> None:
    for name in sorted(MUTATING):
        url = reverse(name, args=[shop.app_id] + ([] if name == "hosting_domains" else ["example.com"]))
        for response in (outsider_client.get(url), outsider_client.post(url, {"confirm_name": "example.com"})):
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/")
    assert DomainAssociation.objects.count() == 1


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_only_admins_change_domains(who: str, domain: DomainAssociation, shop: App, request: pytest.FixtureRequest) -> None:
    client: Client = request.getfixturevalue(who)
    before = (list(DomainAssociation.objects.values()), list(SubDomain.objects.values()))
    edit = reverse("hosting_domain_edit", args=[shop.app_id, "example.com"])
    for url, data in (
        (page(shop), add_form(shop, "example.org")),
        (edit, add_form(shop, "example.com", beta="dev")),
        (reverse("hosting_domain_delete", args=[shop.app_id, "example.com"]), {"confirm_name": "example.com"}),
        (reverse("hosting_domain_check", args=[shop.app_id, "example.com"]), {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert (list(DomainAssociation.objects.values()), list(SubDomain.objects.values())) == before
    assert AuditEvent.objects.filter(outcome="denied").count() == 4
    assert not AuditEvent.objects.filter(action__startswith="domain.", outcome="success").exclude(actor_name="system").exists()


def test_admins_add_a_domain(admin_client: Client, shop: App, dns: dict[str, Any]) -> None:
    response = admin_client.post(page(shop), add_form(shop, "Shop.Example.org", **{"": "main", "www": "main", " ": ""}))
    assert response.status_code == 302
    created = DomainAssociation.objects.get(domain_name="shop.example.org")
    assert sorted(created.sub_domains.values_list("prefix", "branch__name")) == [("", "main"), ("www", "main")]
    assert AuditEvent.objects.filter(action="domain.create", actor_name="ada", outcome="success").exists()
    cache.delete(check_pending_key(created.pk))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"domain_name": "*.example.org"}, "Wildcards are not domain names"),
        ({"prefix": ["www", "WWW"]}, "www.example.org is listed twice"),
        ({"prefix": ["shop", ""], "branch": ["", ""]}, "Choose the branch that shop.… serves"),
        ({"branch": ["999999", ""]}, "a branch this app does not have"),
        ({"enable_auto_sub_domain": "on"}, "at least one branch pattern"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_written(
    admin_client: Client, shop: App, data: dict[str, Any], message: str
) -> None:
    form = {**add_form(shop, "example.org"), **data}
    response = admin_client.post(page(shop), form)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not DomainAssociation.objects.exists()
    assert not AuditEvent.objects.filter(action="domain.create").exists()


def test_admins_edit_a_domain(admin_client: Client, domain: DomainAssociation, shop: App) -> None:
    edit = reverse("hosting_domain_edit", args=[shop.app_id, "example.com"])
    assert admin_client.get(edit).status_code == 200
    form = {
        **add_form(shop, **{"www": "dev", "beta": "dev"}),
        "enable_auto_sub_domain": "on",
        "auto_sub_domain_patterns": "feature/**",
    }
    assert admin_client.post(edit, form).status_code == 302
    domain.refresh_from_db()
    assert sorted(domain.sub_domains.values_list("prefix", "branch__name")) == [("beta", "dev"), ("www", "dev")]
    assert domain.auto_sub_domain_patterns == ["feature/**"]
    assert AuditEvent.objects.filter(action="domain.update", actor_name="ada").exists()
    shown = admin_client.get(page(shop)).content.decode()
    assert 'href="http://feature-login.example.com/"' in shown
    assert f"*.example.com CNAME {TARGET}" in shown


def test_admins_remove_a_domain_after_typing_its_name(admin_client: Client, domain: DomainAssociation, shop: App) -> None:
    delete = reverse("hosting_domain_delete", args=[shop.app_id, "example.com"])
    wrong = admin_client.post(delete, {"confirm_name": "example.org"})
    assert wrong.status_code == 400
    assert "Type the domain name example.com exactly" in wrong.content.decode()
    assert DomainAssociation.objects.exists()
    assert admin_client.post(delete, {"confirm_name": "example.com"}).status_code == 302
    assert not DomainAssociation.objects.exists()
    assert AuditEvent.objects.filter(action="domain.delete", actor_name="ada").exists()


def test_check_dns_runs_a_check_and_answers_the_card(
    admin_client: Client,
    domain: DomainAssociation,
    shop: App,
    dns: dict[str, Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    dns.update({"example.com": {EDGE}, "www.example.com": {EDGE}, "dev.example.com": {EDGE}})
    check = reverse("hosting_domain_check", args=[shop.app_id, "example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(check, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="domain.check", actor_name="ada").exists()
    domain.refresh_from_db()
    assert domain.status == "AVAILABLE"
    # The card polls while the check is queued; once the worker is done it shows the result.
    card = admin_client.get(page(shop), {"domain": "example.com"}, HTTP_HX_REQUEST="true").content.decode()
    assert card.lstrip().startswith(f'<section class="domain" id="domain-{domain.pk}"')
    assert "Available" in card
    assert "hx-trigger" not in card
