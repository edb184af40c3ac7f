from __future__ import annotations

from django.urls import path

from apps.storage import action_views, upload_views, views

BRANCH = "apps/<str:app_id>/branches/<str:branch>/storage/"
BUCKET = BRANCH + "buckets/<str:bucket>/"

urlpatterns = [
    path(BRANCH, views.storage_home, name="storage_home"),
    path(BRANCH + "add-bucket/", views.bucket_add, name="storage_bucket_add"),
    path(BRANCH + "added/<int:pk>/remove/", views.bucket_remove, name="storage_bucket_remove"),
    path(BRANCH + "tasks/<int:pk>/", views.task_status, name="storage_task"),
    path(BRANCH + "tasks/<int:pk>/retry/", views.task_retry, name="storage_task_retry"),
    path(BUCKET, views.browse, name="storage_browse"),
    path(BUCKET + "object/", views.object_detail, name="storage_object"),
    path(BUCKET + "download/", views.download, name="storage_download"),
    path(BUCKET + "preview/", views.preview, name="storage_preview"),
    path(BUCKET + "zip/", views.zip_download, name="storage_zip"),
    path(BUCKET + "folder/", action_views.folder_create, name="storage_folder_create"),
    path(BUCKET + "delete/", action_views.delete, name="storage_delete"),
    path(BUCKET + "transfer/", action_views.transfer, name="storage_transfer"),
    path(BUCKET + "upload/check/", upload_views.upload_check, name="storage_upload_check"),
    path(BUCKET + "upload/put/", upload_views.upload_put, name="storage_upload_put"),
    path(BUCKET + "upload/start/", upload_views.upload_start, name="storage_upload_start"),
    path(BUCKET + "upload/part/", upload_views.upload_part, name="storage_upload_part"),
    path(BUCKET + "upload/complete/", upload_views.upload_complete, name="storage_upload_complete"),
    path(BUCKET + "upload/abort/", upload_views.upload_abort, name="storage_upload_abort"),
]
