from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Seed the demo (idempotent): admin user, local git repository, demo app and branches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--build", action="store_true", help="Also queue a build of each demo branch (emulator only).")

    def handle(self, *args: Any, **options: Any) -> None:
        endpoint = settings.AWS_ENDPOINT_URL or ""
        if options["build"] and not endpoint.startswith(("http://127.0.0.1", "http://localhost")):
            raise CommandError("--build only runs against the local emulator (AWS_ENDPOINT_URL on 127.0.0.1).")
        _, password = seed_demo(build=options["build"], say=lambda text: self.stdout.write(f"  {text}"), nextjs=True)
        if password:
            # The one place the generated password is shown; runconsole reads it.
            self.stdout.write(f"ADMIN_PASSWORD={password}")
