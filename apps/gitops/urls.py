from __future__ import annotations

from django.urls import path

from apps.gitops import git_views, hook_views

urlpatterns = [
    path("hooks/github/<str:app_id>", hook_views.github_hook, name="github_hook"),
    path("hooks/gitlab/<str:app_id>", hook_views.gitlab_hook, name="gitlab_hook"),
    path("apps/<str:app_id>/git/", git_views.git_settings, name="git_settings"),
    path("apps/<str:app_id>/git/patterns/", git_views.pattern_preview, name="pattern_preview"),
    path("apps/<str:app_id>/git/rotate-secret/", git_views.rotate_webhook_secret, name="rotate_webhook_secret"),
    path("apps/<str:app_id>/previews/", git_views.previews, name="previews"),
    path("apps/<str:app_id>/teardowns/<int:pk>/retry/", git_views.teardown_retry, name="teardown_retry"),
]
