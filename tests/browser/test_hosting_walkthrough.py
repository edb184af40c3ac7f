"""A single-page app built for real and opened in Chromium at its branch URL: the
documented SPA rewrite serves deep links, assets stay assets, custom headers reach the
browser, and password protection asks and lets in only the right credentials."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError

from apps.branches.models import App
from apps.builds.tests.builds import build, log_of, make_app
from apps.hosting import services as hosting
from apps.hosting.selectors import parse_rules
from console.emulator import Emulator

pytestmark = pytest.mark.browser

SPA_RULE = {
    "source": "</^[^.]+$|\\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json|webp)$)([^.]+$)/>",
    "target": "/index.html",
    "status": "200",
}
# A client-side router: the page says which route it rendered, from the address bar.
INDEX = "<!doctype html><title>spa</title><div id=app>loading</div><script src=/router.js></script>"
ROUTER = "document.getElementById('app').textContent = 'Route: ' + location.pathname;"
SPEC = yaml.safe_dump(
    {
        "version": 1,
        "frontend": {
            "phases": {
                "build": {
                    "commands": [
                        "mkdir -p dist",
                        f"printf '%s' '{INDEX}' > dist/index.html",
                        f"printf '%s' \"{ROUTER}\" > dist/router.js",
                    ]
                }
            },
            "artifacts": {"baseDirectory": "dist", "files": ["**/*"]},
        },
    },
    width=10_000,
)


@pytest.fixture
def site(emulator: Emulator, live_server: Any, settings: Any, make_repo: Callable[..., Path]) -> Iterator[App]:
    from console.aws import clear_client_cache

    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    clear_client_cache()
    app = make_app(make_repo, spec=SPEC)
    job = build(app)
    assert job.status == "SUCCEED", f"{job.status_reason}\n{log_of(job)}"
    try:
        yield app
    finally:
        clear_client_cache()


def url(live_server: Any, app: App, path: str) -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://main.{app.app_id}.localhost:{port}{path}"


def test_the_spa_rule_serves_deep_links_of_a_built_app_in_chromium(site: App, live_server: Any, page: Any) -> None:
    hosting.set_custom_rules(actor=None, app=site, rules=parse_rules([SPA_RULE]))
    headers = "customHeaders:\n  - pattern: '**/*'\n    headers:\n      - key: X-Frame-Options\n        value: DENY\n"
    hosting.set_custom_headers(actor=None, app=site, text=headers)

    response = page.goto(url(live_server, site, "/account/settings"))
    assert response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    page.get_by_text("Route: /account/settings").wait_for()  # the router ran on the rewritten page

    script = page.goto(url(live_server, site, "/router.js"))
    assert script.status == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Route: " in script.text()  # an asset is itself, not the app's index.html

    missing = page.goto(url(live_server, site, "/missing.png"))
    assert missing.status == 404  # the rule leaves files with asset extensions alone


def refused(context: Any, address: str) -> bool:
    """Chromium shows the 401 page, or (headless, with nobody to ask or wrong credentials
    offered) gives the navigation up with ERR_INVALID_AUTH_CREDENTIALS: either way, refused."""
    try:
        return bool(context.new_page().goto(address).status == 401)
    except PlaywrightError as error:
        return "ERR_INVALID_AUTH_CREDENTIALS" in str(error)


def test_password_protection_asks_and_accepts_only_the_right_credentials(site: App, live_server: Any, browser: Any) -> None:
    hosting.set_basic_auth(actor=None, app=site, enabled=True, username="team", password="preview-pass-1")
    home = url(live_server, site, "/")

    anonymous = browser.new_context()
    try:
        assert refused(anonymous, home)
        # The challenge itself, read with the context's own HTTP client.
        port = live_server.url.rsplit(":", 1)[1]
        # Node's resolver (the context's HTTP client) knows no *.localhost: the same site by address.
        answer = anonymous.request.get(f"http://127.0.0.1:{port}/", headers={"Host": f"main.{site.app_id}.localhost"})
        assert answer.status == 401
        assert answer.headers["www-authenticate"].startswith("Basic realm=")
    finally:
        anonymous.close()

    wrong = browser.new_context(http_credentials={"username": "team", "password": "not-the-password"})
    try:
        assert refused(wrong, home)
    finally:
        wrong.close()

    right = browser.new_context(http_credentials={"username": "team", "password": "preview-pass-1"})
    try:
        tab = right.new_page()
        assert tab.goto(home).status == 200
        tab.get_by_text("Route: /").wait_for()
    finally:
        right.close()

    token = base64.b64encode(b"team:preview-pass-1").decode()
    assert token not in site.basic_auths.get(branch=None).password_hash
