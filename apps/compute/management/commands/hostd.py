"""Run this machine's compute supervisor (apps/compute/hostd.py) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from apps.compute import hostd


class Command(BaseCommand):
    help = "Supervise the compute servers (server-rendered apps) of this machine."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"hostd: control socket {hostd.socket_path()}")
        self.stdout.flush()
        hostd.serve(stop)
        self.stdout.write("hostd: stopped every server")
