"""The Rewrites and redirects page: who sees and changes what, the edits, the JSON editor and the tester."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.branches.models import App, Branch
from apps.builds.models import Job
from apps.hosting.models import Deployment, SiteSettings
from apps.hosting.rules import Rule, RulesInvalid, parse_rules
from apps.hosting.services import set_custom_rules
from apps.hosting.site_rules import rules_version
from console.models import AuditEvent

SPA = r"</^[^.]+$|\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json|webp)$)([^.]+$)/>"
FOLDER = Rule("/docs/<*>", "/documents/<*>", "301")
SPA_RULE = Rule(SPA, "/index.html", "200")
FALLBACK = Rule("/<*>", "/index.html", "404-200")


@pytest.fixture
def site(app: App) -> App:
    """The app, its main branch live with index.html, app.css and guide/index.html."""
    branch = app.branches.get(name="main")  # app_create connects the production branch
    job = Job.objects.create(branch=branch, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.SUCCEED)
    deployment = Deployment.objects.create(branch=branch, job=job, file_count=3)
    for path in ("index.html", "app.css", "guide/index.html"):
        deployment.files.create(path=path, content_type="text/html", size=1)
    Branch.objects.filter(pk=branch.pk).update(live_deployment=deployment)
    return app


def url(app: App, name: str = "hosting_rules") -> str:
    return reverse(name, args=[app.app_id])


def stored(app: App) -> list[dict[str, Any]]:
    return list(SiteSettings.objects.filter(app=app).values_list("custom_rules", flat=True).first() or [])


def audits() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="hosting.rules.update").order_by("pk"))


def version(app: App) -> str:
    return rules_version(stored(app))


def with_rules(app: App, *rules: Rule) -> None:
    set_custom_rules(actor=None, app=app, rules=list(rules))
    AuditEvent.objects.all().delete()  # the tests count the events their own request makes


def test_viewer_sees_the_rules_in_order_and_as_json(site: App, viewer_client: Client) -> None:
    with_rules(site, FOLDER, FALLBACK)
    page = viewer_client.get(url(site))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("/docs/&lt;*&gt;") < text.index("Not found rewrite (404-200)")
    assert "Rewrites and redirects</a>" in text  # the sidebar link
    assert json.loads(page.context["json_form"].initial["rules_json"]) == stored(site)
    # A viewer gets no editing controls.
    assert "Add rule" not in text
    assert "Save JSON" not in text
    assert url(site, "hosting_rule_delete") not in text


def test_admin_sees_the_editing_controls(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER)
    text = admin_client.get(url(site)).content.decode()
    assert "Add rule" in text
    assert "Save JSON" in text
    assert "return confirm('Delete rule 1" in text  # deleting asks first


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("hosting_rule_save", {"source": "/a", "target": "/b", "status": "301", "country": ""}),
        ("hosting_rule_move", {"number": 1, "direction": "down"}),
        ("hosting_rule_delete", {"number": 1}),
        ("hosting_rules_json", {"rules_json": "[]"}),
    ],
)
def test_viewer_cannot_change_the_rules(site: App, viewer_client: Client, name: str, data: dict[str, Any]) -> None:
    with_rules(site, FOLDER, FALLBACK)
    before = stored(site)
    response = viewer_client.post(url(site, name), {**data, "version": version(site)})
    assert response.status_code == 403
    assert stored(site) == before
    assert audits() == []
    assert AuditEvent.objects.filter(action="permission.denied").count() == 1


def test_outsider_is_sent_to_sign_in(site: App, outsider_client: Client) -> None:
    assert outsider_client.get(url(site)).status_code == 302
    assert outsider_client.post(url(site, "hosting_rules_json"), {"rules_json": "[]"}).status_code == 302
    assert stored(site) == []


def test_admin_adds_a_rule_last_and_it_is_audited(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER)
    data = {"source": "/documents", "target": "/documents/us/", "status": "302", "country": "us", "version": version(site)}
    response = admin_client.post(url(site, "hosting_rule_save"), data)
    assert response.status_code == 302
    assert stored(site) == [
        FOLDER.as_json(),
        {"source": "/documents", "target": "/documents/us/", "status": "302", "condition": "<US>"},
    ]
    [event] = audits()
    assert event.actor_name == "ada"
    assert event.target == site.app_id
    assert event.message == "added rule 2, /documents → /documents/us/ (302)"


def test_admin_edits_a_rule_in_place(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER, FALLBACK)
    form = admin_client.get(url(site) + "?edit=1").context["rule_form"]
    assert (form.initial["number"], form.initial["source"]) == (1, "/docs/<*>")
    data = {"number": 1, "source": "/docs/<*>", "target": "/manual/<*>", "status": "302", "version": version(site)}
    assert admin_client.post(url(site, "hosting_rule_save"), data).status_code == 302
    assert parse_rules(stored(site)) == [Rule("/docs/<*>", "/manual/<*>", "302"), FALLBACK]
    assert len(audits()) == 1


def test_admin_moves_rules_up_and_down(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER, SPA_RULE, FALLBACK)
    assert (
        admin_client.post(url(site, "hosting_rule_move"), {"number": 3, "direction": "up", "version": version(site)}).status_code
        == 302
    )
    assert parse_rules(stored(site)) == [FOLDER, FALLBACK, SPA_RULE]
    assert (
        admin_client.post(
            url(site, "hosting_rule_move"), {"number": 1, "direction": "down", "version": version(site)}
        ).status_code
        == 302
    )
    assert parse_rules(stored(site)) == [FALLBACK, FOLDER, SPA_RULE]
    assert [e.message for e in audits()] == ["moved rule 3 to 2", "moved rule 1 to 2"]


def test_a_rule_cannot_move_past_the_ends(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER, FALLBACK)
    response = admin_client.post(url(site, "hosting_rule_move"), {"number": 1, "direction": "up", "version": version(site)})
    assert response.status_code == 400
    assert parse_rules(stored(site)) == [FOLDER, FALLBACK]
    assert audits() == []


def test_admin_deletes_a_rule(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER, SPA_RULE, FALLBACK)
    assert admin_client.post(url(site, "hosting_rule_delete"), {"number": 2, "version": version(site)}).status_code == 302
    assert parse_rules(stored(site)) == [FOLDER, FALLBACK]
    [event] = audits()
    assert event.message.startswith("deleted rule 2, </^[^.]+$")


def test_an_edit_made_on_a_stale_page_is_refused(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER, SPA_RULE)
    seen = version(site)
    with_rules(site, SPA_RULE, FOLDER)  # someone reordered them meanwhile: "rule 1" now names another rule
    response = admin_client.post(url(site, "hosting_rule_delete"), {"number": 1, "version": seen})
    assert response.status_code == 409
    assert "Someone changed the rules after you opened this page" in response.content.decode()
    assert parse_rules(stored(site)) == [SPA_RULE, FOLDER]
    assert audits() == []


def test_admin_saves_a_pasted_amplify_export(site: App, admin_client: Client) -> None:
    with_rules(site, FOLDER)
    export = json.dumps(
        [
            {"source": "/original.html", "status": "301", "target": "/destination.html", "condition": None},
            {"source": SPA, "status": "200", "target": "/index.html", "condition": None},
            {"source": "/documents", "status": "302", "target": "/documents/us/", "condition": "<US>"},
        ]
    )
    response = admin_client.post(url(site, "hosting_rules_json"), {"rules_json": export, "version": version(site)})
    assert response.status_code == 302
    assert stored(site) == [
        {"source": "/original.html", "target": "/destination.html", "status": "301", "condition": None},
        {"source": SPA, "target": "/index.html", "status": "200", "condition": None},
        {"source": "/documents", "target": "/documents/us/", "status": "302", "condition": "<US>"},
    ]
    assert [e.message for e in audits()] == ["saved 3 rules from JSON"]


@pytest.mark.parametrize(
    ("pasted", "error"),
    [
        ('[{"source": "/a", "target": "/b", "status": "301"', "Not valid JSON: Expecting"),
        ('{"source": "/a"}', "The rules must be a JSON array of rule objects, not an object."),
        (
            '[{"source": "/a", "target": "/b", "status": "301"}, {"source": "/images/<*>", "status": "200", '
            '"target": "https://images.otherdomain.com/<*>"}]',
            "Rule 2, target: a rewrite (200) cannot fetch another site",
        ),
        ('[{"source": "/a", "target": "/b", "status": "307"}]', "Rule 1, status: &#x27;307&#x27; is not one of"),
    ],
    ids=["broken-json", "not-an-array", "open-proxy-rule-2", "bad-status"],
)
def test_a_bad_paste_shows_the_error_and_writes_nothing(site: App, admin_client: Client, pasted: str, error: str) -> None:
    with_rules(site, FOLDER)
    response = admin_client.post(url(site, "hosting_rules_json"), {"rules_json": pasted, "version": version(site)})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert response.context["json_form"]["rules_json"].value() == pasted  # what was pasted stays, to be mended
    assert stored(site) == [FOLDER.as_json()]
    assert audits() == []


def test_a_bad_rule_in_the_form_shows_the_field_error_and_writes_nothing(site: App, admin_client: Client) -> None:
    data = {"source": "/images/<*>", "target": "https://images.otherdomain.com/<*>", "status": "200", "version": version(site)}
    response = admin_client.post(url(site, "hosting_rule_save"), data)
    assert response.status_code == 400
    assert "no open proxy" in " ".join(response.context["rule_form"].errors["target"])
    assert stored(site) == []
    assert audits() == []


def test_stored_rules_that_do_not_parse_are_shown_and_mended_with_json(site: App, admin_client: Client) -> None:
    SiteSettings.objects.create(app=site, custom_rules=[{"source": "/a", "target": "/b", "status": "999"}])
    page = admin_client.get(url(site))
    assert "Rule 1, status: &#x27;999&#x27; is not one of" in page.content.decode()
    # A single-rule edit would drop the unreadable rules: it is refused until the JSON is mended.
    refused = admin_client.post(url(site, "hosting_rule_delete"), {"number": 1, "version": version(site)})
    assert refused.status_code == 409
    mended = json.dumps([{"source": "/a", "target": "/b", "status": "301"}])
    assert admin_client.post(url(site, "hosting_rules_json"), {"rules_json": mended, "version": version(site)}).status_code == 302
    assert parse_rules(stored(site)) == [Rule("/a", "/b", "301")]


def test_the_service_validates_rules_built_by_hand(site: App) -> None:
    with pytest.raises(RulesInvalid):
        set_custom_rules(actor=None, app=site, rules=[Rule("/a", "https://elsewhere.example/", "200")])
    assert stored(site) == []
    assert audits() == []


@pytest.mark.parametrize(
    ("rules", "tried", "answer"),
    [
        ((FOLDER,), "/docs/intro?x=1", 'redirect 301 to <code class="wrap">/documents/intro?x=1</code></strong> (rule 1)'),
        ((FOLDER, SPA_RULE), "/settings/profile", 'rewrite to <code class="wrap">/index.html</code> (200)</strong> (rule 2)'),
        ((FALLBACK,), "/missing/page", 'rewrite to <code class="wrap">/index.html</code> (200)</strong> (rule 1)'),
        ((FALLBACK,), "/app.css", "<strong>no rule matches</strong>; the file is served as it is."),
        ((FOLDER,), "/guide", "it names a folder, so serving adds a slash (301 to <code>/guide/</code>)"),
        ((FOLDER,), "/nope.js", "the main deployment has no such file (404)"),
        ((FOLDER,), "https://main.example.com/docs/a?b=1", 'redirect 301 to <code class="wrap">/documents/a?b=1</code>'),
    ],
    ids=["redirect", "rewrite-second-rule", "not-found-rewrite", "file-exists", "folder", "missing", "full-url-pasted"],
)
def test_viewer_tries_a_url_against_the_live_deployment(
    site: App, viewer_client: Client, rules: tuple[Rule, ...], tried: str, answer: str
) -> None:
    with_rules(site, *rules)
    page = viewer_client.get(url(site), {"url": tried, "branch": "main"})
    assert page.status_code == 200
    assert answer in page.content.decode()


def test_the_tester_answers_htmx_with_the_fragment_alone(site: App, viewer_client: Client) -> None:
    with_rules(site, FOLDER)
    fragment = viewer_client.get(url(site), {"url": "/docs/a", "branch": "main"}, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "This URL would become:" in text
    assert "/documents/a" in text
    assert "<h1>" not in text


def test_the_tester_refuses_a_url_that_is_not_a_path(site: App, viewer_client: Client) -> None:
    fragment = viewer_client.get(url(site), {"url": "docs", "branch": "main"}, HTTP_HX_REQUEST="true")
    assert "Start with / (a path of the site)" in fragment.content.decode()
