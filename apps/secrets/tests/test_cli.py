"""`manage.py secret`: the same paths as the services (and ampx), values only on stdin."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command

from apps.secrets import services
from apps.secrets.paths import branch_path, sandbox_path, shared_path
from apps.secrets.scopes import Scope
from console.aws import aws_client
from console.models import AuditEvent

pytestmark = pytest.mark.django_db

APP_ID = "d1a2b3c4d5e6f7"
VALUE = "s3cr3t-VALUE-do-not-print"
BRANCH = ("--app-id", APP_ID, "--branch", "main")
SHARED = ("--app-id", APP_ID, "--shared")
SANDBOX = ("--sandbox", "my-next-app/alice")


def ssm() -> Any:
    return boto3.client("ssm", region_name="us-east-1")


def stored() -> dict[str, str]:
    """Every parameter in SSM, {path: value}."""
    names = [p["Name"] for p in ssm().describe_parameters()["Parameters"]]
    return {name: ssm().get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] for name in names}


def run(*args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> str:
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("secret", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class TerminalStdin(io.StringIO):
    def isatty(self) -> bool:
        return True


def cli_set(monkeypatch: pytest.MonkeyPatch, scope: tuple[str, ...], name: str, value: str = VALUE) -> str:
    return run("set", *scope, name, stdin=value + "\n", monkeypatch=monkeypatch)


def assert_value_not_audited(value: str) -> None:
    for event in AuditEvent.objects.all():
        assert value not in f"{event.actor_name} {event.action} {event.target} {event.message} {event.detail}"


# --- set ---------------------------------------------------------------------


@pytest.mark.parametrize("branch", ["main", "feature/login", "fix#42", "größe", "x" * 70])
def test_set_writes_the_path_the_services_use(monkeypatch: pytest.MonkeyPatch, branch: str) -> None:
    out = cli_set(monkeypatch, ("--app-id", APP_ID, "--branch", branch), "API_KEY")
    path = branch_path(APP_ID, branch, "API_KEY")
    assert path == Scope.branch(APP_ID, branch).path("API_KEY")
    assert out == f"Set {path} (version 1)\n"
    assert stored() == {path: VALUE}
    assert services.secret_reveal(actor=None, scope=Scope.branch(APP_ID, branch), name="API_KEY") == VALUE


def test_set_writes_an_amplify_secure_string(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, BRANCH, "API_KEY")
    (parameter,) = ssm().describe_parameters()["Parameters"]
    assert parameter["Name"] == branch_path(APP_ID, "main", "API_KEY")
    assert parameter["Type"] == "SecureString"
    assert parameter["Description"] == "Amplify Secret"


def test_set_never_prints_or_audits_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    out = cli_set(monkeypatch, BRANCH, "API_KEY")
    assert VALUE not in out
    event = AuditEvent.objects.get(action="secret.set")
    assert (event.target, event.actor_name, event.message) == (branch_path(APP_ID, "main", "API_KEY"), "system", "version 1")
    assert_value_not_audited(VALUE)


def test_set_again_updates_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, SHARED, "API_KEY", "first")
    out = cli_set(monkeypatch, SHARED, "API_KEY", "second")
    assert out == f"Set {shared_path(APP_ID, 'API_KEY')} (version 2)\n"
    assert stored() == {shared_path(APP_ID, "API_KEY"): "second"}


def test_set_takes_the_first_line_without_its_newline_only(monkeypatch: pytest.MonkeyPatch) -> None:
    run("set", *SHARED, "A", stdin="  spaced = value  \r\nsecond line\n", monkeypatch=monkeypatch)
    run("set", *SHARED, "B", stdin="no newline at all", monkeypatch=monkeypatch)
    assert stored() == {shared_path(APP_ID, "A"): "  spaced = value  ", shared_path(APP_ID, "B"): "no newline at all"}


def test_set_on_a_terminal_prompts_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([VALUE, VALUE])
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("sys.stdin", TerminalStdin())
    monkeypatch.setattr("getpass.getpass", getpass)
    out = run("set", *SHARED, "API_KEY")
    assert prompts == ["Value of API_KEY: ", "Value of API_KEY (again): "]
    assert out == f"Set {shared_path(APP_ID, 'API_KEY')} (version 1)\n"


def test_set_on_a_terminal_refuses_values_that_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([VALUE, "something else"])
    monkeypatch.setattr("sys.stdin", TerminalStdin())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="The values do not match"):
        run("set", *SHARED, "API_KEY")
    assert stored() == {}


def test_set_takes_no_value_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="unrecognized arguments"):
        run("set", *SHARED, "API_KEY", VALUE, stdin=VALUE + "\n", monkeypatch=monkeypatch)
    assert stored() == {}


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n"])
def test_set_refuses_an_empty_value(monkeypatch: pytest.MonkeyPatch, stdin: str) -> None:
    with pytest.raises(CommandError, match=r"^No value given on standard input\.$"):
        run("set", *SHARED, "API_KEY", stdin=stdin, monkeypatch=monkeypatch)
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_set_refuses_a_value_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match=r"^The value is 8,193 bytes; SSM holds at most 8,192 bytes\.$"):
        cli_set(monkeypatch, SHARED, "API_KEY", "x" * 8193)
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_set_accepts_a_value_for_the_advanced_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, SHARED, "BIG", "x" * 8192)
    (parameter,) = ssm().describe_parameters()["Parameters"]
    assert parameter["Tier"] == "Intelligent-Tiering"


def test_set_reports_access_denied_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with Stubber(aws_client("ssm")) as stub:
        stub.add_client_error("put_parameter", service_error_code="AccessDeniedException", service_message="nope")
        with pytest.raises(CommandError) as caught:
            cli_set(monkeypatch, SHARED, "API_KEY")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("Permission denied: the console's AWS identity may not call ssm:PutParameter.")
    assert VALUE not in message
    assert stored() == {}
    assert not AuditEvent.objects.exists()


# --- get ---------------------------------------------------------------------


def test_get_prints_like_ampx_and_audits_the_reveal(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, BRANCH, "API_KEY", "first")
    cli_set(monkeypatch, BRANCH, "API_KEY")
    out = run("get", *BRANCH, "API_KEY")
    lines = out.splitlines()
    assert lines[:3] == ["name: API_KEY", "version: 2", f"value: {VALUE}"]
    assert len(lines) == 4
    assert lines[3].startswith("lastUpdated: ")
    assert datetime.fromisoformat(lines[3].removeprefix("lastUpdated: ")).tzinfo is not None
    reveal = AuditEvent.objects.get(action="secret.reveal")
    assert (reveal.target, reveal.outcome, reveal.actor_name) == (branch_path(APP_ID, "main", "API_KEY"), "success", "system")
    assert_value_not_audited(VALUE)


def test_get_a_missing_secret_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    path = branch_path(APP_ID, "main", "NOPE")
    with pytest.raises(CommandError, match=rf"^no secret NOPE at {path}$"):
        run("get", *BRANCH, "NOPE")
    assert stored() == {}
    assert AuditEvent.objects.get().outcome == "failure"  # the attempt is on the trail


def test_get_reads_only_its_own_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, SHARED, "API_KEY")
    with pytest.raises(CommandError, match="no secret API_KEY at /amplify/d1a2b3c4d5e6f7/main-branch-"):
        run("get", *BRANCH, "API_KEY")


# --- list --------------------------------------------------------------------


def test_list_prints_sorted_names_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZETA", "alpha", "Beta.x", "m-1"):
        cli_set(monkeypatch, BRANCH, name)
    cli_set(monkeypatch, SHARED, "SHARED_ONLY")
    cli_set(monkeypatch, ("--app-id", APP_ID, "--branch", "other"), "OTHER_ONLY")
    out = run("list", *BRANCH)
    assert out == "Beta.x\nZETA\nalpha\nm-1\n"
    assert VALUE not in out
    assert run("list", *SHARED) == "SHARED_ONLY\n"


def test_list_of_an_empty_scope_prints_nothing() -> None:
    assert run("list", *BRANCH) == ""


def test_list_does_not_audit_or_reveal(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, BRANCH, "API_KEY")
    AuditEvent.objects.all().delete()
    run("list", *BRANCH)
    assert not AuditEvent.objects.exists()


# --- remove ------------------------------------------------------------------


def test_remove_deletes_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, BRANCH, "API_KEY")
    cli_set(monkeypatch, BRANCH, "KEEP")
    path = branch_path(APP_ID, "main", "API_KEY")
    out = run("remove", *BRANCH, "API_KEY")
    assert out == f"Removed {path}\n"
    assert VALUE not in out
    assert stored() == {branch_path(APP_ID, "main", "KEEP"): VALUE}
    event = AuditEvent.objects.get(action="secret.remove")
    assert (event.target, event.message) == (path, "removed")
    assert_value_not_audited(VALUE)


def test_remove_a_missing_secret_says_nothing_was_there() -> None:
    path = shared_path(APP_ID, "NOPE")
    assert run("remove", *SHARED, "NOPE") == f"Nothing to remove: no secret NOPE at {path}\n"
    assert AuditEvent.objects.get(action="secret.remove").message == "was already gone"


# --- sandbox -----------------------------------------------------------------


def test_sandbox_scope_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    path = sandbox_path("my-next-app", "alice", "API_KEY")
    assert path == "/amplify/mynextapp/alice-sandbox-36e957df1b/API_KEY"
    assert cli_set(monkeypatch, SANDBOX, "API_KEY") == f"Set {path} (version 1)\n"
    assert stored() == {path: VALUE}
    assert run("list", *SANDBOX) == "API_KEY\n"
    assert run("get", *SANDBOX, "API_KEY").splitlines()[2] == f"value: {VALUE}"
    assert run("remove", *SANDBOX, "API_KEY") == f"Removed {path}\n"
    assert stored() == {}


def test_sandbox_of_a_scoped_package_splits_at_the_last_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, ("--sandbox", "@acme/web-app/alice"), "API_KEY")
    assert stored() == {sandbox_path("@acme/web-app", "alice", "API_KEY"): VALUE}


# --- errors: nothing written ------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ((), r"^No scope given\. Give exactly one scope: --app-id ID with --branch NAME or --shared"),
        (("--app-id", APP_ID), r"^--app-id needs --branch NAME or --shared\."),
        (("--branch", "main"), r"^--branch and --shared need --app-id\."),
        (("--shared",), r"^--branch and --shared need --app-id\."),
        ((*BRANCH, "--shared"), r"^Give only one scope, not --branch and --shared\."),
        ((*SHARED, *SANDBOX), r"^Give only one scope, not --shared and --sandbox\."),
        ((*BRANCH, *SANDBOX), r"^Give only one scope, not --branch and --sandbox\."),
        (("--app-id", APP_ID, *SANDBOX), r"^--sandbox does not take --app-id\."),
        (("--app-id", APP_ID, "--branch", ""), r"^--branch needs a branch name\.$"),
        (("--app-id", "d1a2/../x", "--shared"), r"^'d1a2/\.\./x' is not a valid app id: use letters and digits only\.$"),
        (("--app-id", "", "--shared"), r"^--branch and --shared need --app-id\."),
        (("--sandbox", "alice"), r"^--sandbox takes PACKAGE/IDENTIFIER \(e\.g\. my-app/alice\), not 'alice'\.$"),
        (("--sandbox", "my-app/"), r"^--sandbox takes PACKAGE/IDENTIFIER"),
        (("--sandbox", "/alice"), r"^--sandbox takes PACKAGE/IDENTIFIER"),
    ],
)
@pytest.mark.parametrize("action", ["set", "get", "list", "remove"])
def test_scope_must_be_exactly_one(monkeypatch: pytest.MonkeyPatch, action: str, scope: tuple[str, ...], message: str) -> None:
    name = () if action == "list" else ("API_KEY",)
    with pytest.raises(CommandError, match=message):
        run(action, *scope, *name, stdin=VALUE + "\n", monkeypatch=monkeypatch)
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_the_app_id_need_not_look_like_amplifys(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_set(monkeypatch, ("--app-id", "MyLocalApp1", "--shared"), "API_KEY")
    assert stored() == {shared_path("MyLocalApp1", "API_KEY"): VALUE}


@pytest.mark.parametrize("name", ["has space", "semi;colon", "slash/name", "x" * 513])
@pytest.mark.parametrize("action", ["set", "get", "remove"])
def test_bad_names_are_refused_before_anything_happens(monkeypatch: pytest.MonkeyPatch, action: str, name: str) -> None:
    stdin = io.StringIO(VALUE + "\n")
    monkeypatch.setattr("sys.stdin", stdin)
    with pytest.raises(CommandError, match=r"(is not a valid secret name|at most 512 characters)"):
        run(action, *BRANCH, name)
    assert stdin.tell() == 0  # the value was not even read
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_a_name_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CommandError, match="the following arguments are required: name"):
        run("get", *BRANCH)


def test_an_action_is_required() -> None:
    with pytest.raises(CommandError, match=re.escape("the following arguments are required: set|get|list|remove")):
        call_command("secret")
