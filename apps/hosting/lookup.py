"""Which branch a branch URL names, with everything serving needs, at the cost of one query.

The first query of every hosted request lists the app's branches with a version of what
serving depends on: the live deployment, the app and branch rows, the app's site settings
and both password settings (their update times). The branch read with all of those
(a query whose SQL alone costs Django a few milliseconds to build) is kept in this
process under that version, so a change of any of them is seen at the very next request,
and an unchanged site is served from memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from apps.branches.models import Branch
from apps.hosting.models import BasicAuth
from apps.hosting.protection import APP_AUTH_FIELDS

MAX_KEPT = 512
# What serving reads with a branch: its deployment, the app's rules and headers, its password setting.
SERVED_WITH = ("app", "live_deployment", "app__site_settings", "basic_auth")
_kept: OrderedDict[tuple[Any, ...], Branch] = OrderedDict()
_lock = threading.Lock()


def hosting_host() -> str:
    """The host name under which branch URLs live (HOSTING_DOMAIN without its port)."""
    return str(settings.HOSTING_DOMAIN).split(":")[0].lower()


def _app_wide() -> QuerySet[BasicAuth]:
    return BasicAuth.objects.filter(app=OuterRef("app_id"), branch__isnull=True)


def served_branches() -> QuerySet[Branch]:
    """Branches with all a request needs in one query: the deployment, the app's rules and
    headers, the branch's password setting and the app-wide one (annotated: protection.py)."""
    return (
        Branch.objects.select_related(*SERVED_WITH)
        # The backend's outputs (tens of kB of JSON in real apps) and the build spec are not for serving.
        .defer("backend_outputs", "backend_outputs_unowned", "app__build_spec", "app__repository_credentials_sealed")
        .annotate(**{f"app_auth_{field}": Subquery(_app_wide().values(field)[:1]) for field in APP_AUTH_FIELDS})
    )


def _versions_query(app_id: str) -> QuerySet[Any]:
    return (
        Branch.objects.filter(app__app_id=app_id)
        .annotate(app_auth_updated=Subquery(_app_wide().values("updated_at")[:1]))
        .values_list(
            "pk",
            "display_name",
            "updated_at",
            "live_deployment_id",
            "live_deployment__live_since",  # a rollback to a deployment served before
            "app__updated_at",
            "app__site_settings__updated_at",
            "basic_auth__updated_at",
            "app_auth_updated",
        )
    )


# Building that query's SQL costs Django about 2 ms, more than the database takes to answer
# it: it is built once per database connection alias, with a marker where the app id goes.
_APP_ID_MARK = "\x00app-id\x00"
_compiled: dict[str, tuple[str, tuple[Any, ...]]] = {}


def _versions(app_id: str) -> list[tuple[Any, ...]]:
    """(pk, display_name, and the update times of what serving reads) of each branch of the app."""
    compiled = _compiled.get(connection.alias)
    if compiled is None:
        sql, params = _versions_query(_APP_ID_MARK).query.sql_with_params()
        compiled = _compiled[connection.alias] = (sql, tuple(params))
    sql, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, [app_id if param == _APP_ID_MARK else param for param in params])
        return [tuple(row) for row in cursor.fetchall()]


def _remember(key: tuple[Any, ...], branch: Branch) -> None:
    with _lock:
        _kept[key] = branch
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)


def forget() -> None:
    with _lock:
        _kept.clear()


def branch_for_host(host: str) -> Branch | bool | None:
    """The branch a Host header names; False if the host is not a branch URL at all."""
    hostname = host.split(":")[0].lower().rstrip(".")
    suffix = "." + hosting_host()
    if not hostname.endswith(suffix):
        return False
    labels = hostname[: -len(suffix)].split(".")
    if len(labels) != 2:
        return False
    label, app_id = labels
    # The label is derived from the display name in Python: match on the names (an app has up
    # to 50 branches), then take the branch as kept for that version, or read it.
    for version in _versions(app_id):
        if Branch(display_name=version[1]).hostname_label != label:
            continue
        with _lock:
            kept = _kept.get(version)
        if kept is not None:
            return kept
        found = served_branches().filter(pk=version[0]).first()
        if found is not None:
            _remember(version, found)
        return found
    return None
