"""Long imports and seeds, run by a worker from a DataTask.

The Celery tasks take the task's id and claim it (PENDING to RUNNING with one
conditional UPDATE), so a redelivered message does nothing. Counts move as batches
are written; the report keeps the first line errors and the keys not written.
`model_named` is shared with `manage.py data`; seeding itself is services.seed_records.

A running task beats (console.heartbeat); one whose worker died is failed by the reaper
with how far it got. Retry starts after the records of finished batches (`resume_at`),
and every record has the same key on every attempt (an import's rows carry or derive
theirs; a seed fixes its random seed and numbers its records), so the batch that was in
flight when the worker died is written again over itself, never twice.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.datamanager import counts, csv_io, dynamo, services
from apps.datamanager.models import DataTask
from apps.datamanager.schema import DataSchema, Model
from apps.datamanager.seed import FieldConstraint, SeedError
from apps.datamanager.sources import BranchData, NoSchema, branch_data
from apps.datamanager.values import FieldError
from console.aws_errors import AwsError
from console.heartbeat import beating
from console.progress import AuditOf, attempt, claim, finish, reap_stalled
from console.queue import send

logger = logging.getLogger(__name__)

MAX_SEED_ROWS = 10_000
REPORT_LIMIT = 200  # line errors and unwritten keys kept in the report
_CONSTRAINT_NAMES = frozenset(f.name for f in dataclasses.fields(FieldConstraint))
S = DataTask.Status


class TaskInputInvalid(ValueError):
    """The task's payload (or the CLI's options) cannot be carried out."""


def _constraint_value(field: str, rule: str, value: Any) -> Any:
    """JSON keeps exact numbers as text ("1.50") and tuples as lists; give them back."""
    if rule in ("minimum", "maximum") and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise TaskInputInvalid(f"{field}: {rule} {value[:20]!r} is not a number") from None
    return tuple(value) if rule == "enum_values" and isinstance(value, list) else value


def model_named(schema: DataSchema, name: str) -> Model:
    model = schema.model(name)
    if model is None:
        known = ", ".join(m.name for m in schema.models) or "none"
        raise TaskInputInvalid(f"The schema has no model {name!r}; its models are: {known}.")
    return model


def constraints_from_json(raw: object) -> dict[str, FieldConstraint]:
    """{"field": {"minimum": 1, ...}} as FieldConstraints (Seeder checks the values)."""
    if not isinstance(raw, dict):
        raise TaskInputInvalid("constraints must be an object of field names to constraints")
    constraints = {}
    for name, given in raw.items():
        if not isinstance(given, dict):
            raise TaskInputInvalid(f"{name}: a constraint must be an object, not {given!r}")
        unknown = sorted(set(given) - _CONSTRAINT_NAMES)
        if unknown:
            raise TaskInputInvalid(f"{name}: unknown constraint {unknown[0]!r} (known: {', '.join(sorted(_CONSTRAINT_NAMES))})")
        values: dict[str, Any] = {k: _constraint_value(str(name), k, v) for k, v in given.items()}
        constraints[str(name)] = FieldConstraint(**values)
    return constraints


# The tasks


@shared_task(name="apps.datamanager.tasks.run_import", acks_late=True, ignore_result=True, soft_time_limit=3500, time_limit=3600)
def run_import(task_pk: int) -> None:
    task = _claim(task_pk, DataTask.Kind.IMPORT)
    if task is not None:
        _carry_out(task, "data.import", _import)


@shared_task(name="apps.datamanager.tasks.run_seed", acks_late=True, ignore_result=True, soft_time_limit=3500, time_limit=3600)
def run_seed(task_pk: int) -> None:
    task = _claim(task_pk, DataTask.Kind.SEED)
    if task is not None:
        _carry_out(task, "data.seed", _seed)


@shared_task(
    name="apps.datamanager.tasks.count_records",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=counts.COUNT_TIME_LIMIT_SECONDS - 60,
    time_limit=counts.COUNT_TIME_LIMIT_SECONDS,
)
def count_records(region: str, table_name: str, where: dict[str, Any] | None, token: str) -> int | None:
    """An exact count too big for a request (see counts.py); the page shows what it keeps."""
    return counts.count_and_keep(region=region, table_name=table_name, where=where, token=token)


@shared_task(name="apps.datamanager.tasks.remove_stale_drafts", ignore_result=True)
def remove_stale_drafts() -> int:
    """Forget CSV imports uploaded but never started for over STALE_UPLOAD_HOURS (they hold
    the whole file in the database)."""
    started_before = timezone.now() - timedelta(hours=settings.STALE_UPLOAD_HOURS)
    stale = DataTask.objects.filter(kind=DataTask.Kind.IMPORT, status=DataTask.Status.DRAFT, created_at__lt=started_before)
    removed, _ = stale.delete()
    # A failed import keeps its file for a Retry as long as a draft would.
    unretried = DataTask.objects.filter(status=S.FAILED, retryable=True, finished_at__lt=started_before)
    for task in unretried.filter(kind=DataTask.Kind.IMPORT):
        payload = {k: v for k, v in task.payload.items() if k != "csv"}
        DataTask.objects.filter(pk=task.pk, status=S.FAILED).update(payload=payload, retryable=False)
    return int(removed)


@shared_task(name="apps.datamanager.tasks.reap_stalled_tasks", ignore_result=True)
def reap_stalled_tasks() -> list[int]:
    """Fail the running tasks whose worker stopped, saying how far they got (the pks), and
    queue again the waiting ones whose message was lost."""

    def progress(task: DataTask) -> str:
        unit = "rows" if task.kind == DataTask.Kind.IMPORT else "records"
        return f"{task.done:,} of {task.total:,} {unit} written"

    return reap_stalled(
        DataTask,
        progress=progress,
        resend=lambda pk: send(f"apps.datamanager.tasks.{services.TASK_OF_KIND[DataTask.objects.get(pk=pk).kind]}", pk),
    )


def _claim(task_pk: int, kind: str) -> DataTask | None:
    return claim(DataTask, task_pk, kind=kind)


# Bad input fails the same way again; DynamoDB or the network may be back on a retry.
_EXPECTED = (
    NoSchema,
    dynamo.TableMissing,
    AwsError,
    csv_io.CsvInvalid,
    csv_io.MappingInvalid,
    SeedError,
    FieldError,
    TaskInputInvalid,
)

Work = Callable[[DataTask, BranchData, Model, dynamo.Table, csv_io.Progress], tuple[csv_io.ImportReport, dict[str, Any]]]


def _carry_out(task: DataTask, action: str, work: Work) -> None:
    with beating(DataTask, task.pk):
        _carry_out_beating(task, action, work)


def _carry_out_beating(task: DataTask, action: str, work: Work) -> None:
    # What earlier attempts wrote: this one counts on from there.
    written_before, handled_before = task.done, task.resume_at

    def progress(report: csv_io.ImportReport) -> None:
        handled = handled_before + report.written + len(report.unwritten)
        DataTask.objects.filter(pk=task.pk).update(
            done=written_before + report.written, refused=len(report.refused), resume_at=handled
        )

    def carried_out() -> tuple[Model, csv_io.ImportReport, dict[str, Any]]:
        data = branch_data(task.branch)
        model = model_named(data.schema, task.model_name)
        report, detail = work(task, data, model, data.table(model), progress)
        report.written += written_before
        return model, report, detail

    audit = AuditOf(
        actor=task.created_by,
        action=action,
        target_type="data",
        target=f"{task.branch.app.app_id}/{task.branch.name}/{task.model_name}",
        detail={"model": task.model_name, "task": task.pk},
    )
    end = attempt(task, carried_out, expected=_EXPECTED, end=lambda **state: _finish(task, **state), audit=audit)
    if end is None:
        return
    model, report, detail = end
    failed = bool(report.unwritten or report.error)
    _finish(
        task,
        status=S.FAILED if failed else S.SUCCEEDED,
        error=(f"{len(report.unwritten)} records could not be written. {report.error}".strip() if failed else ""),
        report=report,
    )
    audit.record(
        failure=f"{len(report.unwritten)} records not written" if failed else "",
        **{
            "model": model.name,
            "written": report.written,
            "refused": len(report.refused),
            "unwritten": len(report.unwritten),
            **detail,
        },
    )


def _finish(
    task: DataTask, *, status: str, error: str, report: csv_io.ImportReport | None = None, retryable: bool = False
) -> None:
    """The final state; an import's CSV text is dropped (it can be megabytes) once done
    with, unless a Retry may need it."""
    fields: dict[str, Any] = {}
    if report is not None:
        fields |= {"done": report.written, "refused": len(report.refused), "report": report.as_json(limit=REPORT_LIMIT)}
    if "csv" in task.payload and not retryable:
        fields["payload"] = {k: v for k, v in task.payload.items() if k != "csv"}
    finish(DataTask, task.pk, status=status, error=error, retryable=retryable, **fields)


def _import(
    task: DataTask, data: BranchData, model: Model, table: dynamo.Table, progress: csv_io.Progress
) -> tuple[csv_io.ImportReport, dict[str, Any]]:
    payload = task.payload
    mode = payload.get("mode", csv_io.SKIP)
    if mode not in csv_io.MODES:
        raise TaskInputInvalid(f"The import mode must be one of {', '.join(csv_io.MODES)}, not {mode!r}.")
    parsed = csv_io.read_csv(str(payload.get("csv", "")))
    mapping = payload.get("mapping")
    if not isinstance(mapping, dict):
        mapping = csv_io.suggest_mapping(parsed.header, model)
    DataTask.objects.filter(pk=task.pk).update(total=len(parsed.rows))
    results = csv_io.validate_rows(parsed, mapping, model, data.schema)
    report = csv_io.import_rows(table, model, results, mode=mode, progress=progress, skip=task.resume_at)
    return report, {"mode": mode, "file": str(payload.get("file_name", ""))[:255]}


def _seed(
    task: DataTask, data: BranchData, model: Model, table: dynamo.Table, progress: csv_io.Progress
) -> tuple[csv_io.ImportReport, dict[str, Any]]:
    payload = task.payload
    count, seed = payload.get("count"), payload.get("seed")
    if isinstance(count, bool) or not isinstance(count, int):
        raise TaskInputInvalid(f"The number of records must be a whole number, not {count!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TaskInputInvalid(f"The seed must be a whole number, not {seed!r}.")
    constraints = constraints_from_json(payload.get("constraints") or {})
    DataTask.objects.filter(pk=task.pk).update(total=count)
    if not 1 <= count <= MAX_SEED_ROWS:
        raise TaskInputInvalid(f"The number of records must be between 1 and {MAX_SEED_ROWS:,}, not {count}.")
    if seed is None:
        # Fixed before the first record is written, so a Retry generates the same records.
        seed = secrets.randbelow(2**63)
        DataTask.objects.filter(pk=task.pk).update(payload={**payload, "seed": seed})
    report = services.seed_records(
        data,
        model,
        table,
        count=count,
        constraints=constraints,
        seed=seed,
        progress=progress,
        skip=task.resume_at,
        record_ids=f"data-task-{task.pk}",
    )
    return report, {"count": count}
