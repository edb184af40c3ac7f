"""Seeding from the records page: up to 100 rows in the request, more as a task with
progress; per-field rules come from the form as `c-<field>-<rule>` inputs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.datamanager import services
from apps.datamanager.forms import rules_for
from apps.datamanager.models import DataTask
from apps.datamanager.schema import Model
from apps.datamanager.seed import FieldConstraint, Seeder, SeedError
from apps.datamanager.views import Context, model_page
from console.aws_errors import AwsError
from console.queue import send_on_commit
from console.roles import Role, role_required

MAX_SEED = 10_000


class RuleInvalid(ValueError):
    pass


def _number(raw: str, field: str, label: str, *, whole: bool = False) -> Any:
    text = raw.strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RuleInvalid(f"{field}: {label} {text[:20]!r} is not a number") from None
    if whole and number != number.to_integral_value():
        raise RuleInvalid(f"{field}: {label} must be a whole number")
    return int(number) if whole else number


def _percent(raw: str, field: str, label: str) -> float | None:
    value = _number(raw, field, label)
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise RuleInvalid(f"{field}: {label} is a percentage from 0 to 100")
    return float(value) / 100


def constraints_from(post: Any, model: Model) -> dict[str, FieldConstraint]:
    constraints = {}
    for field in model.editable_fields:

        def get(rule: str, name: str = field.name) -> str:
            return str(post.get(f"c-{name}-{rule}", ""))[:100]

        options: dict[str, Any] = {}
        rules = rules_for(field)
        if "length" in rules:
            options |= {
                "min_length": _number(get("min_length"), field.name, "shortest", whole=True),
                "max_length": _number(get("max_length"), field.name, "longest", whole=True),
            }
        if "range" in rules:
            whole = field.type != "Float"
            options |= {
                "minimum": _number(get("minimum"), field.name, "lowest", whole=whole),
                "maximum": _number(get("maximum"), field.name, "highest", whole=whole),
            }
        if "moments" in rules:
            options |= {"date_from": get("date_from").strip() or None, "date_to": get("date_to").strip() or None}
        if "ratio" in rules:
            options["true_ratio"] = _percent(get("true_percent"), field.name, "true share")
        if "enum" in rules:
            chosen = [str(v) for v in post.getlist(f"c-{field.name}-enum_values")]
            options["enum_values"] = chosen or None
        if "list" in rules:
            options |= {
                "list_min": _number(get("list_min"), field.name, "fewest items", whole=True),
                "list_max": _number(get("list_max"), field.name, "most items", whole=True),
            }
        if "empty" in rules:
            options["null_ratio"] = _percent(get("empty_percent"), field.name, "empty share") or 0.0
        options = {k: v for k, v in options.items() if v is not None}
        if options and options != {"null_ratio": 0.0}:
            constraints[field.name] = FieldConstraint(**options)
    return constraints


def _as_payload(constraints: dict[str, FieldConstraint]) -> dict[str, dict[str, Any]]:
    """Constraints as plain JSON for a task's payload."""
    plain: dict[str, dict[str, Any]] = {}
    for name, constraint in constraints.items():
        values = {k: v for k, v in vars(constraint).items() if v is not None}
        plain[name] = {
            k: (str(v) if isinstance(v, Decimal) else list(v) if isinstance(v, tuple) else v) for k, v in values.items()
        }
    return plain


@require_POST
@role_required(Role.OPERATOR)
@model_page()
def records_seed(request: HttpRequest, ctx: Context) -> HttpResponse:
    app_id, branch, model = ctx.route
    back = redirect(reverse("data_model", args=[app_id, branch, model]))
    raw_count = request.POST.get("count", "").strip()
    if not raw_count.isdigit() or not 1 <= int(raw_count) <= MAX_SEED:
        messages.error(
            request, f"Seed from 1 to {MAX_SEED:,} records; {raw_count[:20]!r} is not such a number. Nothing was written."
        )
        return back
    count = int(raw_count)
    try:
        constraints = constraints_from(request.POST, ctx.model)
        # The rules are checked (a first row is made) before anything is written or queued.
        Seeder(ctx.data.schema, ctx.model, constraints=constraints).row()
    except (RuleInvalid, SeedError) as error:
        messages.error(request, f"{error} Nothing was written.")
        return back
    if count > services.INLINE_SEED_LIMIT:
        task = DataTask.objects.create(
            kind=DataTask.Kind.SEED,
            branch=ctx.branch,
            model_name=ctx.model.name,
            total=count,
            payload={"count": count, "constraints": _as_payload(constraints)},
            created_by=request.user if request.user.is_authenticated else None,
        )
        send_on_commit("apps.datamanager.tasks.run_seed", task.pk)
        messages.info(request, f"Seeding {count:,} {ctx.model.name} records in the background.")
        return redirect("data_task", app_id=app_id, branch=branch, pk=task.pk)
    try:
        report = services.records_seed(
            actor=request.user,
            branch=ctx.branch,
            data=ctx.data,
            model=ctx.model,
            table=ctx.table,
            count=count,
            constraints=constraints,
        )
    except (SeedError, AwsError) as error:
        messages.error(request, str(error))
        return back
    if report.unwritten or report.error:
        missing = len(report.unwritten)
        messages.error(request, f"Wrote {report.written} of {count}; DynamoDB did not take {missing}. {report.error}")
    else:
        messages.success(request, f"Seeded {report.written} {ctx.model.name} record{'s' if report.written != 1 else ''}.")
    return back
