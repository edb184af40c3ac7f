"""Hosting's actions, for other apps and for its own views (the public surface)."""

from __future__ import annotations

from apps.hosting import access_log
from apps.hosting.access_control import clear_branch_basic_auth as clear_branch_basic_auth
from apps.hosting.access_control import set_basic_auth as set_basic_auth
from apps.hosting.access_control import set_custom_headers as set_custom_headers
from apps.hosting.access_log import Hit as Hit
from apps.hosting.domains import domain_check_request as domain_check_request
from apps.hosting.domains import domain_create as domain_create
from apps.hosting.domains import domain_delete as domain_delete
from apps.hosting.domains import domain_update as domain_update
from apps.hosting.dynamic import register_dynamic_router as register_dynamic_router
from apps.hosting.publishing import Published as Published
from apps.hosting.publishing import SourceFile as SourceFile
from apps.hosting.publishing import hold_store_lock as hold_store_lock
from apps.hosting.publishing import publish as publish
from apps.hosting.publishing import redeploy as redeploy
from apps.hosting.site_rules import set_custom_rules as set_custom_rules
from apps.hosting.store import cache_key as cache_key
from apps.hosting.store import delete_keys as delete_keys
from apps.hosting.store import ensure_bucket as ensure_bucket
from apps.hosting.store import get_blob as get_blob
from apps.hosting.store import get_blob_size as get_blob_size
from apps.hosting.store import iter_objects as iter_objects
from apps.hosting.store import put_blob as put_blob


def record_hit(hit: Hit) -> None:
    """One hosted request in the access log (buffered; never blocks on the database)."""
    access_log.record(hit)
