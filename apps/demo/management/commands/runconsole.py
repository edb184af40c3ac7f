"""`make run`: the embedded console in one command.

Starts the AWS emulator, migrates, seeds the demo, then runs a Celery worker,
Celery beat, the compute supervisor (hostd), the web server (gunicorn) and the edge in
front of it as child processes.
Ctrl-C (or SIGTERM) stops every process it started; if one of them dies, the others
are stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.emulator import EMULATOR_CREDENTIALS, Emulator, EmulatorError, port_in_use, start_emulator

# What seed_demo prints as NAME=value for the banner, not for the log above it.
_BANNER_VALUES = ("ADMIN_PASSWORD=", "NEXTJS_DEMO=", "FRONTEND_DEMO=")


def _seed_value(seed_output: str, name: str) -> str | None:
    """The value seed_demo printed as `NAME=value`, or None."""
    for line in seed_output.splitlines():
        key, sign, value = line.strip().partition("=")
        if sign and key == name:
            return value
    return None


class Command(BaseCommand):
    help = "Run the console with its emulator, worker, beat and hostd (what `make run` does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--emulator-port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
        parser.add_argument("--no-emulator", action="store_true", help="Use AWS_ENDPOINT_URL / real AWS as configured.")

    def handle(self, *args: Any, **options: Any) -> None:
        port, emulator_port = options["port"], options["emulator_port"]
        if port_in_use(port):
            raise CommandError(f"Port {port} is in use (is the console already running?). Set PORT to another port.")
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        emulator: Emulator | None = None
        env = {**os.environ, "CONSOLE_DEV": "1", "DJANGO_SETTINGS_MODULE": "console.settings"}
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            if not options["no_emulator"]:
                emulator = start_emulator(emulator_port)
                env.update(EMULATOR_CREDENTIALS)
                env.update({"AWS_ENDPOINT_URL": emulator.endpoint_url, "AWS_DEFAULT_REGION": settings.AWS_REGION})
                self.stdout.write(f"AWS emulator (moto) on {emulator.endpoint_url}")
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            self._run_step([*manage, "migrate", "--noinput", "-v", "0"], env, "migrate")
            self._run_step([*manage, "hosting_bucket"], env, "hosting bucket")
            seed_args = ["--build"] if emulator else []
            seed_output = self._run_step([*manage, "seed_demo", *seed_args], env, "seed demo")
            password = _seed_value(seed_output, "ADMIN_PASSWORD")
            nextjs_demo = _seed_value(seed_output, "NEXTJS_DEMO")
            frontend_demo = _seed_value(seed_output, "FRONTEND_DEMO")
            for line in seed_output.splitlines():
                if not line.strip().startswith(_BANNER_VALUES):
                    self.stdout.write(line)
            celery = [sys.executable, "-m", "celery", "-A", "console"]
            beat_schedule = str(settings.VAR_DIR / "celerybeat-schedule")
            # gunicorn on a Unix socket in a folder of the console's user alone, the edge in front
            # on the port (apps/edge: it passes server-rendered pages straight to their server).
            web_socket = settings.EDGE_CONSOLE_SOCKET
            web_socket.parent.mkdir(parents=True, exist_ok=True)
            web_socket.parent.chmod(0o700)
            web_command = [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"unix:{web_socket}"]
            web_command += ["--workers", "2", "--threads", "4", "--access-logfile", "-"]
            # Webhook URLs carry their token: the access log shows it as [redacted].
            web_command += ["--logger-class", "console.access_log.RedactingLogger"]
            for name, command in (
                ("worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2", "--hostname", "worker@%h"]),
                ("beat", [*celery, "beat", "--loglevel", "INFO", "--schedule", beat_schedule]),
                # Before web: web proxies server-rendered pages to the servers hostd runs.
                ("hostd", [*manage, "hostd"]),
                # gunicorn, not runserver: its listen backlog survives bursts of webhook calls.
                ("web", web_command),
                ("edge", [*manage, "edge", "--bind", f"127.0.0.1:{port}", "--console", f"unix:{web_socket}"]),
            ):
                children.append((name, subprocess.Popen(command, env=env, start_new_session=True)))
            self._banner(port, password, emulator, nextjs_demo, frontend_demo)
            while not stopping:
                for name, process in children:
                    if process.poll() is not None:
                        self.stderr.write(f"The {name} process exited with code {process.returncode}; stopping the console.")
                        stopping = True
                        break
                time.sleep(0.5)
        except EmulatorError as error:
            raise CommandError(str(error)) from None
        finally:
            self._stop(children, emulator)

    def _run_step(self, command: list[str], env: dict[str, str], what: str) -> str:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CommandError(f"{what} failed:\n{result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def _banner(
        self,
        port: int,
        password: str | None,
        emulator: Emulator | None,
        nextjs_demo: str | None,
        frontend_demo: str | None = None,
    ) -> None:
        url = f"http://127.0.0.1:{port}/"
        lines = ["", "=" * 64, f"  Amplify console: {url}", "  Sign in as: admin"]
        if password:
            lines.append(f"  Password:   {password}   (shown once; set CONSOLE_ADMIN_PASSWORD to choose one)")
        else:
            lines.append("  Password:   the one printed on the first run (set CONSOLE_ADMIN_PASSWORD to reset it)")
        if emulator:
            lines.append(f"  AWS emulator: {emulator.endpoint_url} (in memory; re-seeded on every start)")
        lines.append(f"  Amplify API: {url}amplify-api (keys: {url}settings/api-keys/)")
        lines.append(f"  Builds:     {self._isolation()}")
        lines.append(f"  Compute:    server-rendered apps run under hostd ({settings.COMPUTE_DIR / 'hostd.sock'})")
        if nextjs_demo:
            lines.append(f"  Next.js demo: {nextjs_demo}")
        if frontend_demo:
            lines.append(f"  Frontend demo: {frontend_demo}")
        lines += ["  Press Ctrl-C to stop everything.", "=" * 64, ""]
        self.stdout.write("\n".join(lines))

    def _isolation(self) -> str:
        from apps.builds.services import check_build_isolation

        if settings.BUILD_ISOLATION == "off":
            return "NOT isolated (BUILD_ISOLATION=off): any build can act as the console"
        problem = check_build_isolation()
        if problem:
            return f"REFUSED: they cannot be isolated here ({problem})"
        return "isolated (bubblewrap sandbox, no console credentials; README: Security model)"

    def _stop(self, children: list[tuple[str, subprocess.Popen[bytes]]], emulator: Emulator | None) -> None:
        # SIGTERM to each main process lets Celery stop its pool warmly; the
        # whole process group is killed only if it does not stop in time.
        for _, process in reversed(children):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for _, process in children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if emulator:
            emulator.stop()
        if children or emulator:
            self.stdout.write("Stopped the console, its worker, beat, hostd, edge and emulator.")
