from __future__ import annotations

from django.urls import path

from apps.hosting import views

urlpatterns = [
    path("sites/<str:app_id>/<str:branch>/", views.hosted_site, name="hosted_site"),
    path("sites/<str:app_id>/<str:branch>/<path:path>", views.hosted_site, name="hosted_site_path"),
]
