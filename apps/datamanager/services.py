"""Writes to a branch's data, each audited with the model, the keys and the counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import IO, Any

from apps.branches.models import Branch
from apps.branches.selectors import parse_outputs
from apps.datamanager import dynamo
from apps.datamanager.csv_io import ImportReport, Progress, write_records
from apps.datamanager.grid import Preferences
from apps.datamanager.models import DataTask, GridPreference, SchemaUpload
from apps.datamanager.schema import DataSchema, Model
from apps.datamanager.seed import FieldConstraint, Seeder
from apps.datamanager.sources import BranchData, introspection_of
from apps.datamanager.values import check_value
from apps.storage import services as storage_services
from apps.storage.selectors import Bucket
from console.audit import audit_record
from console.aws_errors import AwsError
from console.progress import requeue_failed
from console.queue import send_on_commit

# The Celery task (in apps.datamanager.tasks) that carries out a DataTask of each kind.
TASK_OF_KIND: dict[str, str] = {DataTask.Kind.IMPORT: "run_import", DataTask.Kind.SEED: "run_seed"}

# Ids of records seeded by a task: uuid5 of the task and the record's number.
_SEEDED_IDS = uuid.UUID("8d4c5a52-3c1e-4f0e-9a57-3b1f2f6a0c11")

# Seeds up to this many rows in the request; more go to a background task.
INLINE_SEED_LIMIT = 100
MAX_AUDITED_KEYS = 50


def _target(branch: Branch, model: Model) -> str:
    return f"{branch.app.app_id}/{branch.name}/{model.name}"


def record_create(*, actor: Any, branch: Branch, model: Model, table: dynamo.Table, values: dict[str, Any]) -> dict[str, Any]:
    item = dynamo.stamp_new(model, table, values)
    dynamo.put_new(table, item)
    audit_record(
        actor=actor,
        action="data.create",
        target_type="data",
        target=_target(branch, model),
        detail={"model": model.name, "key": {k: str(item.get(k)) for k in model.key_fields}},
    )
    return item


def record_update(
    *,
    actor: Any,
    branch: Branch,
    model: Model,
    table: dynamo.Table,
    loaded: dict[str, Any],
    values: dict[str, Any],
) -> dict[str, Any]:
    """Save an edit over the record as loaded; RecordConflict if it changed meanwhile."""
    item = {k: v for k, v in loaded.items()}
    for name, value in values.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value
    item["updatedAt"] = dynamo.now_iso()
    item["__typename"] = model.name
    dynamo.replace(table, dynamo.with_composite_key(table, item), loaded_updated_at=loaded.get("updatedAt"))
    changed = sorted(name for name, value in values.items() if loaded.get(name) != value)
    audit_record(
        actor=actor,
        action="data.update",
        target_type="data",
        target=_target(branch, model),
        detail={"model": model.name, "key": {k: str(item.get(k)) for k in model.key_fields}, "fields": changed},
    )
    return item


def record_field_update(
    *,
    actor: Any,
    branch: Branch,
    model: Model,
    table: dynamo.Table,
    key: dict[str, Any],
    field: str,
    value: Any,
    loaded_updated_at: str | None,
) -> dict[str, Any]:
    """One cell of the grid: one UpdateItem, only if the record's updatedAt is still the one the
    page was rendered with (RecordConflict otherwise); the record as it now is."""
    item = dynamo.update_field(table, key, field, value, loaded_updated_at=loaded_updated_at)
    audit_record(
        actor=actor,
        action="data.update",
        target_type="data",
        target=_target(branch, model),
        detail={"model": model.name, "key": {k: str(item.get(k)) for k in model.key_fields}, "fields": [field], "via": "grid"},
    )
    return item


def record_file_attach(
    *,
    actor: Any,
    branch: Branch,
    model: Model,
    table: dynamo.Table,
    key: dict[str, Any],
    field: str,
    loaded_updated_at: str | None,
    bucket: Bucket,
    object_key: str,
    body: IO[bytes],
    length: int,
    content_type: str,
) -> dict[str, Any]:
    """Put a file in the branch's bucket (the storage app's upload, audited there) and point
    the record's field at it (one audited update). RecordConflict when the record changed
    since the page was loaded: the file is then in the bucket but the record is unchanged."""
    storage_services.upload_put(
        actor=actor, bucket=bucket, key=object_key, body=body, length=length, content_type=content_type, overwrote=False
    )
    return record_field_update(
        actor=actor,
        branch=branch,
        model=model,
        table=table,
        key=key,
        field=field,
        value=object_key,
        loaded_updated_at=loaded_updated_at,
    )


def grid_preferences_save(*, user: Any, branch: Branch, model: Model, preferences: Preferences, part: str) -> GridPreference:
    """Keep one person's layout of a model's grid: `part` "columns" (shown and file fields)
    or "widths". Not audited: it changes no data and nobody else's view."""
    kept, _ = GridPreference.objects.get_or_create(user=user, branch=branch, model_name=model.name)
    if part == "widths":
        kept.widths = {**kept.widths, **preferences.widths}
        kept.save(update_fields=["widths", "updated_at"])
    else:
        kept.hidden, kept.file_fields = sorted(preferences.hidden), sorted(preferences.file_fields)
        kept.save(update_fields=["hidden", "file_fields", "updated_at"])
    return kept


def records_delete(
    *,
    actor: Any,
    branch: Branch,
    model: Model,
    table: dynamo.Table,
    keys: list[dict[str, Any]],
) -> dynamo.BatchResult:
    result = dynamo.batch_delete(table, keys)
    audit_record(
        actor=actor,
        action="data.delete",
        target_type="data",
        target=_target(branch, model),
        outcome="success" if not result.failed and not result.error else "failure",
        detail={
            "model": model.name,
            "deleted": result.written,
            "not_deleted": len(result.failed),
            "keys": [{k: str(v) for k, v in key.items()} for key in keys[:MAX_AUDITED_KEYS]],
        },
    )
    return result


def seed_records(
    data: BranchData,
    model: Model,
    table: dynamo.Table,
    *,
    count: int,
    constraints: dict[str, FieldConstraint] | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    skip: int = 0,
    record_ids: str = "",
) -> ImportReport:
    """Write `count` generated records, a batch at a time (SeedError for bad rules).
    Used by the page, the task and the CLI; callers bound `count`.

    With `record_ids`, record n's generated `id` is derived from it and n, so the same
    seed gives the same records with the same keys: a task's Retry passes `skip` (the
    records an earlier attempt handled; they are generated again, to keep the sequence,
    but not written)."""
    seeder = Seeder(data.schema, model, constraints=constraints, parent_keys=parent_keys(data, model), seed=seed)
    numbered = record_ids and model.primary_key == "id"

    def rows() -> Iterator[dict[str, Any]]:
        for n in range(count):
            # Seeder rows are JSON-like (floats); check_value gives the stored form (Decimals).
            row = _stored(data.schema, model, seeder.row())
            if n < skip:
                continue
            if numbered and not row.get("id"):
                row["id"] = str(uuid.uuid5(_SEEDED_IDS, f"{record_ids}/{n}"))
            yield row

    return write_records(table, model, rows(), progress=progress)


def _stored(schema: DataSchema, model: Model, row: dict[str, Any]) -> dict[str, Any]:
    stored = {name: check_value(model.field(name), value, schema) for name, value in row.items()}
    return {name: value for name, value in stored.items() if value is not None}


def records_seed(
    *,
    actor: Any,
    branch: Branch,
    data: BranchData,
    model: Model,
    table: dynamo.Table,
    count: int,
    constraints: dict[str, FieldConstraint] | None = None,
) -> ImportReport:
    """Seed in the request (the page's small counts), audited."""
    report = seed_records(data, model, table, count=count, constraints=constraints)
    audit_record(
        actor=actor,
        action="data.seed",
        target_type="data",
        target=_target(branch, model),
        outcome="success" if not report.unwritten and not report.error else "failure",
        detail={"model": model.name, "written": report.written, "not_written": len(report.unwritten)},
    )
    return report


def outputs_upload(*, actor: Any, branch: Branch, text: str | bytes, file_name: str) -> SchemaUpload:
    """Keep an uploaded amplify_outputs.json (validated, with data models) for the branch.

    Raises OutputsInvalid (every problem by key path) or ValueError (no data section)."""
    document = parse_outputs(text)
    if introspection_of(document) is None:
        raise ValueError("This amplify_outputs.json has no data.model_introspection: its backend defines no data models.")
    upload, _ = SchemaUpload.objects.update_or_create(
        branch=branch, defaults={"document": document, "file_name": file_name[:255], "uploaded_by": actor}
    )
    audit_record(
        actor=actor,
        action="data.outputs_upload",
        target_type="branch",
        target=f"{branch.app.app_id}/{branch.name}",
        detail={"file": file_name[:255]},
    )
    return upload


PARENT_KEYS_LIMIT = 200


def parent_keys(data: BranchData, model: Model, *, limit: int = PARENT_KEYS_LIMIT) -> dict[str, list[dict[str, Any]]]:
    """For seeding: the keys of up to `limit` existing records of each parent model
    (belongsTo), so generated records point at real ones. A parent whose table is
    missing gives none: the seeder then leaves optional links empty."""
    found: dict[str, list[dict[str, Any]]] = {}
    for relation in model.belongs_to:
        parent = data.schema.model(relation.type)
        if parent is None:
            continue
        try:
            table = data.table(parent)
            keys = []
            for item in dynamo.scan_all(table, select=list(parent.key_fields)):
                keys.append({name: item.get(name) for name in parent.key_fields})
                if len(keys) >= limit:
                    break
        except (dynamo.TableMissing, AwsError):
            continue
        found[relation.name] = keys
    return found


def task_retry(*, actor: Any, task: DataTask) -> bool:
    """Queue a failed task again; it continues after what was written. False when it
    cannot be retried (it is not failed, or its input is gone)."""
    if not requeue_failed(DataTask, task.pk):
        return False
    send_on_commit(f"apps.datamanager.tasks.{TASK_OF_KIND[task.kind]}", task.pk)
    audit_record(
        actor=actor,
        action="data.retry",
        target_type="data",
        target=f"{task.branch.app.app_id}/{task.branch.name}/{task.model_name}",
        detail={"model": task.model_name, "task": task.pk, "kind": task.kind, "resume_at": task.resume_at},
    )
    return True
