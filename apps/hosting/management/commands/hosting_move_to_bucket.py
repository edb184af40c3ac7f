"""Move deployments and build caches made before the hosting bucket into it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.hosting.legacy import move_files_to_bucket


class Command(BaseCommand):
    help = "Move deployed files still held in the database into the hosting bucket (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        moved = move_files_to_bucket(say=self.stdout.write)
        self.stdout.write(f"Moved {moved} deployed files into the hosting bucket.")
