from __future__ import annotations

from django.apps import AppConfig


class PrStatusConfig(AppConfig):
    name = "apps.prstatus"
    label = "prstatus"

    def ready(self) -> None:
        from apps.builds.services import register_job_listener
        from apps.prstatus.services import report_job_event

        register_job_listener(report_job_event)
