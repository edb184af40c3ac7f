from __future__ import annotations

from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("apps/<str:app_id>/notifications/", views.notifications, name="notifications"),
    path("apps/<str:app_id>/notifications/<int:pk>/", views.notification_edit, name="notification_edit"),
    path("apps/<str:app_id>/notifications/<int:pk>/delete/", views.notification_delete, name="notification_delete"),
    path(
        "apps/<str:app_id>/notifications/<int:pk>/rotate-secret/",
        views.notification_rotate_secret,
        name="notification_rotate_secret",
    ),
    path(
        "apps/<str:app_id>/notifications/deliveries/<int:pk>/redeliver/",
        views.notification_redeliver,
        name="notification_redeliver",
    ),
]
