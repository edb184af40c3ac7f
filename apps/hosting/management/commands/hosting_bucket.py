"""Create the hosting bucket if it is not there (make run and docker-compose run this at start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.hosting.services import ensure_bucket


class Command(BaseCommand):
    help = "Create the hosting bucket (HOSTING_BUCKET) for deployments and build caches, if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_bucket()
        self.stdout.write(f"Hosting bucket: {settings.HOSTING_BUCKET}")
