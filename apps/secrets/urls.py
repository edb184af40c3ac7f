from __future__ import annotations

from django.urls import path

from apps.secrets import views

urlpatterns = [
    path("apps/<str:app_id>/secrets/", views.secrets_page, name="secrets"),
    path("apps/<str:app_id>/secrets/set/", views.secret_set, name="secret_set"),
    path("apps/<str:app_id>/secrets/remove/", views.secret_remove, name="secret_remove"),
    path("apps/<str:app_id>/secrets/reveal/", views.secret_reveal, name="secret_reveal"),
    path("apps/<str:app_id>/secrets/copy/", views.secret_copy, name="secret_copy"),
    path("apps/<str:app_id>/secrets/import/", views.secret_import, name="secret_import"),
    path("apps/<str:app_id>/secrets/import/preview/", views.import_preview, name="secret_import_preview"),
    path("apps/<str:app_id>/secrets/export.csv", views.secrets_export, name="secrets_export"),
    path("apps/<str:app_id>/secrets/history/", views.secret_history, name="secret_history"),
]
