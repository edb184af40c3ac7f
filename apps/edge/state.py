"""What all of the edge's connections share: the console's address, the sites' plans as kept,
the servers' ports as asked, kept-alive upstream connections, the open visitor connections."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from django.db import connections

from apps.compute import services as compute
from apps.edge.plans import SitePlan, plan_for_host
from apps.edge.upstream import Pool

if TYPE_CHECKING:
    from apps.edge.server import Connection

logger = logging.getLogger(__name__)

MAX_PLANS = 1024


class Edge:
    """What all connections share: the console's address, kept plans, upstream connections."""

    def __init__(self, console: str | tuple[str, int], plan_seconds: float) -> None:
        self.console = console
        self.plan_seconds = plan_seconds
        self.pool = Pool()
        self._plans: OrderedDict[str, tuple[float, SitePlan | None]] = OrderedDict()
        # One thread for plans: one database connection, reads in order. Ports may wait for a
        # cold start (seconds): threads of their own, so that a start never holds up plans.
        self.plan_thread = ThreadPoolExecutor(1, thread_name_prefix="edge-plans")
        self.port_threads = ThreadPoolExecutor(8, thread_name_prefix="edge-ports")
        self.connections: set[Connection] = set()
        self.stopping = False

    async def plan(self, host: str) -> SitePlan | None:
        key = host.lower()
        kept = self._plans.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        try:
            found = await asyncio.get_running_loop().run_in_executor(self.plan_thread, plan_for_host, host)
        except Exception:  # the database is down, say: the console answers, and says so
            logger.warning("No plan for host %r; the console answers its requests", host, exc_info=True)
            return None
        self._plans[key] = (time.monotonic() + self.plan_seconds, found)
        self._plans.move_to_end(key)
        while len(self._plans) > MAX_PLANS:
            self._plans.popitem(last=False)
        return found

    def forget_plans(self) -> None:
        self._plans.clear()

    async def port(self, deployment_pk: int, *, fresh: bool = False) -> int | None:
        """The server's port (asking hostd, which starts it if need be); None when it cannot run."""
        known = None if fresh else compute.known_port(deployment_pk)
        if known is not None:
            return known
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.port_threads, lambda: compute.server_port(deployment_pk, fresh=fresh))
        except (compute.HostdUnavailable, compute.ServerDown):
            return None  # the console asks again and answers 503 with the reason

    def close(self) -> None:
        self.pool.close()
        # The plan thread's database connection is closed on that thread before it ends (a
        # connection left open keeps the database busy: a test database could not be dropped).
        self.plan_thread.submit(connections.close_all)
        self.plan_thread.shutdown(wait=True)
        self.port_threads.shutdown(wait=False, cancel_futures=True)
