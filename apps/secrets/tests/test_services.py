"""The secrets services: versions, audit without values, .env parsing and all-or-nothing import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from django.core.exceptions import ValidationError

from apps.secrets import services, ssm
from apps.secrets.scopes import Scope
from console.aws import aws_client
from console.aws_errors import AwsAccessDenied, AwsError
from console.models import AuditEvent

pytestmark = pytest.mark.django_db

APP_ID = "d1a2b3c4d5e6f7"
SHARED = Scope.shared(APP_ID)
MAIN = Scope.branch(APP_ID, "main")
DEV = Scope.branch(APP_ID, "feature/login")
SANDBOX = Scope.sandbox("my-next-app", "alice")
VALUE = "s3cr3t-VALUE-never-audited"


def client() -> Any:
    return boto3.client("ssm", region_name="us-east-1")


def stored() -> dict[str, str]:
    """Every parameter in SSM, {path: value}."""
    names = [p["Name"] for p in client().describe_parameters()["Parameters"]]
    return {name: client().get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] for name in names}


def put(scope: Scope, name: str, value: str) -> None:
    services.secret_set(actor=None, scope=scope, name=name, value=value)


def assert_never_audited(*values: str) -> None:
    for event in AuditEvent.objects.all():
        text = f"{event.actor_name} {event.action} {event.target} {event.message} {event.detail}"
        for value in values:
            assert value not in text


def access_denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation)


# --- set, remove, reveal ----------------------------------------------------


def test_set_then_update_increases_the_version(admin_user: Any) -> None:
    versions = [services.secret_set(actor=admin_user, scope=MAIN, name="API_KEY", value=f"{VALUE}{n}") for n in range(3)]
    assert versions == [1, 2, 3]
    path = MAIN.path("API_KEY")
    assert stored() == {path: f"{VALUE}2"}
    assert [info.version for info in ssm.history(path)] == [3, 2, 1]
    events = AuditEvent.objects.filter(action="secret.set").order_by("id")
    assert [(e.target, e.message, e.actor_name) for e in events] == [(path, f"version {n}", "ada") for n in (1, 2, 3)]
    assert_never_audited(VALUE)


def test_set_writes_an_amplify_secure_string() -> None:
    put(SANDBOX, "API_KEY", VALUE)
    (parameter,) = client().describe_parameters()["Parameters"]
    assert parameter["Name"] == "/amplify/mynextapp/alice-sandbox-36e957df1b/API_KEY"
    assert (parameter["Type"], parameter["Description"], parameter["Tier"]) == (
        "SecureString",
        "Amplify Secret",
        "Intelligent-Tiering",
    )


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [("bad name", VALUE, "name"), ("", VALUE, "name"), ("a/b", VALUE, "name"), ("API_KEY", "", "value")],
)
def test_set_refuses_bad_input_and_writes_nothing(name: str, value: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        put(MAIN, name, value)
    assert list(caught.value.message_dict) == [field]
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_remove_deletes_and_audits(admin_user: Any) -> None:
    put(MAIN, "API_KEY", VALUE)
    put(MAIN, "KEEP", VALUE)
    assert services.secret_remove(actor=admin_user, scope=MAIN, name="API_KEY") is True
    assert services.secret_remove(actor=admin_user, scope=MAIN, name="API_KEY") is False
    assert stored() == {MAIN.path("KEEP"): VALUE}
    events = AuditEvent.objects.filter(action="secret.remove").order_by("id")
    assert [(e.target, e.message) for e in events] == [
        (MAIN.path("API_KEY"), "removed"),
        (MAIN.path("API_KEY"), "was already gone"),
    ]


def test_reveal_returns_the_value_and_audits_it(admin_user: Any) -> None:
    put(SHARED, "API_KEY", VALUE)
    assert services.secret_reveal(actor=admin_user, scope=SHARED, name="API_KEY") == VALUE
    event = AuditEvent.objects.get(action="secret.reveal")
    assert (event.target, event.outcome, event.actor_name) == (SHARED.path("API_KEY"), "success", "ada")
    assert_never_audited(VALUE)


def test_reveal_of_a_missing_secret_is_none_and_audited_as_failure(admin_user: Any) -> None:
    assert services.secret_reveal(actor=admin_user, scope=SHARED, name="NOPE") is None
    event = AuditEvent.objects.get(action="secret.reveal")
    assert (event.target, event.outcome, event.message) == (SHARED.path("NOPE"), "failure", "no such secret")


def test_the_audit_target_is_the_whole_path_even_for_the_longest_name() -> None:
    name = "N" * 512
    put(SHARED, name, VALUE)
    assert AuditEvent.objects.get(action="secret.set").target == SHARED.path(name)


# --- size limits and AWS errors ----------------------------------------------


@pytest.mark.parametrize("value", ["x" * 4096, "x" * 4097, "é" * 4096])
def test_values_up_to_the_advanced_limit_are_stored_with_intelligent_tiering(value: str) -> None:
    # AWS picks the tier by size; asking for one explicitly would fail when a secret shrinks.
    put(MAIN, "BIG", value)
    (parameter,) = client().describe_parameters()["Parameters"]
    assert parameter["Tier"] == "Intelligent-Tiering"
    assert stored() == {MAIN.path("BIG"): value}


@pytest.mark.parametrize(("value", "size"), [("x" * 8193, "8,193"), ("é" * 4097, "8,194")])
def test_values_above_the_advanced_tier_are_refused(value: str, size: str) -> None:
    with pytest.raises(ssm.ValueTooLarge) as caught:
        put(MAIN, "BIG", value)
    assert str(caught.value) == f"The value is {size} bytes; SSM holds at most 8,192 bytes."
    assert caught.value.action == "ssm:PutParameter"
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_access_denied_names_the_missing_permission() -> None:
    with Stubber(aws_client("ssm")) as stub:
        stub.add_client_error("put_parameter", service_error_code="AccessDeniedException", service_message="not authorized")
        with pytest.raises(AwsAccessDenied) as caught:
            put(MAIN, "API_KEY", VALUE)
    assert caught.value.action == "ssm:PutParameter"
    assert caught.value.code == "AccessDeniedException"
    assert str(caught.value) == (
        "Permission denied: the console's AWS identity may not call ssm:PutParameter. "
        "Grant ssm:PutParameter in its IAM policy. (AccessDeniedException)"
    )
    assert VALUE not in str(caught.value)
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_access_denied_during_import_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**kwargs: Any) -> None:
        raise access_denied("PutParameter")

    monkeypatch.setattr(aws_client("ssm"), "put_parameter", refuse)
    with pytest.raises(AwsAccessDenied, match="may not call ssm:PutParameter"):
        services.secret_import(actor=None, scopes=[MAIN], text="A=1\nB=2\n")
    monkeypatch.undo()
    assert stored() == {}
    assert not AuditEvent.objects.exists()


# --- copy --------------------------------------------------------------------


def test_copy_keeps_existing_secrets_unless_overwrite(admin_user: Any) -> None:
    put(MAIN, "A", "main_a_v4lue")
    put(MAIN, "B", "main_b_v4lue")
    put(DEV, "B", "dev_b_v4lue")
    put(DEV, "C", "dev_c_v4lue")
    assert services.secret_copy(actor=admin_user, source=MAIN, target=DEV) == ["A"]
    assert stored() == {
        MAIN.path("A"): "main_a_v4lue", MAIN.path("B"): "main_b_v4lue",
        DEV.path("A"): "main_a_v4lue", DEV.path("B"): "dev_b_v4lue", DEV.path("C"): "dev_c_v4lue",
    }  # fmt: skip
    assert services.secret_copy(actor=admin_user, source=MAIN, target=DEV, overwrite=True) == ["A", "B"]
    assert stored()[DEV.path("B")] == "main_b_v4lue"
    assert stored()[DEV.path("C")] == "dev_c_v4lue"
    events = AuditEvent.objects.filter(action="secret.copy").order_by("id")
    assert [(e.target, e.message) for e in events] == [
        (DEV.prefix, f"copied 1 from {MAIN.prefix}: A"),
        (DEV.prefix, f"copied 2 from {MAIN.prefix}: A, B"),
    ]
    assert_never_audited("main_a_v4lue", "main_b_v4lue", "dev_b_v4lue", "dev_c_v4lue")


def test_copy_between_kinds_of_scope() -> None:
    put(SHARED, "A", VALUE)
    assert services.secret_copy(actor=None, source=SHARED, target=SANDBOX) == ["A"]
    assert stored() == {SHARED.path("A"): VALUE, SANDBOX.path("A"): VALUE}


# --- parse_env ---------------------------------------------------------------

TOO_BIG = "x" * 8193

PARSE_CASES: list[tuple[str, list[tuple[int, str, str]], list[str]]] = [
    ("A=1\nB=2", [(1, "A", "1"), (2, "B", "2")], []),
    ("# comment\n\n   \nA=1\n  # indented comment\n", [(4, "A", "1")], []),
    ("export A=1\nexport   B = 2 \n", [(1, "A", "1"), (2, "B", "2")], []),
    ('A="two words"\nB=\'single\'\nC=" padded "', [(1, "A", "two words"), (2, "B", "single"), (3, "C", " padded ")], []),
    ('A="mismatch\'\nB="', [(1, "A", "\"mismatch'"), (2, "B", '"')], []),
    ("URL=postgres://u:p@h/db?x=1", [(1, "URL", "postgres://u:p@h/db?x=1")], []),
    ("A=1\r\nB=2\r\n", [(1, "A", "1"), (2, "B", "2")], []),
    ("A.b-c_9=ok", [(1, "A.b-c_9", "ok")], []),
    ("A=1\nB=2\nA=3", [(1, "A", "1"), (2, "B", "2")], ["line 3: A was already given on line 1"]),
    (
        "bad name=1\nsemi;colon=2\nslash/x=3",
        [],
        [
            "line 1: 'bad name' is not a valid secret name: use letters, digits, '_', '.' and '-' only.",
            "line 2: 'semi;colon' is not a valid secret name: use letters, digits, '_', '.' and '-' only.",
            "line 3: 'slash/x' is not a valid secret name: use letters, digits, '_', '.' and '-' only.",
        ],
    ),
    ("A=1\nJUSTANAME\nexport\n", [(1, "A", "1")], ["line 2: expected NAME=value", "line 3: expected NAME=value"]),
    ("=value", [], ["line 1: Enter a secret name."]),
    ("A=\nB=\"\"\nC=''\nD=   ", [], [f"line {n}: {c} has no value" for n, c in enumerate("ABCD", start=1)]),
    (f"OK=1\nBIG={TOO_BIG}", [(1, "OK", "1")], ["line 2: the value of BIG is longer than SSM allows (8,192 bytes)"]),
    (f'BIG="{TOO_BIG[:-1]}"', [(1, "BIG", TOO_BIG[:-1])], []),
    ("", [], ["no NAME=value lines found"]),
    ("# nothing\n\n", [], ["no NAME=value lines found"]),
]


@pytest.mark.parametrize(("text", "entries", "errors"), PARSE_CASES)
def test_parse_env(text: str, entries: list[tuple[int, str, str]], errors: list[str]) -> None:
    parsed, found = services.parse_env(text)
    assert [(e.line, e.name, e.value) for e in parsed] == entries
    assert found == errors


def test_parse_env_reports_every_error_with_its_line() -> None:
    text = "# header\nA=1\n\nbad name=2\nB\nA=3\nC=\n"
    assert services.parse_env(text)[1] == [
        "line 4: 'bad name' is not a valid secret name: use letters, digits, '_', '.' and '-' only.",
        "line 5: expected NAME=value",
        "line 6: A was already given on line 2",
        "line 7: C has no value",
    ]


# --- import ------------------------------------------------------------------


def test_import_with_one_bad_line_writes_nothing(admin_user: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_import(actor=admin_user, scopes=[MAIN, SHARED], text=f"A={VALUE}\nB={VALUE}\nnot a line\nC=3")
    assert caught.value.message_dict == {"text": ["line 3: expected NAME=value"]}
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_an_import_over_its_limits_is_refused_with_the_limit_and_writes_nothing(admin_user: Any) -> None:
    big = "A=" + "x" * (services.MAX_IMPORT_BYTES + 1)
    with pytest.raises(ValidationError) as caught:
        services.secret_import(actor=admin_user, scopes=[MAIN], text=big)
    assert caught.value.message_dict == {"text": [f"the text is {len(big):,} bytes; an import takes at most 256 KB"]}
    many = "\n".join(f"S{n}=v" for n in range(services.MAX_IMPORT_ENTRIES + 1))
    with pytest.raises(ValidationError) as caught:
        services.secret_import(actor=admin_user, scopes=[MAIN], text=many)
    assert caught.value.message_dict == {"text": ["501 secrets in one import; at most 500 at a time"]}
    assert stored() == {}
    assert not AuditEvent.objects.exists()


def test_import_needs_a_scope() -> None:
    with pytest.raises(ValidationError) as caught:
        services.secret_import(actor=None, scopes=[], text="A=1")
    assert caught.value.message_dict == {"scopes": ["Choose where the secrets go."]}
    assert stored() == {}


def test_import_writes_every_entry_to_every_scope(admin_user: Any) -> None:
    put(MAIN, "UNRELATED", "kept")
    text = f"export A={VALUE}\nB='{VALUE}b'\n"
    assert services.secret_import(actor=admin_user, scopes=[MAIN, SHARED, SANDBOX], text=text) == ["A", "B"]
    expected = {
        scope.path(name): value for scope in (MAIN, SHARED, SANDBOX) for name, value in (("A", VALUE), ("B", VALUE + "b"))
    }
    assert stored() == {**expected, MAIN.path("UNRELATED"): "kept"}
    event = AuditEvent.objects.get(action="secret.import")
    assert event.target == f"{MAIN.prefix}, {SHARED.prefix}, {SANDBOX.prefix}"
    assert event.message == "imported 2 names: A, B"
    assert event.actor_name == "ada"
    assert_never_audited(VALUE)


def fail_on_calls(monkeypatch: pytest.MonkeyPatch, *failing: int) -> list[str]:
    """Make `ssm.put_value` raise on the given call numbers (1-based); returns the paths it was called with."""
    real: Callable[..., int] = ssm.put_value
    calls: list[str] = []

    def put_value(path: str, value: str, *, kms_key_id: str = "", overwrite: bool = True) -> int:
        calls.append(path)
        if len(calls) in failing:
            raise AwsError("boom", action="ssm:PutParameter")
        return real(path, value, kms_key_id=kms_key_id, overwrite=overwrite)

    monkeypatch.setattr(ssm, "put_value", put_value)
    return calls


def test_a_failed_import_puts_back_what_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    put(MAIN, "B", "old-b")
    put(MAIN, "OTHER", "other")
    before = stored()
    AuditEvent.objects.all().delete()
    calls = fail_on_calls(monkeypatch, 3)
    with pytest.raises(AwsError, match=r"^boom$"):
        services.secret_import(actor=None, scopes=[MAIN], text="A=new-a\nB=new-b\nC=new-c\n")
    # A written, B overwritten, C failed; then B restored and A deleted.
    assert calls == [MAIN.path("A"), MAIN.path("B"), MAIN.path("C"), MAIN.path("B")]
    assert stored() == before
    assert not AuditEvent.objects.filter(action="secret.import").exists()


def test_a_failed_import_rolls_back_the_scopes_already_done(monkeypatch: pytest.MonkeyPatch) -> None:
    put(SHARED, "A", "old-shared-a")
    before = stored()
    fail_on_calls(monkeypatch, 3)  # MAIN A, MAIN B, then SHARED A fails
    with pytest.raises(AwsError, match=r"^boom$"):
        services.secret_import(actor=None, scopes=[MAIN, SHARED], text="A=new-a\nB=new-b\n")
    assert stored() == before


def test_a_failing_restore_does_not_stop_the_rest_of_the_rollback(monkeypatch: pytest.MonkeyPatch) -> None:
    put(MAIN, "B", "old-b")
    fail_on_calls(monkeypatch, 3, 4)  # C fails, then restoring B fails too
    with pytest.raises(AwsError, match=r"^boom$"):
        services.secret_import(actor=None, scopes=[MAIN], text="A=new-a\nB=new-b\nC=new-c\n")
    assert MAIN.path("A") not in stored()
