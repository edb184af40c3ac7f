from __future__ import annotations

from django.urls import path

from apps.compute import views

urlpatterns = [
    path("apps/<str:app_id>/branches/<str:branch>/compute/", views.compute_panel, name="compute_panel"),
    path("apps/<str:app_id>/branches/<str:branch>/compute/logs/", views.compute_logs, name="compute_logs"),
    path("apps/<str:app_id>/branches/<str:branch>/compute/logs.txt", views.compute_log_download, name="compute_log_download"),
]
