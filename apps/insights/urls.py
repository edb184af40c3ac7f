from __future__ import annotations

from django.urls import path

from apps.insights import views

urlpatterns = [
    path("apps/<str:app_id>/insights/", views.app_insights, name="app_insights"),
    path("sandboxes/insights/", views.sandbox_insights_page, name="sandbox_insights"),
]
