"""`manage.py secret set|get|list|remove`: `ampx sandbox secret` for scripts.

Works on a shared, branch or sandbox scope by id alone (the app need not be
registered here). A value is read from standard input, never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.secrets import services, ssm
from apps.secrets.paths import InvalidSecretName
from apps.secrets.scopes import Scope
from console.aws_errors import AwsError, AwsNotFound

APP_ID_PATTERN = re.compile(r"^[A-Za-z0-9]+$")
SCOPE_HELP = "Give exactly one scope: --app-id ID with --branch NAME or --shared, or --sandbox PACKAGE/IDENTIFIER."


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app-id",
        help="The Amplify app id (real ones are 'd' and 13 lowercase letters or digits; any letters and digits "
        "are accepted). The app need not be registered in the console.",
    )
    parser.add_argument("--branch", help="The branch's secrets (with --app-id).")
    parser.add_argument("--shared", action="store_true", help="Secrets shared by all the app's branches (with --app-id).")
    parser.add_argument(
        "--sandbox",
        metavar="PACKAGE/IDENTIFIER",
        help="A sandbox's secrets: the package.json name and the sandbox identifier, e.g. my-app/alice.",
    )


def _app_id(value: str | None) -> str:
    if not value:
        raise CommandError(f"--branch and --shared need --app-id. {SCOPE_HELP}")
    if not APP_ID_PATTERN.match(value):
        raise CommandError(f"{value!r} is not a valid app id: use letters and digits only.")
    return value


def _sandbox_scope(value: str) -> Scope:
    # Split at the last '/', so a scoped package name (@org/app/alice) works.
    package, slash, identifier = value.rpartition("/")
    if not slash or not package.strip() or not identifier.strip():
        raise CommandError(f"--sandbox takes PACKAGE/IDENTIFIER (e.g. my-app/alice), not {value!r}.")
    return Scope.sandbox(package, identifier)


def scope_from_options(options: dict[str, Any]) -> Scope:
    """The one scope the options name; CommandError unless there is exactly one."""
    branch, shared, sandbox = options.get("branch"), bool(options.get("shared")), options.get("sandbox")
    given = [
        flag
        for flag, present in (("--branch", branch is not None), ("--shared", shared), ("--sandbox", sandbox is not None))
        if present
    ]
    if len(given) > 1:
        raise CommandError(f"Give only one scope, not {' and '.join(given)}. {SCOPE_HELP}")
    if sandbox is not None:
        if options.get("app_id") is not None:
            raise CommandError(f"--sandbox does not take --app-id. {SCOPE_HELP}")
        return _sandbox_scope(sandbox)
    if not given:
        hint = "--app-id needs --branch NAME or --shared." if options.get("app_id") is not None else "No scope given."
        raise CommandError(f"{hint} {SCOPE_HELP}")
    app_id = _app_id(options.get("app_id"))
    if shared:
        return Scope.shared(app_id)
    if not branch:
        raise CommandError("--branch needs a branch name.")
    return Scope.branch(app_id, branch)


def _path(scope: Scope, name: str) -> str:
    try:
        return scope.path(name)
    except InvalidSecretName as error:
        raise CommandError(str(error)) from None


def _history(path: str) -> list[ssm.ParameterInfo]:
    try:
        return ssm.history(path)
    except AwsNotFound:  # removed since it was read
        return []


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"Value of {name}: ")
        if first != getpass.getpass(f"Value of {name} (again): "):
            raise CommandError("The values do not match.")
        return first
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


class Command(BaseCommand):
    help = (
        "Set, get, list or remove Amplify secrets in SSM Parameter Store, at the paths `ampx` reads. "
        "Values are read from standard input (prompted for twice on a terminal), never from the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="set|get|list|remove")
        for action, help_text, takes_name in (
            ("set", "Create or update a secret; the value is read from standard input.", True),
            ("get", "Show a secret: name, version, value and lastUpdated (the reveal is audited).", True),
            ("list", "The secrets' names, one a line, sorted.", False),
            ("remove", "Delete a secret.", True),
        ):
            sub = actions.add_parser(action, help=help_text, description=help_text)
            _add_scope_arguments(sub)
            if takes_name:
                sub.add_argument("name", help="The secret's name: letters, digits, '_', '.' and '-'.")

    def handle(self, *args: Any, **options: Any) -> None:
        handlers: dict[str, Callable[[Scope, str], None]] = {
            "set": self._set,
            "get": self._get,
            "list": self._list,
            "remove": self._remove,
        }
        scope = scope_from_options(options)
        try:
            handlers[options["action"]](scope, options.get("name") or "")
        except ValidationError as error:
            raise CommandError(_one_line(" ".join(error.messages))) from None
        except AwsError as error:
            raise CommandError(_one_line(str(error))) from error

    def _set(self, scope: Scope, name: str) -> None:
        path = _path(scope, name)
        value = _read_value(name)
        if value == "":
            raise CommandError("No value given on standard input.")
        version = services.secret_set(actor=None, scope=scope, name=name, value=value)
        self.stdout.write(self.style.SUCCESS(f"Set {path} (version {version})"))

    def _get(self, scope: Scope, name: str) -> None:
        path = _path(scope, name)
        value = services.secret_reveal(actor=None, scope=scope, name=name)
        versions = _history(path) if value is not None else []
        if value is None or not versions:
            raise CommandError(f"no secret {name} at {path}")
        latest = versions[0]
        updated = latest.last_modified.isoformat() if latest.last_modified else ""
        self.stdout.write(f"name: {name}\nversion: {latest.version}\nvalue: {value}\nlastUpdated: {updated}")

    def _list(self, scope: Scope, name: str) -> None:
        for secret_name in sorted(info.name for info in ssm.list_parameters(scope.prefix)):
            self.stdout.write(secret_name)

    def _remove(self, scope: Scope, name: str) -> None:
        path = _path(scope, name)
        if services.secret_remove(actor=None, scope=scope, name=name):
            self.stdout.write(self.style.SUCCESS(f"Removed {path}"))
        else:
            self.stdout.write(f"Nothing to remove: no secret {name} at {path}")
