"""Model fields for documents the console keeps as JSON."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.branches.outputs import keep_field_order


class OutputsDocumentField(models.JSONField):
    """An amplify_outputs.json document. Each model's field order is recorded on every
    write, `QuerySet.update` included, because PostgreSQL's jsonb drops key order."""

    def get_prep_value(self, value: Any) -> Any:
        keep_field_order(value)
        return super().get_prep_value(value)
