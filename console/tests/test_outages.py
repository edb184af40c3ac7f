"""A service briefly away: pages answer 503 with a retry hint (never a traceback), and the
cache rides out a Redis that does not answer."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from kombu.exceptions import OperationalError as BrokerUnreachable

from console.cache import ResilientRedisCache
from console.emulator import free_port


def _database_away(request: HttpRequest) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


def _queue_away(request: HttpRequest) -> HttpResponse:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as error:
        raise BrokerUnreachable(str(error)) from error


def _bug(request: HttpRequest) -> HttpResponse:
    raise KeyError("secret-looking-detail")


urlpatterns = [path("db/", _database_away), path("queue/", _queue_away), path("bug/", _bug)]
handler500 = "console.errors.server_error"


@pytest.mark.urls("console.tests.test_outages")
@pytest.mark.parametrize(("url", "service"), [("/db/", "the database"), ("/queue/", "the task queue")])
def test_a_service_away_gives_a_503_with_a_retry_hint_and_no_traceback(url: str, service: str, admin_client: Client) -> None:
    admin_client.raise_request_exception = False
    response = admin_client.get(url)
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert f"cannot reach {service} right now" in page
    assert "Try again in 5 seconds" in page
    assert "Traceback" not in page
    assert "server closed the connection" not in page


@pytest.mark.urls("console.tests.test_outages")
def test_any_other_error_gives_the_plain_500_page(admin_client: Client) -> None:
    admin_client.raise_request_exception = False
    response = admin_client.get("/bug/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "secret-looking-detail" not in response.content.decode()


def test_the_cache_rides_out_a_redis_that_does_not_answer() -> None:
    cache = ResilientRedisCache(f"redis://127.0.0.1:{free_port()}/0", {})
    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("k", 0) is False
    assert cache.incr("k", 3) == 3, "a counter starts again (webhook rate limits fail open)"
    cache.set("k", 1)
    cache.delete("k")
    assert cache.get_many(["a", "b"]) == {}
