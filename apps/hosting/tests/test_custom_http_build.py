"""customHttp.yml in the repository: read at build time, it reaches the branch URL's
responses in place of the app's custom headers; a bad one fails the build, saying why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from apps.builds.tests.builds import SITE_SPEC, build, log_of, make_app
from apps.hosting import services as hosting

CUSTOM_HTTP = """customHeaders:
  - pattern: '**/*'
    headers:
      - key: Strict-Transport-Security
        value: max-age=31536000; includeSubDomains
  - pattern: '*.css'
    headers:
      - key: Cache-Control
        value: public, max-age=600
"""
pytestmark = pytest.mark.django_db

APP_HEADERS = "customHeaders:\n  - pattern: '**/*'\n    headers:\n      - key: X-From-App\n        value: 'yes'\n"


def test_custom_http_yml_reaches_responses_and_wins_over_the_app_setting(make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo, files={"README.md": "x\n", "customHttp.yml": CUSTOM_HTTP})
    hosting.set_custom_headers(actor=None, app=app, text=APP_HEADERS)
    job = build(app)
    assert job.status == "SUCCEED", log_of(job)
    assert "## customHttp.yml: 2 header rules" in log_of(job)

    host = f"main.{app.app_id}.localhost:8000"
    page = Client().get("/", HTTP_HOST=host)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "X-From-App" not in page  # the repository's file takes the place of the app's setting
    css = Client().get("/app.css", HTTP_HOST=host)
    assert css["Cache-Control"] == "public, max-age=600"  # a custom header may set the caching policy


def test_the_app_setting_applies_to_a_build_without_custom_http_yml(make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo)
    hosting.set_custom_headers(actor=None, app=app, text=APP_HEADERS)
    assert build(app).status == "SUCCEED"
    assert Client().get("/", HTTP_HOST=f"main.{app.app_id}.localhost:8000")["X-From-App"] == "yes"


def test_a_bad_custom_http_yml_fails_the_build_and_keeps_the_live_site(make_repo: Callable[..., Path]) -> None:
    app = make_app(make_repo, spec=SITE_SPEC)
    assert build(app).status == "SUCCEED"
    live = app.branches.get(name="main").live_deployment

    # The repository moves to one whose customHttp.yml sets a header only the server may set.
    bad = CUSTOM_HTTP.replace("Strict-Transport-Security", "Content-Length")
    app.repository = str(make_repo(("main",), files={"amplify.yml": SITE_SPEC, "customHttp.yml": bad}))
    app.save(update_fields=["repository"])
    job = build(app)
    assert job.status == "FAILED"
    assert job.status_reason.startswith("customHttp.yml is invalid:")
    assert "Content-Length" in job.status_reason
    assert app.branches.get(name="main").live_deployment == live
