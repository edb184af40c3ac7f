"""Riding out a database that is briefly away (a PostgreSQL restart or failover).

A worker's long-lived connection dies with the server; Django reconnects only when told
the old connection is gone. Code that can wait (a build's heartbeat and log flushes)
catches DATABASE_AWAY, forgets the connection and tries again at its next tick.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)
DATABASE_AWAY = (OperationalError, InterfaceError)


def forget_connection(error: BaseException) -> None:
    """Drop the dead connection so the next query opens a new one."""
    logger.warning("database unreachable, will retry: %s", str(error).strip()[:200])
    with contextlib.suppress(Exception):
        connection.close()
