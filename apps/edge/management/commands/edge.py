"""Run the edge (apps/edge) until SIGTERM or Ctrl-C: `manage.py edge --bind HOST:PORT`."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.edge.server import serve
from apps.edge.state import Edge


def console_address(text: str) -> str | tuple[str, int]:
    """`unix:/path` (or a path) or `host:port` (an IPv6 host in brackets, as for --bind)."""
    if text.startswith("unix:"):
        return text[len("unix:") :]
    host, colon, port = text.rpartition(":")
    if colon and port.isdigit() and host and "/" not in text:
        return host.strip("[]"), int(port)
    return text


class Command(BaseCommand):
    help = "The console's front door: server-rendered requests straight to their server, the rest to gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on (default 127.0.0.1:8000)")
        parser.add_argument(
            "--console",
            default=None,
            help="where gunicorn listens: unix:PATH (default EDGE_CONSOLE_SOCKET) or HOST:PORT",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, _, port = str(options["bind"]).rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"--bind must be HOST:PORT; got {options['bind']!r}.")
        console = console_address(options["console"] or f"unix:{settings.EDGE_CONSOLE_SOCKET}")
        edge = Edge(console, settings.EDGE_PLAN_SECONDS)

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)

            def ready(bound: int) -> None:
                self.stdout.write(f"edge: listening on {host}:{bound}, the console at {console}")
                self.stdout.flush()

            await serve(edge, host.strip("[]"), int(port), stop, ready)

        try:
            import uvloop
        except ImportError:  # pragma: no cover - pinned in requirements.txt
            asyncio.run(main())
        else:
            uvloop.run(main())
        self.stdout.write("edge: stopped")
