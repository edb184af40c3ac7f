from __future__ import annotations

from django.urls import path

from apps.amplify_api import key_views, views

urlpatterns = [
    path("amplify-api/logs/<str:token>", views.step_log, name="amplify_api_step_log"),
    path("amplify-api/<path:path>", views.amplify_api, name="amplify_api"),
    path("settings/api-keys/", key_views.key_list, name="api_keys"),
    path("settings/api-keys/create/", key_views.key_create, name="api_key_create"),
    path("settings/api-keys/<str:access_key_id>/revoke/", key_views.key_revoke, name="api_key_revoke"),
]
