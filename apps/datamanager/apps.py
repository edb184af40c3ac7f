from __future__ import annotations

from django.apps import AppConfig


class DatamanagerConfig(AppConfig):
    name = "apps.datamanager"
    label = "datamanager"
