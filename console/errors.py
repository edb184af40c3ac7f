"""The page for an unhandled error. When the cause is a service the console depends on
being briefly away (the database, Redis, the task queue restarting), it says so with a
503, a Retry-After and a hint, instead of a generic 500: the request may well work in a
few seconds. It renders without the database or the session, which may be what failed."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER_SECONDS = 5
_OUTAGES = (OperationalError, InterfaceError, BrokerUnreachable, RedisConnectionError, RedisTimeoutError)
_SERVICE_NAMES = {OperationalError: "the database", InterfaceError: "the database", BrokerUnreachable: "the task queue"}


def _service_away(error: BaseException | None) -> str:
    """Which service an exception says is unreachable, or "" when it is another kind of error."""
    while error is not None:
        if isinstance(error, _OUTAGES):
            for kind, name in _SERVICE_NAMES.items():
                if isinstance(error, kind):
                    return name
            return "the cache"
        error = error.__cause__ or error.__context__
    return ""


def server_error(request: HttpRequest) -> HttpResponse:
    service = _service_away(sys.exc_info()[1])
    if service:
        page = loader.get_template("503.html").render({"service": service, "retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
