from __future__ import annotations

from django.apps import AppConfig


class GitopsConfig(AppConfig):
    name = "apps.gitops"
    label = "gitops"
