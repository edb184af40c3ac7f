from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`make run`'s seeded demo: it uses every feature, so it is a feature of its own and
    the foundation (console/) depends on none."""

    name = "apps.demo"
    label = "demo"
