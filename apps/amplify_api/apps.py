from __future__ import annotations

from django.apps import AppConfig


class AmplifyApiConfig(AppConfig):
    name = "apps.amplify_api"
    label = "amplify_api"
    verbose_name = "Amplify-compatible API"
