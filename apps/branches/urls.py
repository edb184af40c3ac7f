from __future__ import annotations

from django.urls import path

from apps.branches import views

urlpatterns = [
    path("", views.app_list, name="dashboard"),
    path("apps/new/", views.app_create, name="app_create"),
    path("apps/<str:app_id>/", views.app_overview, name="app_overview"),
    path("apps/<str:app_id>/settings/", views.app_settings, name="app_settings"),
    path("apps/<str:app_id>/delete/", views.app_delete, name="app_delete"),
    path("apps/<str:app_id>/build-spec/", views.app_build_spec, name="app_build_spec"),
    path("apps/<str:app_id>/environment/", views.app_environment, name="app_environment"),
    path("apps/<str:app_id>/environment/<int:pk>/delete/", views.env_var_delete, name="env_var_delete"),
    path("apps/<str:app_id>/connect-branch/", views.branch_connect, name="branch_connect"),
    path("apps/<str:app_id>/remote-branches/", views.remote_branches, name="remote_branches"),
    path("apps/<str:app_id>/branches/<str:branch>/", views.branch_detail, name="branch_detail"),
    path("apps/<str:app_id>/branches/<str:branch>/status/", views.branch_status, name="branch_status"),
    path("apps/<str:app_id>/branches/<str:branch>/amplify_outputs.json", views.branch_outputs, name="branch_outputs"),
    path("apps/<str:app_id>/branches/<str:branch>/disconnect/", views.branch_disconnect, name="branch_disconnect"),
    path("apps/<str:app_id>/branches/<str:branch>/previews/", views.branch_previews, name="branch_previews"),
]
