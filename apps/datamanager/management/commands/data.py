"""`manage.py data export|import|seed`: a model's records as CSV, for scripts.

The data is a registered branch's (--app-id ID --branch NAME) or the backend an
amplify_outputs.json describes (--outputs FILE: its tables are found by model name).
Export streams CSV to standard output; import prints each refused row by line and
exits non-zero if any row was refused or not written. Everything is audited.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.branches.models import App, Branch
from apps.branches.selectors import MAX_OUTPUTS_BYTES, OutputsInvalid, parse_outputs
from apps.datamanager import csv_io, dynamo
from apps.datamanager.schema import Model
from apps.datamanager.seed import SeedError
from apps.datamanager.services import seed_records
from apps.datamanager.sources import BranchData, NoSchema, branch_data, outputs_data
from apps.datamanager.tasks import MAX_SEED_ROWS, TaskInputInvalid, model_named
from console.audit import audit_record
from console.aws_errors import AwsError

SOURCE_HELP = "Give either --outputs FILE, or --app-id ID with --branch NAME."
MODES = {"skip": csv_io.SKIP, "all-or-nothing": csv_io.ALL_OR_NOTHING}
SHOWN_OUTPUTS_ERRORS = 20


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outputs", metavar="FILE", help="An amplify_outputs.json: its data models and region.")
    parser.add_argument("--app-id", help="A registered app's id (with --branch).")
    parser.add_argument("--branch", help="The branch's name (with --app-id).")
    parser.add_argument("--model", required=True, help="The model's name, as in the schema (e.g. Todo).")


class Command(BaseCommand):
    help = "Export a model's records as CSV, import a CSV file into a model, or seed a model with generated records."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="export|import|seed")
        export = actions.add_parser("export", help="Every record as CSV on standard output.")
        _add_source_arguments(export)
        export.add_argument("--bom", action="store_true", help="Start with a byte order mark (for Excel).")
        importing = actions.add_parser("import", help="Write the rows of a CSV file (columns matched to fields by name).")
        _add_source_arguments(importing)
        importing.add_argument("--file", required=True, metavar="CSV", help="The CSV file, UTF-8; '-' for standard input.")
        importing.add_argument(
            "--mode",
            choices=sorted(MODES),
            default="all-or-nothing",
            help="all-or-nothing (the default) writes nothing if any row is refused; skip writes the valid rows.",
        )
        seeding = actions.add_parser("seed", help="Write generated records.")
        _add_source_arguments(seeding)
        seeding.add_argument("--count", type=int, required=True, help=f"How many records (1 to {MAX_SEED_ROWS:,}).")
        seeding.add_argument("--seed", type=int, help="Make the generated values repeatable.")

    def handle(self, *args: Any, **options: Any) -> None:
        data, where = self._source(options)
        try:
            model = model_named(data.schema, options["model"])
            table = data.table(model)
            target = f"{where}/{model.name}"
            if options["action"] == "export":
                self._export(model, table, target, bom=options["bom"])
            elif options["action"] == "import":
                self._import(data, model, table, target, path=options["file"], mode=MODES[options["mode"]])
            else:
                self._seed(data, model, table, target, count=options["count"], seed=options["seed"])
        except (TaskInputInvalid, dynamo.TableMissing, csv_io.CsvInvalid, csv_io.MappingInvalid, SeedError) as error:
            raise CommandError(_one_line(str(error))) from None
        except AwsError as error:
            raise CommandError(_one_line(str(error))) from error

    def _source(self, options: dict[str, Any]) -> tuple[BranchData, str]:
        """The schema and tables to work on, and how the audit trail names them."""
        outputs, app_id, branch = options.get("outputs"), options.get("app_id"), options.get("branch")
        if outputs and (app_id or branch):
            raise CommandError(f"--outputs does not go with --app-id or --branch. {SOURCE_HELP}")
        try:
            if outputs:
                return outputs_data(_read_outputs(outputs)), f"outputs:{Path(outputs).name}"
            if not (app_id and branch):
                missing = "--app-id needs --branch" if app_id else "--branch needs --app-id" if branch else "No data given"
                raise CommandError(f"{missing}. {SOURCE_HELP}")
            found = Branch.objects.select_related("app").filter(app__app_id=app_id, name=branch).first()
            if found is None:
                if not App.objects.filter(app_id=app_id).exists():
                    raise CommandError(f"No app with the id {app_id!r} is registered in the console.")
                raise CommandError(f"The app {app_id} has no branch {branch!r} connected in the console.")
            return branch_data(found), f"{app_id}/{found.name}"
        except NoSchema as error:
            raise CommandError(_one_line(str(error))) from None
        except AwsError as error:
            raise CommandError(_one_line(str(error))) from error

    def _export(self, model: Model, table: dynamo.Table, target: str, *, bom: bool) -> None:
        exported = 0

        def counted(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            nonlocal exported
            for record in records:
                exported += 1
                yield record

        for line in csv_io.export_lines(model, counted(dynamo.scan_all(table)), bom=bom):
            self.stdout.write(line, ending="")
        audit_record(
            actor=None,
            action="data.export",
            target_type="data",
            target=target,
            detail={"model": model.name, "records": exported, "via": "cli"},
        )

    def _import(self, data: BranchData, model: Model, table: dynamo.Table, target: str, *, path: str, mode: str) -> None:
        parsed = csv_io.read_csv(csv_io.decode_csv(_read_csv_bytes(path)))
        mapping = csv_io.suggest_mapping(parsed.header, model)
        ignored = [column for column, name in mapping.items() if not name]
        if ignored:
            self.stderr.write(f"Ignored columns (no field of {model.name} has their name): {', '.join(ignored)}")
        results = csv_io.validate_rows(parsed, mapping, model, data.schema)
        report = csv_io.import_rows(table, model, results, mode=mode)
        for row in report.refused:
            self.stdout.write(f"line {row.line}: {'; '.join(row.errors)}")
        for key in report.unwritten:
            self.stdout.write(f"not written: {', '.join(f'{k}={v}' for k, v in key.items())}")
        if report.error:
            self.stdout.write(f"DynamoDB refused a batch: {report.error}")
        if report.held_back:
            self.stdout.write(f"Nothing was written (--mode all-or-nothing): {report.held_back} valid rows held back.")
        self.stdout.write(f"written {report.written}, refused {len(report.refused)}, unwritten {len(report.unwritten)}")
        audit_record(
            actor=None,
            action="data.import",
            target_type="data",
            target=target,
            outcome="success" if not report.unwritten and not report.error else "failure",
            detail={
                "model": model.name,
                "written": report.written,
                "refused": len(report.refused),
                "unwritten": len(report.unwritten),
                "mode": mode,
                "file": "-" if path == "-" else Path(path).name,
                "via": "cli",
            },
        )
        if report.refused or report.unwritten or report.error:
            raise CommandError(
                f"{len(report.refused)} rows refused, {len(report.unwritten)} not written"
                f"{'; nothing was written' if report.held_back else ''}."
            )

    def _seed(self, data: BranchData, model: Model, table: dynamo.Table, target: str, *, count: int, seed: int | None) -> None:
        if not 1 <= count <= MAX_SEED_ROWS:
            raise CommandError(f"--count must be between 1 and {MAX_SEED_ROWS:,}, not {count}.")
        report = seed_records(data, model, table, count=count, seed=seed)
        audit_record(
            actor=None,
            action="data.seed",
            target_type="data",
            target=target,
            outcome="success" if not report.unwritten and not report.error else "failure",
            detail={"model": model.name, "written": report.written, "unwritten": len(report.unwritten), "via": "cli"},
        )
        self.stdout.write(f"Seeded {report.written} {model.name} records into {table.name}.")
        if report.unwritten or report.error:
            raise CommandError(f"{len(report.unwritten)} records could not be written. {report.error}".strip())


def _read_outputs(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_OUTPUTS_BYTES + 1)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
    try:
        return parse_outputs(text)
    except OutputsInvalid as invalid:
        shown = invalid.errors[:SHOWN_OUTPUTS_ERRORS]
        more = len(invalid.errors) - len(shown)
        raise CommandError(
            f"{path} is not a valid amplify_outputs.json:\n  " + "\n  ".join(shown) + (f"\n  and {more} more" if more else "")
        ) from None


def _read_csv_bytes(path: str) -> bytes:
    """At most one byte over the limit, so decode_csv can refuse a larger file without reading it all."""
    limit = csv_io.MAX_CSV_BYTES + 1
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        return stream.read(limit) if stream is not None else sys.stdin.read(limit).encode("utf-8")
    try:
        with open(path, "rb") as file:
            return file.read(limit)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
