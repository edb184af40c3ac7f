from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        from apps.builds.services import register_job_listener
        from apps.notifications.services import notify_job_event

        register_job_listener(notify_job_event)
