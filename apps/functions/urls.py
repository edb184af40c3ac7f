from __future__ import annotations

from django.urls import path

from apps.functions import views

BRANCH = "apps/<str:app_id>/branches/<str:branch>/functions/"
# Lambda function names are [A-Za-z0-9-_]: safe in a path.
FUNCTION = BRANCH + "<str:name>/"

urlpatterns = [
    path(BRANCH, views.functions_list, name="functions_list"),
    path(FUNCTION, views.function_detail, name="function_detail"),
    path(FUNCTION + "logs/", views.function_logs, name="function_logs"),
    path(FUNCTION + "logs/tail/", views.function_logs_tail, name="function_logs_tail"),
    path(FUNCTION + "logs.txt", views.function_logs_download, name="function_logs_download"),
]
