"""What the edge knows of a host: enough to pass a server-rendered request straight to its server.

A plan is read by the console's own code (hosting's branch lookup, password setting, rewrite
rules, custom headers; compute's routes), in a thread, and kept for EDGE_PLAN_SECONDS: a
saved change reaches the edge within that time. `decide` then answers each request in
memory. It says "compute" only when the console would pass the request to the server
itself, after the same checks in the same order; for everything else (the console's own
pages, static files, redirects, password challenges, a site with nothing deployed) it says
nothing and the edge hands the request to the console, which answers as it always has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.db import close_old_connections

from apps.compute.selectors import compute_routes, resolve_route
from apps.hosting.selectors import (
    Entry,
    HeaderRule,
    Rule,
    check_authorization,
    effective_basic_auth,
    evaluate,
    header_rules_of,
    headers_for,
    manifest,
    resolve,
    rules_of,
    site_for_host,
)


@dataclass(frozen=True)
class SitePlan:
    """A branch's live compute deployment as serving reads it."""

    app_pk: int
    branch_pk: int
    branch_name: str
    deployment_pk: int
    routes: tuple[Any, ...]
    files: dict[str, Entry]
    rules: tuple[Rule, ...]
    header_rules: tuple[HeaderRule, ...]
    protection: Any  # the BasicAuth row that guards the site, or None

    @property
    def protected(self) -> bool:
        return self.protection is not None


@dataclass(frozen=True)
class Compute:
    """Pass the request to the deployment's server for `path`; add `headers` to its answer."""

    deployment_pk: int
    path: str
    headers: list[tuple[str, str]]


def plan_for_host(host: str) -> SitePlan | None:
    """The plan of the site `host` names, or None: not a site with a live compute deployment
    (the console answers those). Runs database queries: call it in a thread."""
    close_old_connections()  # a connection the database dropped is replaced, as per request in Django
    branch = site_for_host(host)
    if not hasattr(branch, "live_deployment"):
        return None
    deployment = branch.live_deployment  # type: ignore[union-attr]
    if deployment is None or not deployment.complete:
        return None
    routes = compute_routes(deployment)
    if routes is None:
        return None  # static files only: the console serves them
    app = branch.app  # type: ignore[union-attr]
    return SitePlan(
        app_pk=app.pk,
        branch_pk=branch.pk,  # type: ignore[union-attr]
        branch_name=branch.name,  # type: ignore[union-attr]
        deployment_pk=deployment.pk,
        routes=routes,
        files=manifest(deployment),
        rules=rules_of(app),
        header_rules=header_rules_of(app, deployment),
        protection=effective_basic_auth(app, branch),
    )


def authorized(plan: SitePlan, authorization: str | None) -> bool:
    """Whether the request may see the site (its first check may hash a password: a thread's work)."""
    return plan.protection is None or check_authorization(authorization, plan.protection)


def decide(plan: SitePlan, path: str, query: str) -> Compute | None:
    """Compute when the console would pass this (authorized) request to the server, else None.

    `path` is decoded as Django's request.path is. The order is serving.py's: the app's
    rewrite and redirect rules, then the deployment's routes, then custom headers for the
    served path."""
    files = plan.files
    outcome = evaluate(plan.rules, path, query, lambda candidate: resolve(files, candidate)[0] is not None)
    if outcome is not None and outcome.redirect:
        return None
    target_path = path if outcome is None else unquote(outcome.location.split("?", 1)[0])
    target, entry = resolve_route(plan.routes, files, target_path)
    if target is None or entry is not None:
        return None  # not found (the site's 404 page) or a static file: the console's
    served = "/" + target_path.lstrip("/")
    return Compute(plan.deployment_pk, target_path, headers_for(plan.header_rules, served))
