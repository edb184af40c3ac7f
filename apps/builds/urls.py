from __future__ import annotations

from django.urls import path

from apps.builds import job_views

urlpatterns = [
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
]
