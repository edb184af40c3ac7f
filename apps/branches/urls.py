from __future__ import annotations

from django.urls import path

from apps.branches import git_views, hook_views, job_views, views

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
    path("apps/<str:app_id>/branches/<str:branch>/disconnect/", views.branch_disconnect, name="branch_disconnect"),
    path("apps/<str:app_id>/branches/<str:branch>/build/", job_views.job_start, name="job_start"),
    path("apps/<str:app_id>/branches/<str:branch>/jobs/<int:job_id>/", job_views.job_detail, name="job_detail"),
    path("apps/<str:app_id>/branches/<str:branch>/jobs/<int:job_id>/log/", job_views.job_log, name="job_log"),
    path(
        "apps/<str:app_id>/branches/<str:branch>/jobs/<int:job_id>/log.txt", job_views.job_log_download, name="job_log_download"
    ),
    path("apps/<str:app_id>/branches/<str:branch>/jobs/<int:job_id>/cancel/", job_views.job_cancel, name="job_cancel"),
    path("apps/<str:app_id>/branches/<str:branch>/jobs/<int:job_id>/retry/", job_views.job_retry, name="job_retry"),
    path("apps/<str:app_id>/branches/<str:branch>/jobs/<int:job_id>/redeploy/", job_views.job_redeploy, name="job_redeploy"),
    path("apps/<str:app_id>/branches/<str:branch>/webhooks/", job_views.webhook_add, name="webhook_add"),
    path(
        "apps/<str:app_id>/branches/<str:branch>/webhooks/<str:webhook_id>/delete/",
        job_views.webhook_remove,
        name="webhook_remove",
    ),
    path("webhooks", job_views.webhook_trigger, name="webhook_trigger"),
    path("hooks/github/<str:app_id>", hook_views.github_hook, name="github_hook"),
    path("hooks/gitlab/<str:app_id>", hook_views.gitlab_hook, name="gitlab_hook"),
    path("apps/<str:app_id>/git/", git_views.git_settings, name="git_settings"),
    path("apps/<str:app_id>/git/patterns/", git_views.pattern_preview, name="pattern_preview"),
    path("apps/<str:app_id>/git/rotate-secret/", git_views.rotate_webhook_secret, name="rotate_webhook_secret"),
    path("apps/<str:app_id>/previews/", git_views.previews, name="previews"),
    path("apps/<str:app_id>/teardowns/<int:pk>/retry/", git_views.teardown_retry, name="teardown_retry"),
    path("apps/<str:app_id>/branches/<str:branch>/previews/", git_views.branch_previews, name="branch_previews"),
    path("sites/<str:app_id>/<str:branch>/", job_views.hosted_site, name="hosted_site"),
    path("sites/<str:app_id>/<str:branch>/<path:path>", job_views.hosted_site, name="hosted_site_path"),
]
