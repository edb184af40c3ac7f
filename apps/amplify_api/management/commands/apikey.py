"""`manage.py apikey create --user NAME` prints a new access key pair for the
Amplify-compatible API (the secret is shown only here); `apikey revoke KEYID` revokes
one; `apikey list` prints the keys (never their secrets)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.amplify_api import keys
from apps.amplify_api.models import AccessKey


class Command(BaseCommand):
    help = "Create, revoke and list access keys for the Amplify-compatible API."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a key for a console user; prints its id and secret.")
        create.add_argument("--user", required=True, help="The console user the key acts as (with their role).")
        create.add_argument("--description", default="", help="What the key is for, e.g. 'release script'.")
        revoke = actions.add_parser("revoke", help="Revoke a key: requests signed with it are refused.")
        revoke.add_argument("access_key_id")
        actions.add_parser("list", help="List the keys: id, user, status, last use.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                new = keys.key_create(actor=None, username=options["user"], description=options["description"])
                self.stdout.write(f"AccessKeyId: {new.key.access_key_id}")
                self.stdout.write(f"SecretAccessKey: {new.secret_access_key}")
            elif options["action"] == "revoke":
                key = keys.key_revoke(actor=None, access_key_id=options["access_key_id"])
                self.stdout.write(f"Revoked {key.access_key_id} of {key.user.get_username()}.")
            else:
                for key in AccessKey.objects.select_related("user"):
                    status = "active" if key.is_active else f"revoked {key.revoked_at:%Y-%m-%d}"
                    used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
                    self.stdout.write(f"{key.access_key_id}\t{key.user.get_username()}\t{status}\t{used}")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
