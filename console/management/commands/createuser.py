"""`manage.py createuser NAME --role admin|operator|viewer`, password on stdin."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from console.audit import audit_record
from console.roles import Role, set_role


class Command(BaseCommand):
    help = "Create a console user with a role; the password is read from standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.group_name for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument("--update", action="store_true", help="Change the role and password of an existing user.")

    def _read_password(self) -> str:
        if sys.stdin.isatty():
            first = getpass.getpass("Password: ")
            if first != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
            return first
        return sys.stdin.readline().rstrip("\r\n")

    def handle(self, *args: Any, **options: Any) -> None:
        username, role = options["username"], Role.parse(options["role"])
        User = get_user_model()
        existing = User.objects.filter(username=username).first()
        if existing and not options["update"]:
            raise CommandError(f"User {username!r} exists; pass --update to change its role and password.")
        password = self._read_password()
        if not password:
            raise CommandError("No password given on standard input.")
        try:
            validate_password(password, user=existing)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            user = existing or User(username=username, email=options["email"])
            user.set_password(password)
            user.save()
            set_role(user, role)
            audit_record(
                actor=None,
                action="user.update" if existing else "user.create",
                target_type="user",
                target=username,
                message=f"role {role.group_name} (command line)",
            )
        self.stdout.write(self.style.SUCCESS(f"{'Updated' if existing else 'Created'} {username} with role {role.group_name}."))
