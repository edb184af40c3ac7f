from __future__ import annotations

from django.urls import path

from apps.prstatus import views

urlpatterns = [
    path("apps/<str:app_id>/pull-request-status/", views.pr_reporting, name="pr_reporting"),
    path("apps/<str:app_id>/pull-request-status/remove/", views.pr_reporting_remove, name="pr_reporting_remove"),
]
