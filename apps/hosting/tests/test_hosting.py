"""Serving the live deployment at the branch URL and the console's path-based URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.branches.models import App, Branch
from apps.builds.tests.builds import build, make_app
from apps.hosting import delivery


@pytest.fixture
def site(db: None, make_repo: Callable[..., Path]) -> App:
    app = make_app(make_repo)
    assert build(app).status == "SUCCEED"
    return app


def host(app: App, label: str = "main") -> str:
    return f"{label}.{app.app_id}.localhost:8000"


def test_directories_serve_their_index_and_slashless_paths_redirect(site: App) -> None:
    client = Client()
    assert client.get("/docs/", HTTP_HOST=host(site)).content == b"<p>docs</p>"
    redirect = client.get("/docs", HTTP_HOST=host(site))
    assert (redirect.status_code, redirect["Location"]) == (301, "/docs/")


def test_missing_files_are_404_and_a_custom_404_page_is_used(site: App, make_repo: Callable[..., Path]) -> None:
    client = Client()
    assert client.get("/nope.js", HTTP_HOST=host(site)).status_code == 404
    branch = site.branches.get(name="main")
    assert branch.live_deployment is not None
    # A file held in the database, as deployments made before the hosting bucket are.
    branch.live_deployment.files.create(path="404.html", content_type="text/html; charset=utf-8", size=8, content=b"<p>gone")
    delivery._manifest.cache_clear()  # deployments never change once made: the cache must be told
    missing = client.get("/nope.js", HTTP_HOST=host(site))
    assert (missing.status_code, missing.content) == (404, b"<p>gone")


def test_hosted_sites_need_no_login_and_are_read_only(site: App) -> None:
    client = Client()
    assert client.get("/", HTTP_HOST=host(site)).status_code == 200
    assert client.post("/", HTTP_HOST=host(site)).status_code == 405


def test_paths_cannot_escape_the_deployment(site: App) -> None:
    response = Client().get("/../../etc/passwd", HTTP_HOST=host(site))
    assert response.status_code == 404


def test_unknown_branch_or_app_or_nothing_deployed_is_404(site: App) -> None:
    client = Client()
    assert client.get("/", HTTP_HOST=host(site, "nope")).status_code == 404
    assert client.get("/", HTTP_HOST="main.dzzzzzzzzzzzzz.localhost:8000").status_code == 404
    from apps.branches import services

    services.branch_connect(actor=None, app=site, name="dev")
    empty = client.get("/", HTTP_HOST=host(site, "dev"))
    assert empty.status_code == 404
    assert b"first successful build" in empty.content


def test_the_console_itself_is_not_a_hosted_site(site: App) -> None:
    response = Client().get("/", HTTP_HOST="localhost:8000")
    assert response.status_code == 302  # the console's sign-in redirect


def test_path_based_url_needs_login_and_is_sandboxed(site: App, viewer_client: Client, outsider_client: Client) -> None:
    url = f"/sites/{site.app_id}/main/"
    assert outsider_client.get(url).status_code == 302
    page = viewer_client.get(url)
    assert page.content == b"<h1>home</h1>"
    assert page["Content-Security-Policy"].startswith("sandbox")
    assert viewer_client.get(url + "app.css")["Content-Type"] == "text/css; charset=utf-8"
    assert viewer_client.get(url + "docs")["Location"] == f"/sites/{site.app_id}/main/docs/"


def test_the_switch_to_a_new_deployment_is_one_update(site: App) -> None:
    branch = site.branches.get(name="main")
    first = branch.live_deployment_id
    job = build(site)
    branch = Branch.objects.get(pk=branch.pk)
    assert branch.live_deployment_id == job.deployment.pk != first


def test_the_console_preview_asks_signed_in_users_no_password_and_sends_no_custom_headers(
    site: App, viewer_client: Client
) -> None:
    from apps.hosting import services as hosting

    hosting.set_basic_auth(actor=None, app=site, enabled=True, username="team", password="preview-pass-1")
    # HSTS from a site must not reach the console's own origin, where /sites/ is served.
    headers = (
        "customHeaders:\n  - pattern: '**/*'\n    headers:\n"
        "      - key: Strict-Transport-Security\n        value: max-age=63072000\n"
    )
    hosting.set_custom_headers(actor=None, app=site, text=headers)

    preview = viewer_client.get(f"/sites/{site.app_id}/main/")
    assert preview.status_code == 200
    assert "Strict-Transport-Security" not in preview
    assert preview["Content-Security-Policy"].startswith("sandbox")

    visitor = Client().get("/", HTTP_HOST=host(site))
    assert visitor.status_code == 401  # the branch URL still asks
    assert Client().get(f"/sites/{site.app_id}/main/").status_code == 302  # and the preview needs a sign-in


def test_a_revalidation_costs_one_query_and_every_change_is_seen_at_the_next_request(
    site: App, django_assert_num_queries: Any
) -> None:
    from apps.branches import services
    from apps.hosting import services as hosting
    from apps.hosting.selectors import parse_rules

    services.branch_connect(actor=None, app=site, name="dev")  # more branches, same cost
    hosting.set_basic_auth(actor=None, app=site, enabled=True, username="team", password="preview-pass-1")
    auth = "Basic dGVhbTpwcmV2aWV3LXBhc3MtMQ=="  # team:preview-pass-1
    client = Client()
    first = client.get("/docs/", HTTP_HOST=host(site), HTTP_AUTHORIZATION=auth)
    assert first.status_code == 200
    # The branches' versions only: the branch with its deployment, rules, headers and both
    # password settings is kept in memory for that version.
    with django_assert_num_queries(1):
        again = client.get("/docs/", HTTP_HOST=host(site), HTTP_AUTHORIZATION=auth, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    with django_assert_num_queries(1):
        assert client.get("/docs/", HTTP_HOST=host(site)).status_code == 401

    hosting.set_basic_auth(actor=None, app=site, enabled=False)
    assert client.get("/docs/", HTTP_HOST=host(site)).status_code == 200  # the app-wide row changed
    main = site.branches.get(name="main")
    hosting.set_basic_auth(actor=None, app=site, branch=main, enabled=True, username="own", password="branch-pass-1")
    assert client.get("/docs/", HTTP_HOST=host(site)).status_code == 401  # the branch's own row appeared
    hosting.clear_branch_basic_auth(actor=None, branch=main)
    assert client.get("/docs/", HTTP_HOST=host(site)).status_code == 200  # and went
    hosting.set_custom_rules(actor=None, app=site, rules=parse_rules([{"source": "/docs/", "target": "/", "status": "302"}]))
    assert client.get("/docs/", HTTP_HOST=host(site)).status_code == 302  # the site settings changed
