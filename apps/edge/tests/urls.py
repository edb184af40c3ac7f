"""A console page for the WSGI tests: who the console believes the visitor is."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from console.client_address import client_address


@login_not_required
def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(client_address(request) or "-", content_type="text/plain")


urlpatterns = [path("whoami", whoami)]
