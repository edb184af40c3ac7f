from __future__ import annotations

from django.urls import path

from apps.datamanager import grid_views, import_views, seed_views, views

BRANCH = "apps/<str:app_id>/branches/<str:branch>/data/"
MODEL = BRANCH + "models/<str:model>/"

urlpatterns = [
    path(BRANCH, views.data_home, name="data_home"),
    path(BRANCH + "outputs/", views.outputs_upload, name="data_outputs_upload"),
    path(BRANCH + "tasks/<int:pk>/", views.task_status, name="data_task"),
    path(BRANCH + "tasks/<int:pk>/retry/", views.task_retry, name="data_task_retry"),
    path(MODEL, views.model_records, name="data_model"),
    path(MODEL + "new/", views.record_new, name="data_record_new"),
    path(MODEL + "edit/", views.record_edit, name="data_record_edit"),
    path(MODEL + "delete/", views.records_delete, name="data_delete"),
    path(MODEL + "export.csv", views.records_export, name="data_export"),
    path(MODEL + "cell/", grid_views.cell_panel, name="data_cell"),
    path(MODEL + "cell/update/", grid_views.cell_update, name="data_cell_update"),
    path(MODEL + "grid/", grid_views.grid_preferences, name="data_grid_prefs"),
    path(MODEL + "parents/", grid_views.parent_search, name="data_parents"),
    path(MODEL + "children/", grid_views.child_count, name="data_children"),
    path(MODEL + "file/", grid_views.record_file, name="data_record_file"),
    path(MODEL + "seed/", seed_views.records_seed, name="data_seed"),
    path(MODEL + "import/", import_views.import_upload, name="data_import"),
    path(MODEL + "import/<int:pk>/", import_views.import_map, name="data_import_map"),
]
