"""Serving a branch's live deployment.

At `http://<branch>.<appId>.<HOSTING_DOMAIN>/` and at the custom domains mapped to
the branch (any visitor, like Amplify's URLs), and at `/sites/<appId>/<branch>/` on
the console (signed-in users, sandboxed so the site's scripts cannot act as the
console). Each request: password protection, then the app's rewrite and redirect
rules, then the file (delivery.py) with the custom headers; then one line in the
access log (not for the console's own preview: that is not traffic).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, StreamingHttpResponse
from django.http.request import split_domain_port
from django.utils import timezone

from apps.branches.models import App, Branch
from apps.hosting import access_log, domains, dynamic
from apps.hosting.custom_headers import HeaderRule, HeadersInvalid, headers_for, monorepo_app_root, parse_custom_headers
from apps.hosting.delivery import Answer, Entry, file_response, manifest, resolve
from apps.hosting.lookup import branch_for_host as branch_for_host
from apps.hosting.models import Deployment, SiteSettings
from apps.hosting.protection import challenge, check_authorization, effective_basic_auth
from apps.hosting.rules import Rule, RulesInvalid, evaluate, parse_rules
from console.client_address import client_address

logger = logging.getLogger(__name__)

NOTHING_DEPLOYED = "Nothing is deployed here yet: the branch's first successful build will publish it."


def site_for_host(raw_host: str) -> Branch | bool | None:
    """The branch a request's Host serves: a branch URL or a custom domain; False: the console's."""
    hostname, _ = split_domain_port(raw_host)
    if not hostname:
        return False
    found = branch_for_host(hostname)
    if found is not False:
        return found
    if _console_name(hostname):
        return False  # no custom domain can be one of these (domains.py refuses them): no query
    return domains.branch_for_custom_host(hostname.rstrip(".")) or False


def _console_name(hostname: str) -> bool:
    """The console's own names and IP addresses: names domains.py refuses as custom domains."""
    return hostname in domains.console_host_names() or domains.is_ip_address(hostname)


@lru_cache(maxsize=256)
def _rules(settings_pk: int, updated: float) -> tuple[Rule, ...]:
    found = SiteSettings.objects.filter(pk=settings_pk).values_list("custom_rules", flat=True).first()
    try:
        return tuple(parse_rules(found or []))
    except RulesInvalid:
        # Saved by other means and not valid: the site is served without them (the rules
        # page shows what is wrong) rather than failing every request.
        logger.warning("The rewrite rules of site settings %s are invalid; serving without them", settings_pk)
        return ()


@lru_cache(maxsize=256)
def _header_rules(text: str, app_root: str | None) -> tuple[HeaderRule, ...]:
    try:
        return tuple(parse_custom_headers(text, app_root=app_root))
    except HeadersInvalid as error:
        logger.warning("Custom headers are invalid (%s); serving without them", error)
        return ()


def site_settings_of(app: App) -> SiteSettings | None:
    try:
        return app.site_settings
    except SiteSettings.DoesNotExist:
        return None


def rules_of(app: App) -> tuple[Rule, ...]:
    found = site_settings_of(app)
    if found is None or not found.custom_rules:
        return ()
    # Keyed by when they last changed: a saved change applies at the next request.
    return _rules(found.pk, found.updated_at.timestamp())


def header_rules_of(app: App, deployment: Deployment) -> tuple[HeaderRule, ...]:
    """customHttp.yml of the deployment wins over the app's setting, as in Amplify."""
    text = deployment.custom_headers
    if not text.strip():
        found = site_settings_of(app)
        text = found.custom_headers if found is not None else ""
    if not text.strip():
        return ()
    # Only the monorepo form (`applications:`) needs the app's root, which costs a query.
    return _header_rules(text, monorepo_app_root(app) if "applications" in text else None)


def _not_found(request: HttpRequest, deployment: Deployment, files: dict[str, Entry]) -> Answer:
    custom = files.get("404.html")
    if custom is not None:
        return file_response(request, deployment, custom, status=404)
    return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")


def _redirect(status: int, location: str, prefix: str) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Location"] = prefix + location if location.startswith("/") else location
    return response


def _answer(request: HttpRequest, branch: Branch, path: str, prefix: str, preview: bool) -> tuple[Answer, str]:
    """The response and the served path (for custom headers)."""
    deployment = branch.live_deployment
    if deployment is None or not deployment.complete:
        return HttpResponseNotFound(NOTHING_DEPLOYED, content_type="text/plain; charset=utf-8"), path
    files = manifest(deployment)
    outcome = evaluate(
        rules_of(branch.app), path, request.META.get("QUERY_STRING", ""), lambda p: resolve(files, p)[0] is not None
    )
    if outcome is not None and outcome.redirect:
        return _redirect(outcome.status, outcome.location, prefix), path
    router = dynamic.router_for(deployment)
    if router is not None:
        # A deployment with routes of its own (a server-rendered app): they decide.
        target = path if outcome is None else unquote(outcome.location.split("?", 1)[0])
        not_found = _not_found(request, deployment, files) if "404.html" in files else None
        return router.answer(request, deployment, files, target, preview=preview, not_found=not_found), target
    if outcome is not None:
        target = unquote(outcome.location.split("?", 1)[0])
        found, _ = resolve(files, target)
        if found is None:
            return _not_found(request, deployment, files), target
        return file_response(request, deployment, found, status=outcome.status), target
    found, redirect = resolve(files, path)
    if redirect:
        return _redirect(301, redirect, prefix), path
    if found is None:
        return _not_found(request, deployment, files), path
    return file_response(request, deployment, found), path


def serve_deployment(
    request: HttpRequest, branch: Branch | None, path: str, *, prefix: str = "", preview: bool = False
) -> Answer:
    """The hosted answer for `path` of the branch's site. `preview`: the console's own view,
    for signed-in users, who are not asked for the site's password again and get no custom headers."""
    if branch is None:
        return HttpResponseNotFound(NOTHING_DEPLOYED, content_type="text/plain; charset=utf-8")
    if not preview:
        protection = effective_basic_auth(branch.app, branch)
        if protection is not None and not check_authorization(request.headers.get("Authorization"), protection):
            return challenge(f"{branch.app.name} ({branch.name})")
    response, served = _answer(request, branch, path, prefix, preview)
    # Not on the console's own origin (`preview`): a site's HSTS, CORS or cross-origin
    # policy headers would apply to the console itself.
    if not preview and branch.live_deployment is not None and response.status_code < 500:
        for name, value in headers_for(header_rules_of(branch.app, branch.live_deployment), "/" + served.lstrip("/")):
            response[name] = value
    return response


def _has_server(branch: Branch | bool | None) -> bool:
    """Whether the branch serves a server-rendered app, whose server may take any method."""
    if not isinstance(branch, Branch) or branch.live_deployment is None:
        return False
    return dynamic.router_for(branch.live_deployment) is not None


def _length(response: Answer, method: str) -> int:
    if method == "HEAD":
        return 0
    if isinstance(response, StreamingHttpResponse):
        return int(response.get("Content-Length") or 0)
    return len(response.content)


class HostedSiteMiddleware:
    """Answers requests whose Host is a branch URL or a custom domain before the console sees them.

    The raw Host header, not get_host(): custom domains are not in ALLOWED_HOSTS, and
    only hosts that name a configured site are answered here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
        branch = site_for_host(raw_host)
        if branch is False:
            return self.get_response(request)
        started = time.perf_counter()
        if request.method not in ("GET", "HEAD") and not _has_server(branch):
            response: Answer = HttpResponse("Hosted sites are read-only.", status=405, content_type="text/plain")
        else:
            response = serve_deployment(request, branch if isinstance(branch, Branch) else None, request.path)
        if isinstance(branch, Branch):
            self._log(request, branch, raw_host, response, started)
        return response  # type: ignore[return-value]  # streaming answers are responses too

    @staticmethod
    def _log(request: HttpRequest, branch: Branch, host: str, response: Answer, started: float) -> None:
        query = request.META.get("QUERY_STRING", "")
        access_log.record(
            access_log.Hit(
                time=timezone.now(),
                app_id=branch.app_id,
                branch_id=branch.pk,
                branch_name=branch.name,
                method=str(request.method),
                host=host,
                path=request.path + ("?" + query if query else ""),
                status=response.status_code,
                bytes_sent=_length(response, str(request.method)),
                duration_ms=(time.perf_counter() - started) * 1000,
                client_ip=client_address(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        )
