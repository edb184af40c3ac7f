"""Serving a branch's live deployment.

At `http://<branch>.<appId>.<HOSTING_DOMAIN>/` (any visitor, like Amplify's
branch URLs) and at `/sites/<appId>/<branch>/` on the console (signed-in users,
sandboxed so the site's scripts cannot act as the console).
"""

from __future__ import annotations

from collections.abc import Callable
from posixpath import normpath

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponsePermanentRedirect

from apps.branches.models import App, Branch
from apps.hosting.models import DeployedFile, Deployment


def _hosting_host() -> str:
    return str(settings.HOSTING_DOMAIN).split(":")[0].lower()


def branch_for_host(host: str) -> Branch | bool | None:
    """The branch a Host header names; False if the host is not a branch URL at all."""
    hostname = host.split(":")[0].lower().rstrip(".")
    suffix = "." + _hosting_host()
    if not hostname.endswith(suffix):
        return False
    labels = hostname[: -len(suffix)].split(".")
    if len(labels) != 2:
        return False
    label, app_id = labels
    app = App.objects.filter(app_id=app_id).first()
    if app is None:
        return None
    return next((b for b in app.branches.select_related("live_deployment") if b.hostname_label == label), None)


def _find(deployment: Deployment, path: str) -> tuple[DeployedFile | None, str | None]:
    """(file, redirect): directories get index.html; `/dir` becomes `/dir/`."""
    clean = normpath("/" + path).lstrip("/")
    if clean in ("", "."):
        clean = ""
    files = deployment.files
    if clean and not path.endswith("/"):
        found = files.filter(path=clean).first()
        if found:
            return found, None
        if files.filter(path=f"{clean}/index.html").exists():
            return None, "/" + clean + "/"
        return None, None
    return files.filter(path=f"{clean}/index.html".lstrip("/")).first(), None


def serve_deployment(branch: Branch | None, path: str, *, prefix: str = "") -> HttpResponse:
    deployment = branch.live_deployment if branch else None
    if deployment is None:
        return HttpResponseNotFound(
            "Nothing is deployed here yet: the branch's first successful build will publish it.",
            content_type="text/plain; charset=utf-8",
        )
    found, redirect = _find(deployment, path)
    if redirect:
        return HttpResponsePermanentRedirect(prefix + redirect)
    if found is None:
        custom = deployment.files.filter(path="404.html").first()
        if custom:
            return HttpResponseNotFound(bytes(custom.content), content_type=custom.content_type)
        return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
    response = HttpResponse(bytes(found.content), content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-cache" if found.content_type.startswith("text/html") else "public, max-age=300"
    return response


class HostedSiteMiddleware:
    """Answers requests whose Host is a branch URL before the console sees them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        branch = branch_for_host(request.get_host())
        if branch is False:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse("Hosted sites are read-only.", status=405, content_type="text/plain")
        return serve_deployment(branch if isinstance(branch, Branch) else None, request.path)
