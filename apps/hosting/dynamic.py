"""The extension point of hosting for deployments that answer with a server, not only files.

apps.compute (server-rendered apps) registers a router here when Django starts, so
hosting never imports it. For each hosted request, after password protection and the
app's redirects, a registered router may take the request (its deployment has routes of
its own); otherwise the deployment's files answer as usual."""

from __future__ import annotations

from typing import Protocol

from django.http import HttpRequest

from apps.hosting.delivery import Answer, Entry
from apps.hosting.models import Deployment


class DynamicRouter(Protocol):
    def serves(self, deployment: Deployment) -> bool:
        """Whether the deployment has routes of its own (cached: called on every request)."""

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
        """The response for `path` (after rewrites) of a deployment it serves."""


_routers: list[DynamicRouter] = []


def register_dynamic_router(router: DynamicRouter) -> None:
    if router not in _routers:
        _routers.append(router)


def router_for(deployment: Deployment) -> DynamicRouter | None:
    return next((router for router in _routers if router.serves(deployment)), None)
