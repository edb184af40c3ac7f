"""amplify_outputs.json validation: real documents pass, broken ones name the key at fault."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apps.branches.outputs import MAX_OUTPUTS_BYTES, SUPPORTED_VERSIONS, OutputsInvalid, parse_outputs
from conftest import fixture_missing

# ../shared next to the repository root: fixtures are read there, never copied in.
SHARED = Path(__file__).resolve().parents[4] / "shared"
INTROSPECTION_DIR = SHARED / "fixtures" / "model-introspection"
OFFICIAL_DIR = SHARED / "fixtures" / "amplify-outputs-schema"
OWN_SCHEMA = Path(__file__).resolve().parents[1] / "outputs_schema.json"
OFFICIAL_FILES = {version: f"schema_v{version}.json" for version in SUPPORTED_VERSIONS}

REGION = "eu-west-1"
AUTH = {"aws_region": REGION, "user_pool_id": f"{REGION}_abc", "user_pool_client_id": "client"}
DATA = {
    "url": "https://abc.appsync-api.eu-west-1.amazonaws.com/graphql",
    "aws_region": REGION,
    "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
    "authorization_types": ["AWS_IAM"],
}
STORAGE = {"aws_region": REGION, "bucket_name": "media-bucket"}
BUCKET = {"name": "media", "bucket_name": "media-bucket", "aws_region": REGION}

# Everything a 1.5 file can hold, as `ampx generate outputs` writes it for a full backend.
FULL_1_5: dict[str, Any] = {
    "$schema": "https://amplify.aws/2024-02/outputs-schema.json",
    "version": "1.5",
    "auth": {
        **AUTH,
        "identity_pool_id": f"{REGION}:0000-1111",
        "password_policy": {
            "min_length": 8,
            "require_numbers": True,
            "require_lowercase": True,
            "require_uppercase": True,
            "require_symbols": False,
        },
        "oauth": {
            "identity_providers": ["GOOGLE", "SIGN_IN_WITH_APPLE"],
            "domain": "shop.auth.eu-west-1.amazoncognito.com",
            "scopes": ["openid", "email"],
            "redirect_sign_in_uri": ["https://shop.example/"],
            "redirect_sign_out_uri": ["https://shop.example/bye"],
            "response_type": "code",
        },
        "standard_required_attributes": ["email", "given_name"],
        "username_attributes": ["email"],
        "user_verification_types": ["email"],
        "unauthenticated_identities_enabled": True,
        "mfa_configuration": "OPTIONAL",
        "mfa_methods": ["TOTP", "EMAIL"],
        "passwordless": {
            "email_otp_enabled": True,
            "sms_otp_enabled": False,
            "web_authn": {"relying_party_id": "shop.example", "user_verification": "preferred"},
            "preferred_challenge": "WEB_AUTHN",
        },
        "groups": [{"ADMINS": {"precedence": 0}}, {"EDITORS": {"precedence": 1}}],
    },
    "data": {
        **DATA,
        "api_key": "da2-secret",
        "model_introspection": {
            "version": 1,
            "models": {
                "Todo": {
                    "name": "Todo",
                    "fields": {
                        "id": {"name": "id", "isArray": False, "type": "ID", "isRequired": True, "attributes": []},
                        "status": {"name": "status", "isArray": False, "type": {"enum": "Status"}, "isRequired": False},
                    },
                    "syncable": True,
                    "pluralName": "Todos",
                    "attributes": [{"type": "model", "properties": {}}],
                    "primaryKeyInfo": {"isCustomPrimaryKey": False, "primaryKeyFieldName": "id", "sortKeyFieldNames": []},
                }
            },
            "enums": {"Status": {"name": "Status", "values": ["OPEN", "DONE"]}},
            "nonModels": {},
        },
    },
    "storage": {
        **STORAGE,
        "buckets": [
            {
                **BUCKET,
                "paths": {
                    "media/*": {"guest": ["get", "list"], "authenticated": ["get", "list", "write", "delete"]},
                    "private/{entity_id}/*": {"entityidentity": ["get", "list", "write", "delete"], "groupsADMINS": ["read"]},
                },
            }
        ],
    },
    "geo": {
        "aws_region": REGION,
        "maps": {"items": {"streets": {"style": "VectorEsriStreets"}}, "default": "streets"},
        "search_indices": {"items": ["places"], "default": "places"},
    },
    "analytics": {"amazon_pinpoint": {"aws_region": REGION, "app_id": "pinpoint-app"}},
    "notifications": {
        "aws_region": REGION,
        "amazon_pinpoint_app_id": "pinpoint-app",
        "channels": ["IN_APP_MESSAGING", "EMAIL"],
        "amazon_connect": {"aws_region": REGION, "endpoint": "https://connect.example"},
    },
    "custom": {"anything": {"goes": [1, "here"]}},
}

# The same without what 1.5 added: a valid 1.4 document.
FULL_1_4: dict[str, Any] = {
    **FULL_1_5,
    "version": "1.4",
    "notifications": {k: v for k, v in FULL_1_5["notifications"].items() if k != "amazon_connect"},
}


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of base with the dotted key path set to value."""
    document = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return document


def _errors(document: object) -> list[str]:
    with pytest.raises(OutputsInvalid) as caught:
        parse_outputs(json.dumps(document))
    return caught.value.errors


# --- real documents ---


def _introspection_files() -> list[Path]:
    if not INTROSPECTION_DIR.is_dir():
        return []
    # The directory also holds ModelIntrospectionSchema.json, the JSON Schema
    # those documents follow: it is not a document.
    return [path for path in sorted(INTROSPECTION_DIR.glob("*.json")) if "$schema" not in json.loads(path.read_text())]


def _as_outputs(document: dict[str, Any]) -> dict[str, Any]:
    """A whole amplify_outputs.json as is; a bare model_introspection wrapped in one."""
    if isinstance(document.get("version"), str) and "data" in document:
        return document
    return {
        "version": "1.4",
        "data": {
            "url": DATA["url"],
            "aws_region": REGION,
            "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
            "authorization_types": [],
            "model_introspection": document,
        },
    }


INTROSPECTION_FILES = _introspection_files()


# With no documents, one case that reports them missing (a failure under CI), not an empty set.
@pytest.mark.parametrize("path", INTROSPECTION_FILES or [INTROSPECTION_DIR], ids=lambda path: path.stem[:40])
def test_real_model_introspection_documents_validate(path: Path) -> None:
    if not path.is_file():
        fixture_missing(f"{INTROSPECTION_DIR} is absent")
    document = _as_outputs(json.loads(path.read_text()))
    assert parse_outputs(json.dumps(document)) == document


def test_the_fixture_directory_was_really_read() -> None:
    if not INTROSPECTION_DIR.is_dir():
        fixture_missing(f"{INTROSPECTION_DIR} is absent")
    assert len(INTROSPECTION_FILES) >= 20


def test_a_full_1_5_document_validates_from_bytes_and_text() -> None:
    text = json.dumps(FULL_1_5, indent=2)
    assert parse_outputs(text) == FULL_1_5
    assert parse_outputs(text.encode("utf-8")) == FULL_1_5


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_supported_version_validates(version: str) -> None:
    document = {"version": version, "auth": AUTH, "data": DATA, "storage": STORAGE}
    assert parse_outputs(json.dumps(document))["version"] == version


def test_supported_versions_are_the_schemas_versions() -> None:
    schema = json.loads(OWN_SCHEMA.read_text())
    assert tuple(schema["properties"]["version"]["enum"]) == SUPPORTED_VERSIONS


# --- broken documents: every problem, each named by its key path ---


def test_not_json_names_line_and_column() -> None:
    with pytest.raises(OutputsInvalid) as caught:
        parse_outputs('{\n  "version": "1.5",\n  "data": ,\n}')
    assert caught.value.errors == ["(document): not valid JSON: Expecting value at line 3, column 11"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["version", "1.5"]', "(document): must be a JSON object with a version key, not an array"),
        ('{"version": NaN}', "(document): not valid JSON: NaN is not valid JSON"),
        ("[" * 100_000, "(document): not valid JSON: nested too deeply"),
        (b"\xff\xfe\xfa", "(document): not valid JSON: the file is not UTF-8 text"),
    ],
)
def test_documents_that_are_not_objects(text: str | bytes, expected: str) -> None:
    with pytest.raises(OutputsInvalid) as caught:
        parse_outputs(text)
    assert caught.value.errors == [expected]


def test_unsupported_version() -> None:
    assert _errors({"version": "2"}) == [
        'version: version "2" is not supported; supported versions are "1", "1.1", "1.2", "1.3", "1.4" and "1.5"'
    ]


def test_missing_version() -> None:
    assert _errors({"data": DATA}) == ["version: is required"]


def test_buckets_are_refused_before_they_existed() -> None:
    document = {"version": "1", "storage": {**STORAGE, "buckets": [BUCKET]}}
    assert _errors(document) == ['storage.buckets: not allowed in a version "1" document (needs version 1.1 or later)']


def test_buckets_in_1_1_are_accepted_but_not_their_access_paths() -> None:
    # The published schema_v1.1.json already has storage.buckets (name,
    # bucket_name, aws_region); access paths came with 1.2.
    document = {"version": "1.1", "storage": {**STORAGE, "buckets": [BUCKET]}}
    assert parse_outputs(json.dumps(document)) == document
    with_paths = {"version": "1.1", "storage": {**STORAGE, "buckets": [{**BUCKET, "paths": {"media/*": {"guest": ["get"]}}}]}}
    assert _errors(with_paths) == [
        'storage.buckets[0].paths: not allowed in a version "1.1" document (needs version 1.2 or later)'
    ]


@pytest.mark.parametrize("version", ["1.2", "1.3", "1.4", "1.5"])
def test_access_keys_as_ampx_writes_them(version: str) -> None:
    # ampx writes group<name> and entity<name> keys; the published 1.2 and 1.3
    # schemas listed only literal "groups"/"entity" (so refused real files) and
    # 1.4 stopped checking. We check the written form for every version.
    paths = {"private/{entity_id}/*": {"entityidentity": ["get", "write"], "groupsADMINS": ["read"], "guest": []}}
    document = {"version": version, "storage": {**STORAGE, "buckets": [{**BUCKET, "paths": paths}]}}
    assert parse_outputs(json.dumps(document)) == document
    bad = {"version": version, "storage": {**STORAGE, "buckets": [{**BUCKET, "paths": {"m/*": {"guest": ["peek"]}}}]}}
    assert _errors(bad) == [
        "storage.buckets[0].paths.m/*.guest[0]: 'peek' is not one of ['read', 'get', 'list', 'write', 'delete']"
    ]


@pytest.mark.parametrize(
    ("version", "path", "value", "expected"),
    [
        ("1.2", "auth.groups", [{"ADMINS": {"precedence": 0}}], 'auth.groups: not allowed in a version "1.2" document'),
        ("1.3", "auth.passwordless", {"email_otp_enabled": True}, 'auth.passwordless: not allowed in a version "1.3"'),
        ("1.3", "auth.mfa_methods", ["TOTP", "EMAIL"], 'auth.mfa_methods[1]: "EMAIL" is not allowed in a version "1.3"'),
    ],
)
def test_keys_newer_than_the_document(version: str, path: str, value: Any, expected: str) -> None:
    document = _with({"version": version, "auth": AUTH}, path, value)
    [error] = _errors(document)
    assert error.startswith(expected)


def test_amazon_connect_needs_1_5() -> None:
    document = {"version": "1.4", "notifications": {"amazon_connect": {"aws_region": REGION, "endpoint": "https://c"}}}
    assert _errors(document) == [
        'notifications.amazon_connect: not allowed in a version "1.4" document (needs version 1.5 or later)',
        "notifications.amazon_pinpoint_app_id: is required",
        "notifications.aws_region: is required",
        "notifications.channels: is required",
    ]


def test_notifications_need_pinpoint_or_connect() -> None:
    assert _errors({"version": "1.5", "notifications": {}}) == [
        "notifications: needs either aws_region, amazon_pinpoint_app_id and channels (Amazon Pinpoint) or amazon_connect"
    ]


def test_data_url_must_be_a_string() -> None:
    assert _errors(_with(FULL_1_5, "data.url", 42)) == ["data.url: must be a string, not a number"]


def test_unknown_top_level_key() -> None:
    [error] = _errors({**FULL_1_5, "hosting": {}})
    assert error.startswith("hosting: unknown key; expected one of: $schema, analytics, auth, custom, data")


def test_model_introspection_shape_is_checked() -> None:
    document = _with(FULL_1_5, "data.model_introspection.models", [])
    assert _errors(document) == ["data.model_introspection.models: must be an object, not an array"]
    document = _with(FULL_1_5, "data.model_introspection", {"version": 1, "models": {}, "enums": {}})
    assert _errors(document) == ["data.model_introspection.nonModels: is required"]


def test_every_problem_is_listed_sorted_by_path() -> None:
    document = {
        "version": "1.5",
        "zzz": 1,
        "auth": {"aws_region": REGION, "user_pool_id": 7},
        "data": {**DATA, "authorization_types": ["API_KEY", "PASSWORD"]},
        "storage": {**STORAGE, "buckets": [{**BUCKET, "paths": {"a/*": {"everyone": ["get"]}}}]},
    }
    assert _errors(document) == [
        "auth.user_pool_client_id: is required",
        "auth.user_pool_id: must be a string, not a number",
        "data.authorization_types[1]: 'PASSWORD' is not one of "
        "['AMAZON_COGNITO_USER_POOLS', 'API_KEY', 'AWS_IAM', 'AWS_LAMBDA', 'OPENID_CONNECT']",
        'storage.buckets[0].paths.a/*: unknown access key "everyone"; '
        "expected guest, authenticated, resource, group<name> or entity<name>",
        "zzz: unknown key; expected one of: $schema, analytics, auth, custom, data, geo, notifications, storage, version",
    ]


def test_too_large() -> None:
    text = json.dumps({"version": "1.5", "custom": {"blob": "x" * MAX_OUTPUTS_BYTES}})
    with pytest.raises(OutputsInvalid) as caught:
        parse_outputs(text)
    assert caught.value.errors == [f"(document): the file is {len(text):,} bytes; the limit is 5 MB"]


# --- our schema and the published ones agree ---

AGREEMENT_CASES: list[tuple[str, dict[str, Any], bool]] = [
    *((f"minimal {v}", {"version": v}, True) for v in SUPPORTED_VERSIONS),
    ("full 1.5", FULL_1_5, True),
    ("full 1.5 as 1.4 (amazon_connect)", {**FULL_1_5, "version": "1.4"}, False),
    ("full 1.5 as 1.4 without amazon_connect", FULL_1_4, True),
    ("1.1 buckets", {"version": "1.1", "storage": {**STORAGE, "buckets": [BUCKET]}}, True),
    ("1 buckets", {"version": "1", "storage": {**STORAGE, "buckets": [BUCKET]}}, False),
    ("1.1 bucket paths", {"version": "1.1", "storage": {**STORAGE, "buckets": [{**BUCKET, "paths": {}}]}}, False),
    (
        "1.2 bucket paths",
        {"version": "1.2", "storage": {**STORAGE, "buckets": [{**BUCKET, "paths": {"m/*": {"guest": ["get", "list"]}}}]}},
        True,
    ),
    (
        "bucket without name",
        {"version": "1.5", "storage": {**STORAGE, "buckets": [{"bucket_name": "b", "aws_region": REGION}]}},
        False,
    ),
    ("1.3 groups", {"version": "1.3", "auth": {**AUTH, "groups": [{"ADMINS": {"precedence": 1}}]}}, True),
    ("1.2 groups", {"version": "1.2", "auth": {**AUTH, "groups": []}}, False),
    ("1.4 passwordless", {"version": "1.4", "auth": {**AUTH, "passwordless": {"sms_otp_enabled": True}}}, True),
    ("1.3 passwordless", {"version": "1.3", "auth": {**AUTH, "passwordless": {}}}, False),
    ("1.3 email mfa", {"version": "1.3", "auth": {**AUTH, "mfa_methods": ["EMAIL"]}}, False),
    ("1.5 connect only", {"version": "1.5", "notifications": {"amazon_connect": {"aws_region": REGION, "endpoint": "e"}}}, True),
    ("1.5 empty notifications", {"version": "1.5", "notifications": {}}, False),
    ("data.url a number", _with(FULL_1_5, "data.url", 42), False),
    ("data without url", {"version": "1.5", "data": {k: v for k, v in DATA.items() if k != "url"}}, False),
    ("unknown auth type", _with(FULL_1_5, "data.default_authorization_type", "PASSWORD"), False),
    ("unknown top-level key", {"version": "1.5", "hosting": {}}, False),
    ("unknown data key", _with(FULL_1_5, "data.endpoint", "x"), False),
    ("version 2", {"version": "2"}, False),
    ("version as a number", {"version": 1.5}, False),
    ("no version", {"data": DATA}, False),
    ("short password", _with(FULL_1_5, "auth.password_policy.min_length", 5), False),
    ("oauth id_token", _with(FULL_1_5, "auth.oauth.response_type", "id_token"), False),
    ("geo without region", {"version": "1.5", "geo": {"maps": {"items": {}, "default": "m"}}}, False),
    ("custom not an object", {"version": "1.5", "custom": [1]}, False),
    ("custom anything", {"version": "1", "custom": {"a": [None, 1.5, {"b": True}]}}, True),
]


def _official_accepts(document: dict[str, Any]) -> bool:
    version = document.get("version")
    name = OFFICIAL_FILES.get(version) if isinstance(version, str) else None
    if name is None:
        return False  # no published schema for it
    schema = json.loads((OFFICIAL_DIR / name).read_text())
    # The published schema_v1.json says "const": "1.1" (a slip when the v1.1
    # file was split off; client_config_v1.ts says '1'): compare everything else.
    published = schema["properties"]["version"].get("const", version)
    return Draft202012Validator(schema).is_valid({**document, "version": published})


def _ours_accept(document: dict[str, Any]) -> bool:
    try:
        parse_outputs(json.dumps(document))
    except OutputsInvalid:
        return False
    return True


AGREEMENT_IDS = [name for name, _, _ in AGREEMENT_CASES]
AGREEMENT_PARAMS = [(document, valid) for _, document, valid in AGREEMENT_CASES]


@pytest.mark.parametrize(("document", "valid"), AGREEMENT_PARAMS, ids=AGREEMENT_IDS)
def test_our_schema_on_the_agreement_cases(document: dict[str, Any], valid: bool) -> None:
    assert _ours_accept(document) == valid


@pytest.mark.parametrize(("document", "valid"), AGREEMENT_PARAMS, ids=AGREEMENT_IDS)
def test_the_published_schemas_agree(document: dict[str, Any], valid: bool) -> None:
    if not OFFICIAL_DIR.is_dir():
        fixture_missing(f"{OFFICIAL_DIR} is absent")
    assert _official_accepts(document) == valid
