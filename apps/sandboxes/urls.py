from __future__ import annotations

from django.urls import path

from apps.sandboxes import views

urlpatterns = [
    path("sandboxes/", views.inventory, name="sandboxes"),
    path("sandboxes/export.csv", views.inventory_export, name="sandboxes_export"),
    path("sandboxes/refresh/", views.refresh, name="sandboxes_refresh"),
    path("sandboxes/delete/", views.bulk_delete, name="sandboxes_bulk_delete"),
    path("sandboxes/settings/", views.inventory_settings, name="sandboxes_settings"),
    path("sandboxes/retention/run/", views.retention_run, name="sandboxes_retention_run"),
    path("sandboxes/<int:pk>/", views.detail, name="sandbox_detail"),
    path("sandboxes/<int:pk>/status/", views.status, name="sandbox_status"),
    path("sandboxes/<int:pk>/delete/", views.delete, name="sandbox_delete"),
]
