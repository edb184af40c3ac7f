"""Which part of a compute deployment answers a request: its routes, in order.

The first route whose pattern matches the path decides: a Static target serves the
file of that path from the hosting store (with the route's Cache-Control, if any),
falling back to the route's fallback target when there is no such file; a Compute
target passes the request to the deployment's server. Static files never wake a
server."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound

from apps.compute import proxy
from apps.compute.manifest import DeployManifest, Route, Target, match_route
from apps.compute.models import ComputeDeployment
from apps.hosting.models import Deployment
from apps.hosting.selectors import Answer, Entry, file_response

READ_ONLY = ("GET", "HEAD")


@lru_cache(maxsize=256)
def _routes(deployment_pk: int, created: float) -> tuple[Route, ...] | None:
    found = ComputeDeployment.objects.filter(deployment_id=deployment_pk).values_list("manifest", flat=True).first()
    if found is None:
        return None
    return DeployManifest.from_json(found).routes


def compute_routes(deployment: Deployment) -> tuple[Route, ...] | None:
    """The deployment's routes, or None for a deployment of static files only (read once per process)."""
    return _routes(deployment.pk, deployment.created_at.timestamp())


def resolve_route(routes: tuple[Route, ...], files: dict[str, Entry], path: str) -> tuple[Target | None, Entry | None]:
    """What answers `path` (after rewrites): (the Static target and its file) or (the Compute
    target, None) or (None, None) for not found. Shared with the edge (apps.edge), which
    must decide exactly as this process would."""
    route = match_route(routes, path)
    if route is None:
        return None, None
    target = route.target
    if target.kind == "Static":
        entry = files.get(unquote(path).lstrip("/"))
        if entry is not None:
            return target, entry
        if route.fallback is None:
            return None, None
        target = route.fallback
    return (target, None) if target.kind == "Compute" else (None, None)


def serve_compute(
    request: HttpRequest,
    deployment: Deployment,
    files: dict[str, Entry],
    routes: tuple[Route, ...],
    path: str,
    *,
    preview: bool,
    not_found: Answer | None = None,
) -> Answer:
    target, entry = resolve_route(routes, files, path)
    if target is None:
        return not_found or HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
    if entry is not None:
        if request.method not in READ_ONLY:
            return HttpResponse("Static files are read-only.", status=405, content_type="text/plain")
        response = file_response(request, deployment, entry)
        if target.cache_control:
            response["Cache-Control"] = target.cache_control
        return response
    if preview:
        # The console's own origin never runs a site's server code: it is served at the branch URL.
        return HttpResponse(
            "This path is rendered by the app's server: open it at the branch URL.",
            status=200,
            content_type="text/plain; charset=utf-8",
        )
    return proxy.forward(request, deployment.pk, path)


class ComputeRouter:
    """Hosting's router for compute deployments (registered in apps.py)."""

    def serves(self, deployment: Deployment) -> bool:
        return compute_routes(deployment) is not None

    def answer(
        self,
        request: HttpRequest,
        deployment: Deployment,
        files: dict[str, Entry],
        path: str,
        *,
        preview: bool,
        not_found: Answer | None,
    ) -> Answer:
        routes = compute_routes(deployment) or ()
        return serve_compute(request, deployment, files, routes, path, preview=preview, not_found=not_found)


ROUTER = ComputeRouter()
