"""The console's view of a branch's site (signed-in users); visitors use the branch URL."""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from apps.branches import selectors
from apps.hosting.serving import serve_deployment


@require_GET
def hosted_site(request: HttpRequest, app_id: str, branch: str, path: str = "") -> HttpResponseBase:
    branch_obj = selectors.branch_get(selectors.app_get(app_id), branch)
    prefix = f"/sites/{app_id}/{branch_obj.display_name}"
    response = serve_deployment(request, branch_obj, "/" + path, prefix=prefix, preview=True)
    # Same origin as the console: an opaque-origin sandbox keeps the site's scripts out of it.
    response["Content-Security-Policy"] = "sandbox allow-scripts allow-forms allow-popups"
    return response
