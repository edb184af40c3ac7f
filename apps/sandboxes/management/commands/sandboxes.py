"""`manage.py sandboxes list|delete`: the sandbox inventory for scripts.

`list` reads every region afresh (and updates the inventory); `delete` follows the
stack to its end and exits non-zero if CloudFormation could not delete it.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.sandboxes.deletion import request_deletion, run_deletion
from apps.sandboxes.inventory import refresh_inventory
from apps.sandboxes.models import InventorySettings, Sandbox, SandboxDeletion
from apps.sandboxes.selectors import app_of, apps_by_namespace
from console.aws_errors import AwsError


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class Command(BaseCommand):
    help = "List the Amplify sandboxes of the account, or delete one."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Every sandbox stack in the regions (default: the configured ones).")
        listing.add_argument("--json", action="store_true", help="One JSON array of objects instead of a table.")
        listing.add_argument("--region", action="append", default=[], help="A region to list (repeatable).")
        deleting = actions.add_parser("delete", help="Delete one sandbox stack and wait for CloudFormation.")
        deleting.add_argument("stack_name")
        deleting.add_argument("--region", help="Needed when the stack name exists in several regions.")
        deleting.add_argument("--with-secrets", action="store_true", help="Delete the sandbox's secrets too.")
        deleting.add_argument("--yes", action="store_true", help="Confirm the deletion (required).")

    def handle(self, *args: Any, **options: Any) -> None:
        regions = options.get("region") or []
        regions = regions if isinstance(regions, list) else [regions]
        unknown = sorted(set(regions) - set(settings.AWS_REGIONS))
        if options["action"] == "list":
            self._list(regions or list(settings.AWS_REGIONS), as_json=options["json"], unknown=unknown)
        else:
            self._delete(options["stack_name"], regions, with_secrets=options["with_secrets"], confirmed=options["yes"])

    def _refresh(self, regions: list[str]) -> dict[str, str]:
        errors = refresh_inventory(regions).errors
        for region, error in sorted(errors.items()):
            self.stderr.write(f"{region}: {error}")
        return errors

    def _list(self, regions: list[str], *, as_json: bool, unknown: list[str]) -> None:
        if unknown:
            self.stderr.write(f"Note: {', '.join(unknown)} not in CONSOLE_AWS_REGIONS; listed anyway.")
        errors = self._refresh(regions)
        policy, now, apps = InventorySettings.load(), timezone.now(), apps_by_namespace()
        rows = Sandbox.objects.filter(region__in=regions).exclude(status=Sandbox.Status.DELETED).order_by("region", "stack_name")
        records = []
        for s in rows:
            app = app_of(s, apps)
            records.append(
                {
                    "stack_name": s.stack_name,
                    "namespace": s.namespace,
                    "identifier": s.identifier,
                    "region": s.region,
                    "status": s.status,
                    "stack_status": s.stack_status,
                    "last_updated": _iso(s.last_updated),
                    "created": _iso(s.created_time),
                    "idle_days": s.idle_days(now),
                    "stale": s.is_stale(policy.stale_after_days, now),
                    "resources": s.resource_count,
                    "secrets": s.secret_count,
                    "app_id": app.app_id if app else None,
                    "stack_id": s.stack_id,
                }
            )
        if as_json:
            self.stdout.write(json.dumps(records, indent=2))
        elif records:
            widths = [max(len(str(r[k])) for r in records) for k in ("stack_name", "region", "status")]
            for r in records:
                stale = "  stale" if r["stale"] else ""
                self.stdout.write(
                    f"{r['stack_name']:<{widths[0]}}  {r['region']:<{widths[1]}}  {r['status']:<{widths[2]}}  "
                    f"{r['stack_status']}  {r['last_updated'] or ''}{stale}"
                )
        else:
            self.stdout.write("No sandboxes.")
        if errors:
            raise CommandError(f"Could not list {len(errors)} region(s): {', '.join(sorted(errors))}.")

    def _delete(self, stack_name: str, regions: list[str], *, with_secrets: bool, confirmed: bool) -> None:
        if not confirmed:
            raise CommandError(f"Deleting {stack_name} cannot be undone; add --yes to confirm.")
        regions = regions or list(settings.AWS_REGIONS)
        try:
            self._refresh(regions)
        except AwsError as error:
            raise CommandError(str(error)) from error
        rows = Sandbox.objects.filter(stack_name=stack_name, region__in=regions)
        live = list(rows.exclude(status=Sandbox.Status.DELETED))
        if not live:
            if rows.exists():
                self.stdout.write(f"{stack_name} is already deleted.")
                return
            raise CommandError(f"No sandbox stack named {stack_name} in {', '.join(regions)}.")
        if len(live) > 1:
            found = ", ".join(sorted(s.region for s in live))
            raise CommandError(f"{stack_name} exists in {found}; choose one with --region.")
        sandbox = live[0]
        if not request_deletion(actor=None, sandboxes=[sandbox], with_secrets=with_secrets, reason="command line", queue=False):
            raise CommandError(f"{stack_name} is already being deleted by the console; see the Sandboxes page.")
        self.stdout.write(f"Deleting {stack_name} in {sandbox.region}…")
        done = run_deletion(sandbox.pk)
        if done is None or done.deletion_status != SandboxDeletion.Status.SUCCEEDED:
            reason = done.deletion.error if done else "another worker took the deletion over"
            raise CommandError(reason)
        self.stdout.write(self.style.SUCCESS(f"Deleted {stack_name}{' and its secrets' if with_secrets else ''}."))
