#!/usr/bin/env python3
"""A stand-in for `npx ampx` (Amplify Gen 2 CLI) that needs no Node.js and no CDK.

The real `ampx pipeline-deploy` / `ampx sandbox` synthesize amplify/*.ts with the
AWS CDK and deploy the result to a real AWS account. This script deploys the same
*shape* of backend with plain boto3 calls: the stack name, stack tags and root
stack outputs the toolchain produces, one DynamoDB table per model, the model
schema object in S3, a Cognito user pool, the functions of amplify/functions/ in a
nested stack (as real backends nest theirs), and an `amplify_outputs.json` in the
format the Amplify client libraries read. So it works against an AWS emulator
(`AWS_ENDPOINT_URL`) as well as against a real account.

It reads amplify/data/schema.graphql; amplify/*.ts are documentation only.
It lives in the app's repository, so it depends on nothing but the standard
library and boto3.

    python3 tools/ampx_standin.py pipeline-deploy --branch main --app-id d1a2b3c4
    python3 tools/ampx_standin.py sandbox [--identifier alice]
    python3 tools/ampx_standin.py sandbox delete [--identifier alice] --yes
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# --- Backend identifiers, exactly as @aws-amplify/platform-core computes them ---

STACK_NAME_LENGTH_LIMIT = 128
AMPLIFY_PREFIX = "amplify"
NUM_DASHES = 4
HASH_LENGTH = 10
MAX_NAME_LENGTH = 50
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9]")

# --- What this app's backend looks like (mirrors amplify/*/resource.ts) ---

SCHEMA_FILE = Path("amplify/data/schema.graphql")
MODEL_SCHEMA_KEY = "model-schema.graphql"
STORAGE_NAME = "todoFiles"
# amplify_outputs.json expands `read` into get + list, as the real generator does.
STORAGE_PATHS = {
    "media/*": {
        "guest": ["get", "list"],
        "authenticated": ["get", "list", "write", "delete"],
    }
}
PASSWORD_MIN_LENGTH = 8
PASSWORD_REQUIREMENTS = [
    "REQUIRES_NUMBERS",
    "REQUIRES_LOWERCASE",
    "REQUIRES_UPPERCASE",
    "REQUIRES_SYMBOLS",
]
DEFAULT_AUTH_TYPE = "AMAZON_COGNITO_USER_POOLS"
OAUTH_DEFAULT_SCOPES = ["profile", "phone", "email", "openid", "aws.cognito.signin.user.admin"]
# The identity pool makes IAM an additional AppSync auth mode, as in real Gen 2 apps.
ADDITIONAL_AUTH_TYPES = ["AWS_IAM"]
OUTPUTS_VERSIONS = ("1.4", "1.5")
OUTPUTS_FILE = "amplify_outputs.json"


@dataclass(frozen=True)
class FunctionDef:
    """One `defineFunction` of amplify/functions/*/resource.ts."""

    name: str  # the friendly name, as `defineFunction({ name })` gives it
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str]
    secrets: tuple[str, ...] = ()  # `secret("NAME")` values: read from SSM at run time


FUNCTIONS = (
    FunctionDef("sayHello", 512, 3, {"GREETING": "Hello"}, secrets=("API_KEY",)),
    FunctionDef("todoCleanup", 256, 60, {"RETENTION_DAYS": "30"}),
)
FUNCTION_RUNTIME = "nodejs20.x"
FUNCTIONS_TEMPLATE_KEY = "function-stack.json"
FUNCTIONS_STACK_ID = "function1351588B"  # the root stack's resource for the nested stack
FRIENDLY_NAME_TAG = "amplify:friendly-name"
# What real Gen 2 functions hold in place of a secret until they read it from SSM.
SECRET_PLACEHOLDER = "<value will be resolved during runtime>"  # noqa: S105 (not a secret)

# Types AppSync defines itself: never models, enums or non-models.
OPERATION_TYPES = {"Query", "Mutation", "Subscription"}
SCALARS = {
    "ID",
    "String",
    "Int",
    "Float",
    "Boolean",
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSPhone",
    "AWSURL",
    "AWSIPAddress",
}
# Relationship directives and the connectionType model_introspection gives them.
RELATIONSHIPS = {"hasMany": "HAS_MANY", "hasOne": "HAS_ONE", "belongsTo": "BELONGS_TO"}
# Timestamps the @model transformer manages: clients may read, never write them.
READ_ONLY_TIMESTAMPS = ("createdAt", "updatedAt")


class StandinError(Exception):
    """A failure with a message fit for the user; printed as one line."""


def _sanitize(value: str) -> str:
    return _UNSAFE_CHARS.sub("", value)


def backend_hash(namespace: str, name: str) -> str:
    # Over the raw strings (before sanitizing), like the toolchain.
    return hashlib.sha512((namespace + name).encode("utf-8")).hexdigest()[:HASH_LENGTH]


def stack_name(namespace: str, name: str, deployment_type: str) -> str:
    """`amplify-<namespace>-<name>-<type>-<hash>`, cut to CloudFormation's 128 chars."""
    clean_name = _sanitize(name)[:MAX_NAME_LENGTH]
    room = STACK_NAME_LENGTH_LIMIT - len(AMPLIFY_PREFIX) - len(deployment_type) - len(clean_name) - NUM_DASHES - HASH_LENGTH
    clean_namespace = _sanitize(namespace)[: room - 1]
    digest = backend_hash(namespace, name)
    return "-".join([AMPLIFY_PREFIX, clean_namespace, clean_name, deployment_type, digest])


def bucket_name(stack: str, purpose: str) -> str:
    """A valid S3 bucket name (<= 63 chars, lowercase) that keeps the backend's hash.

    The hash stays whole so two backends never share a bucket even when the
    readable head has to be cut.
    """
    head, _, digest = stack.rpartition("-")
    room = 63 - len(digest) - len(purpose) - 2
    head = head.lower()[:room].rstrip("-")
    return f"{head}-{digest}-{purpose}"


@dataclass(frozen=True)
class Backend:
    namespace: str
    name: str
    deployment_type: str  # branch | sandbox

    @property
    def stack(self) -> str:
        return stack_name(self.namespace, self.name, self.deployment_type)

    @property
    def tags(self) -> dict[str, str]:
        if self.deployment_type == "branch":
            return {
                "created-by": "amplify",
                "amplify:app-id": self.namespace,
                "amplify:branch-name": self.name,
                "amplify:deployment-type": "branch",
            }
        return {"created-by": "amplify", "amplify:deployment-type": self.deployment_type}

    @property
    def storage_bucket(self) -> str:
        return bucket_name(self.stack, "storage")

    @property
    def assets_bucket(self) -> str:
        return bucket_name(self.stack, "assets")

    @property
    def identity_pool_name(self) -> str:
        # Identity pool names allow only word characters and spaces.
        return self.stack.replace("-", "_")


# --- A small parser for the model SDL (type/enum definitions with directives) ---

_TOKEN = re.compile(
    r'"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|#[^\n]*|[\s,]+|\.\.\.|[A-Za-z_][A-Za-z0-9_]*'
    r"|-?\d+(?:\.\d+)?|[{}()\[\]:!@=|&$]"
)


# A directive's arguments: `@hasMany(references: ["projectId"])` -> {"references": ["projectId"]}.
Directives = dict[str, dict[str, Any]]


@dataclass
class FieldDef:
    name: str
    type_name: str
    is_required: bool
    is_array: bool = False
    is_array_nullable: bool = False
    directives: Directives = field(default_factory=dict)


@dataclass
class TypeDef:
    name: str
    directives: Directives
    fields: list[FieldDef] = field(default_factory=list)

    @property
    def is_model(self) -> bool:
        return "model" in self.directives

    def field_named(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Schema:
    types: list[TypeDef]
    enums: dict[str, list[str]]

    @property
    def models(self) -> list[TypeDef]:
        return [t for t in self.types if t.is_model]

    @property
    def non_models(self) -> list[TypeDef]:
        return [t for t in self.types if not t.is_model and t.name not in OPERATION_TYPES]

    def model(self, name: str) -> TypeDef | None:
        return next((t for t in self.models if t.name == name), None)


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            line = text.count("\n", 0, pos) + 1
            raise StandinError(f"{SCHEMA_FILE}: unexpected character {text[pos]!r} on line {line}")
        token = match.group()
        pos = match.end()
        # Commas and comments carry no meaning in GraphQL.
        if not token.strip(" \t\r\n,") or token.startswith("#"):
            continue
        tokens.append(token)
    return tokens


class _SdlParser:
    """Enough of GraphQL SDL for Amplify model schemas: `type` and `enum`."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            wanted = f"{expected!r}" if expected else "more input"
            raise StandinError(f"{SCHEMA_FILE}: expected {wanted}, found {token!r}")
        self.pos += 1
        return token

    def skip_description(self) -> None:
        while (token := self.peek()) is not None and token.startswith('"'):
            self.pos += 1

    def skip_balanced(self, opening: str, closing: str) -> None:
        depth = 0
        while True:
            token = self.take()
            depth += (token == opening) - (token == closing)
            if depth == 0:
                return

    def directives(self) -> Directives:
        found: Directives = {}
        while self.peek() == "@":
            self.take("@")
            name = self.take()
            arguments: dict[str, Any] = {}
            if self.peek() == "(":
                self.take("(")
                while self.peek() != ")":
                    key = self.take()
                    self.take(":")
                    arguments[key] = self.value()
                self.take(")")
            found[name] = arguments
        return found

    def value(self) -> Any:
        """A directive argument's value: string, number, true/false/null, enum name, list or object."""
        opening = self.take()
        if opening == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if opening == "{":
            members = {}
            while self.peek() != "}":
                key = self.take()
                self.take(":")
                members[key] = self.value()
            self.take("}")
            return members
        if opening.startswith('"'):
            return json.loads(opening) if not opening.startswith('"""') else opening[3:-3]
        if re.fullmatch(r"-?\d+(?:\.\d+)?", opening):
            return float(opening) if "." in opening else int(opening)
        return {"true": True, "false": False, "null": None}.get(opening, opening)

    def field_type(self) -> tuple[str, bool, bool, bool]:
        """(base type, item required, is list, list nullable)."""
        if self.peek() == "[":
            self.take("[")
            base, item_required, _, _ = self.field_type()
            self.take("]")
            list_required = self.peek() == "!"
            if list_required:
                self.take("!")
            return base, item_required, True, not list_required
        base = self.take()
        required = self.peek() == "!"
        if required:
            self.take("!")
        return base, required, False, False

    def type_definition(self) -> TypeDef:
        name = self.take()
        if self.peek() == "implements":
            self.take()
            while self.peek() not in ("{", "@", None):
                self.take()
        type_def = TypeDef(name=name, directives=self.directives())
        self.take("{")
        while self.peek() != "}":
            self.skip_description()
            field_name = self.take()
            if self.peek() == "(":  # field arguments: not part of the model shape
                self.skip_balanced("(", ")")
            self.take(":")
            base, required, is_array, array_nullable = self.field_type()
            directives = self.directives()
            type_def.fields.append(FieldDef(field_name, base, required, is_array, array_nullable, directives))
        self.take("}")
        return type_def

    def enum_definition(self) -> tuple[str, list[str]]:
        name = self.take()
        self.directives()
        self.take("{")
        values: list[str] = []
        while self.peek() != "}":
            self.skip_description()
            values.append(self.take())
            self.directives()
        self.take("}")
        return name, values

    def parse(self) -> Schema:
        schema = Schema(types=[], enums={})
        while self.peek() is not None:
            self.skip_description()
            keyword = self.take()
            if keyword == "type":
                schema.types.append(self.type_definition())
            elif keyword == "enum":
                name, values = self.enum_definition()
                schema.enums[name] = values
            elif keyword in ("input", "interface"):
                # Not part of the model shape; skip the whole block.
                self.take()
                self.directives()
                self.skip_balanced("{", "}")
            else:
                raise StandinError(f"{SCHEMA_FILE}: '{keyword}' definitions are not supported by the stand-in")
        return schema


def parse_schema(text: str) -> Schema:
    schema = _SdlParser(text).parse()
    if not schema.models:
        raise StandinError(f"{SCHEMA_FILE} has no `type ... @model` definition")
    # Checked before anything is deployed: a mistake stops the build with one clear line.
    for type_def in schema.types:
        for f in type_def.fields:
            _check_field(type_def, f, schema)
    return schema


def _check_field(owner: TypeDef, f: FieldDef, schema: Schema) -> None:
    where = f"{SCHEMA_FILE}: {owner.name}.{f.name}"
    known = f.type_name in SCALARS or f.type_name in schema.enums or any(t.name == f.type_name for t in schema.types)
    if not known:
        raise StandinError(f"{where} has the unknown type {f.type_name} (not an AppSync scalar, enum or type of the schema)")
    if "primaryKey" in f.directives and (f.name != "id" or f.directives["primaryKey"].get("sortKeyFields")):
        raise StandinError(f"{where}: the stand-in keys every table on id; custom primary keys are not supported")
    linked = schema.model(f.type_name)
    kinds = [d for d in RELATIONSHIPS if d in f.directives]
    if "manyToMany" in f.directives:
        raise StandinError(f"{where}: @manyToMany is not supported; link the models through a join model")
    if linked is None:
        if kinds:
            raise StandinError(f"{where}: @{kinds[0]} needs a @model type, not {f.type_name}")
        return
    if not owner.is_model:
        raise StandinError(f"{where}: a custom type cannot link to the model {f.type_name}")
    if len(kinds) != 1:
        raise StandinError(f"{where} links to the model {f.type_name}: give it one of @hasMany, @hasOne or @belongsTo")
    kind = kinds[0]
    arguments = f.directives[kind]
    references = _references(arguments)
    if "fields" in arguments or not references:
        raise StandinError(f"{where}: the stand-in supports Gen 2 relationships only, @{kind}(references: [...])")
    if f.is_array != (kind == "hasMany"):
        raise StandinError(f"{where}: @{kind} needs {'a list' if kind == 'hasMany' else 'a single'} {f.type_name}")
    # The references are fields of the model that holds the foreign key: the child.
    holder = owner if kind == "belongsTo" else linked
    for name in references:
        if holder.field_named(name) is None:
            raise StandinError(f"{where}: references {name}, which is not a field of {holder.name}")
    # Gen 2 relationships are declared on both sides, with the same references.
    back_kinds = ("hasMany", "hasOne") if kind == "belongsTo" else ("belongsTo",)
    back = [
        g
        for g in linked.fields
        if g.type_name == owner.name and any(_references(g.directives.get(k)) == references for k in back_kinds)
    ]
    if not back:
        wanted = " or ".join(f"@{k}" for k in back_kinds)
        raise StandinError(
            f"{where}: {linked.name} needs a {wanted} field of type {owner.name} with references: {json.dumps(references)}"
        )


def _references(arguments: dict[str, Any] | None) -> list[str]:
    """A relationship's `references`; GraphQL lets a single value stand for a list."""
    value = (arguments or {}).get("references")
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


# --- model_introspection, in the shape Amplify's code generator writes it ---


def plural_name(name: str) -> str:
    if re.search(r"[^aeiou]y$", name):
        return name[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", name):
        return name + "es"
    return name + "s"


def _introspection_type(type_name: str, schema: Schema) -> str | dict[str, str]:
    if type_name in schema.enums:
        return {"enum": type_name}
    if any(t.name == type_name for t in schema.models):
        return {"model": type_name}
    if any(t.name == type_name for t in schema.non_models):
        return {"nonModel": type_name}
    return type_name


def _association(f: FieldDef) -> dict[str, Any]:
    """As the code generator writes a Gen 2 (`references`) relationship: hasMany and
    hasOne name the child's fields that point back (`associatedWith`; hasOne also an
    empty `targetNames`), belongsTo the child's own fields holding the parent's key."""
    kind = next(k for k in RELATIONSHIPS if k in f.directives)
    references = _references(f.directives[kind])
    if kind == "belongsTo":
        return {"connectionType": RELATIONSHIPS[kind], "targetNames": references}
    association: dict[str, Any] = {"connectionType": RELATIONSHIPS[kind], "associatedWith": references}
    if kind == "hasOne":
        association["targetNames"] = []
    return association


def _introspection_field(f: FieldDef, schema: Schema, *, read_only: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f.name,
        "isArray": f.is_array,
        "type": _introspection_type(f.type_name, schema),
        # Managed timestamps are optional for clients, whatever the SDL says.
        "isRequired": f.is_required and not read_only,
        "attributes": [],
    }
    if f.is_array:
        entry["isArrayNullable"] = f.is_array_nullable
    if read_only:
        entry["isReadOnly"] = True
    if schema.model(f.type_name) is not None:
        entry["association"] = _association(f)
    return entry


def _model_fields(type_def: TypeDef) -> list[FieldDef]:
    """The model's fields plus the ones the @model transformer adds when absent."""
    fields = list(type_def.fields)
    names = {f.name for f in fields}
    if "id" not in names:
        fields.insert(0, FieldDef("id", "ID", True))
    fields += [FieldDef(n, "AWSDateTime", False) for n in READ_ONLY_TIMESTAMPS if n not in names]
    return fields


AUTH_OPERATIONS = ["create", "update", "delete", "read"]


def _auth_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One @auth rule with the defaults the real generator fills in (owner field, claims,
    provider, operations), keys in its order."""
    operations = rule.get("operations") or rule.get("mutations") or AUTH_OPERATIONS
    claim = rule.get("identityClaim") or rule.get("identityField") or "username"
    if rule.get("allow") == "owner":
        filled = {"provider": "userPools", "ownerField": rule.get("ownerField") or "owner", **rule}
        filled["identityClaim"] = "cognito:username" if claim == "username" else claim
    elif rule.get("allow") == "groups":
        filled = {"groupClaim": "cognito:groups", "provider": "userPools", **rule}
        if not rule.get("groups"):
            filled["groupField"] = rule.get("groupField") or "groups"
    else:
        filled = dict(rule)
    filled["operations"] = operations
    return filled


def _model_attributes(model: TypeDef) -> list[dict[str, Any]]:
    attributes: list[dict[str, Any]] = [{"type": "model", "properties": {}}]
    # The generator writes the key only when the schema declares it (`id: ID! @primaryKey`).
    if any("primaryKey" in f.directives for f in model.fields):
        attributes.append({"type": "key", "properties": {"fields": ["id"]}})
    if "auth" in model.directives:
        rules = (model.directives["auth"] or {}).get("rules") or []
        # Dynamic group rules (a groupField without groups) are left out, as the generator does.
        kept = [r for r in rules if not (r.get("allow") == "groups" and r.get("groupField"))]
        attributes.append({"type": "auth", "properties": {"rules": [_auth_rule(r) for r in kept]}})
    return attributes


def model_introspection(schema: Schema) -> dict[str, Any]:
    models = {}
    for model in schema.models:
        fields = {f.name: _introspection_field(f, schema, read_only=f.name in READ_ONLY_TIMESTAMPS) for f in _model_fields(model)}
        models[model.name] = {
            "name": model.name,
            "fields": fields,
            "syncable": True,
            "pluralName": plural_name(model.name),
            "attributes": _model_attributes(model),
            "primaryKeyInfo": {
                "isCustomPrimaryKey": False,
                "primaryKeyFieldName": "id",
                "sortKeyFieldNames": [],
            },
        }
    non_models = {
        t.name: {
            "name": t.name,
            "fields": {f.name: _introspection_field(f, schema, read_only=False) for f in t.fields},
        }
        for t in schema.non_models
    }
    enums = {name: {"name": name, "values": values} for name, values in schema.enums.items()}
    return {"version": 1, "models": models, "enums": enums, "nonModels": non_models}


# --- AWS plumbing ---


@dataclass
class Aws:
    session: boto3.session.Session
    region: str
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        return self.session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=Config(retries={"mode": "standard"}),
        )


def aws_from_env() -> Aws:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint_url = os.environ.get("AWS_ENDPOINT_URL") or None
    return Aws(boto3.session.Session(region_name=region), region, endpoint_url)


def describe_target(aws: Aws) -> str:
    if not aws.endpoint_url:
        return f"AWS ({aws.region})"
    # Only scheme, host and port: a URL may carry user:password.
    parts = urlsplit(aws.endpoint_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port} ({aws.region})"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# Cognito (moto's CloudFormation cannot create user pools, so use the API) --------


def find_user_pool(idp: Any, name: str) -> str | None:
    kwargs: dict[str, Any] = {"MaxResults": 60}
    while True:
        page = idp.list_user_pools(**kwargs)
        for pool in page.get("UserPools", []):
            if pool["Name"] == name:
                return str(pool["Id"])
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def ensure_user_pool(idp: Any, name: str, tags: dict[str, str]) -> str:
    pool_id = find_user_pool(idp, name)
    if pool_id:
        return pool_id
    policy = {"MinimumLength": PASSWORD_MIN_LENGTH}
    policy.update({_policy_flag(r): True for r in PASSWORD_REQUIREMENTS})
    created = idp.create_user_pool(
        PoolName=name,
        Policies={"PasswordPolicy": policy},
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        MfaConfiguration="OFF",
        UserPoolTags=tags,
    )
    return str(created["UserPool"]["Id"])


def _policy_flag(requirement: str) -> str:
    # REQUIRES_NUMBERS -> RequireNumbers (the Cognito API's spelling).
    return "Require" + requirement.removeprefix("REQUIRES_").capitalize()


def ensure_web_client(idp: Any, pool_id: str, name: str) -> str:
    kwargs: dict[str, Any] = {"UserPoolId": pool_id, "MaxResults": 60}
    while True:
        page = idp.list_user_pool_clients(**kwargs)
        for client in page.get("UserPoolClients", []):
            if client["ClientName"] == name:
                return str(client["ClientId"])
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    created = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=False,  # a browser app cannot keep a secret
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    return str(created["UserPoolClient"]["ClientId"])


def find_identity_pool(identity: Any, name: str) -> str | None:
    kwargs: dict[str, Any] = {"MaxResults": 60}
    while True:
        page = identity.list_identity_pools(**kwargs)
        for pool in page.get("IdentityPools", []):
            if pool["IdentityPoolName"] == name:
                return str(pool["IdentityPoolId"])
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def ensure_identity_pool(aws: Aws, name: str, pool_id: str, client_id: str, tags: dict[str, str]) -> str:
    identity = aws.client("cognito-identity")
    existing = find_identity_pool(identity, name)
    if existing:
        return existing
    created = identity.create_identity_pool(
        IdentityPoolName=name,
        AllowUnauthenticatedIdentities=True,
        CognitoIdentityProviders=[
            {
                "ProviderName": f"cognito-idp.{aws.region}.amazonaws.com/{pool_id}",
                "ClientId": client_id,
                "ServerSideTokenCheck": False,
            }
        ],
        IdentityPoolTags=tags,
    )
    return str(created["IdentityPoolId"])


# AppSync (created through its API: moto's CloudFormation has no AppSync resources)


def find_graphql_api(appsync: Any, name: str) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {}
    while True:
        page = appsync.list_graphql_apis(**kwargs)
        for api in page.get("graphqlApis", []):
            if api["name"] == name:
                return dict(api)
        if not page.get("nextToken"):
            return None
        kwargs["nextToken"] = page["nextToken"]


def ensure_graphql_api(aws: Aws, name: str, user_pool_id: str, tags: dict[str, str]) -> dict[str, Any]:
    appsync = aws.client("appsync")
    settings: dict[str, Any] = {
        "name": name,
        "authenticationType": DEFAULT_AUTH_TYPE,
        "userPoolConfig": {
            "userPoolId": user_pool_id,
            "awsRegion": aws.region,
            "defaultAction": "ALLOW",
        },
        "additionalAuthenticationProviders": [{"authenticationType": t} for t in ADDITIONAL_AUTH_TYPES],
    }
    existing = find_graphql_api(appsync, name)
    if existing:
        # Keep the auth settings in step (the user pool may have been recreated).
        return dict(appsync.update_graphql_api(apiId=existing["apiId"], **settings)["graphqlApi"])
    return dict(appsync.create_graphql_api(tags=tags, **settings)["graphqlApi"])


# S3 -------------------------------------------------------------------------------


def bucket_exists(s3: Any, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
        return True
    except ClientError as error:
        if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise


def ensure_bucket(aws: Aws, s3: Any, name: str, tags: dict[str, str]) -> None:
    if bucket_exists(s3, name):
        return
    kwargs: dict[str, Any] = {"Bucket": name}
    if aws.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
    s3.create_bucket(**kwargs)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def empty_bucket(s3: Any, name: str) -> None:
    """Delete every object version and delete marker (S3 refuses to drop a full bucket)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})


def empty_and_delete_bucket(s3: Any, name: str) -> bool:
    """False when the bucket did not exist."""
    if not bucket_exists(s3, name):
        return False
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)
    return True


# CloudFormation ---------------------------------------------------------------------

STACK_PARAMETERS = (
    "AppSyncApiId",
    "AppSyncApiEndpoint",
    "ModelSchemaS3Uri",
    "UserPoolId",
    "WebClientId",
    "IdentityPoolId",
)


# The stack outputs of each part of the backend, in the order the real constructs list
# them, under the template Metadata keys the real toolchain reads. The auth construct
# writes every key, "" where unset (readers drop empty outputs).
OUTPUT_GROUPS = {
    "AWS::Amplify::Platform": ("deploymentType", "region"),
    "AWS::Amplify::Auth": (
        "userPoolId",
        "webClientId",
        "identityPoolId",
        "authRegion",
        "allowUnauthenticatedIdentities",
        "signupAttributes",
        "usernameAttributes",
        "verificationMechanisms",
        "passwordPolicyMinLength",
        "passwordPolicyRequirements",
        "mfaConfiguration",
        "mfaTypes",
        "passwordlessOptions",
        "socialProviders",
        "oauthCognitoDomain",
        "oauthScope",
        "oauthRedirectSignIn",
        "oauthRedirectSignOut",
        "oauthResponseType",
        "oauthClientId",
        "groups",
    ),
    "AWS::Amplify::GraphQL": (
        "awsAppsyncApiId",
        "awsAppsyncApiEndpoint",
        "awsAppsyncAuthenticationType",
        "awsAppsyncRegion",
        "amplifyApiModelSchemaS3Uri",
        "awsAppsyncAdditionalAuthenticationTypes",
    ),
    # The list output first: the construct appends it after writing the other two.
    "AWS::Amplify::Storage": ("buckets", "storageRegion", "bucketName"),
}


def _json_string_part(part: Any) -> Any:
    """A piece of a JSON document, escaped to sit inside a JSON string (literal pieces only:
    the values joined in at deploy time are names and regions, which need no escaping)."""
    return json.dumps(part)[1:-1] if isinstance(part, str) else part


def _logical_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", name)


def function_name(backend: Backend, function: FunctionDef) -> str:
    """The Lambda name: the stack's name and the friendly name, cut to Lambda's 64 characters."""
    name = f"{backend.stack}-{function.name}"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: 64 - 9]}-{digest}"


def _secret_paths(backend: Backend, name: str) -> dict[str, str]:
    branch_part = f"{_sanitize(backend.name)}-{backend.deployment_type}-{backend_hash(backend.namespace, backend.name)}"
    return {
        "path": f"/amplify/{_sanitize(backend.namespace)}/{branch_part}/{name}",
        "sharedPath": f"/amplify/shared/{_sanitize(backend.namespace)}/{name}",
    }


def functions_template(backend: Backend) -> dict[str, Any]:
    """The nested stack of the functions: a role and a function each, tagged as real ones."""
    resources: dict[str, Any] = {}
    for function in FUNCTIONS:
        logical = _logical_id(function.name)
        environment = dict(function.environment)
        if function.secrets:
            environment["AMPLIFY_SSM_ENV_CONFIG"] = json.dumps({n: _secret_paths(backend, n) for n in function.secrets})
            environment.update({n: SECRET_PLACEHOLDER for n in function.secrets})
        resources[f"{logical}lambdaServiceRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                },
            },
        }
        resources[f"{logical}lambda"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": function_name(backend, function),
                "Runtime": FUNCTION_RUNTIME,
                "Handler": "index.handler",
                "MemorySize": function.memory_mb,
                "Timeout": function.timeout_seconds,
                "Role": {"Fn::GetAtt": [f"{logical}lambdaServiceRole", "Arn"]},
                "Code": {"ZipFile": f"exports.handler = async () => ({{ function: {json.dumps(function.name)} }});"},
                "Environment": {"Variables": environment},
                "Tags": [{"Key": k, "Value": v} for k, v in {**backend.tags, FRIENDLY_NAME_TAG: function.name}.items()],
            },
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Description": "Functions of the backend", "Resources": resources}


def build_template(backend: Backend, schema: Schema, created_by: str, functions_url: str = "") -> dict[str, Any]:
    """The root stack: tables and the storage bucket, plus every output `ampx` reads.

    Resources moto's CloudFormation cannot create (Cognito, AppSync) come in as
    parameters, so the outputs still come from the stack like in real Amplify.
    """
    region = {"Ref": "AWS::Region"}
    resources: dict[str, Any] = {}
    if functions_url:
        resources[FUNCTIONS_STACK_ID] = {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": functions_url}}
    for model in schema.models:
        resources[f"{_logical_id(model.name)}Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Delete",
            "Properties": {
                "TableName": {"Fn::Join": ["-", [model.name, {"Ref": "AppSyncApiId"}, "NONE"]]},
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        }
    resources["StorageBucket"] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Delete",
        "Properties": {
            "BucketName": backend.storage_bucket,
            "Tags": [{"Key": k, "Value": v} for k, v in backend.tags.items()],
        },
    }
    # buckets: a JSON array of JSON *strings*, one per bucket, as the storage construct
    # appends them to its output list; joined at deploy time like the CDK's toJsonString.
    bucket_json = [
        f'{{"name":{json.dumps(STORAGE_NAME)},"bucketName":"',
        {"Ref": "StorageBucket"},
        '","storageRegion":"',
        region,
        f'","paths":{json.dumps(STORAGE_PATHS, separators=(",", ":"))}}}',
    ]
    buckets_json = {"Fn::Join": ["", ['["', *[_json_string_part(part) for part in bucket_json], '"]']]}
    # In the order of real root templates: platform, auth, data, storage (whose list output
    # comes last in Outputs and first in its Metadata entry: it is appended at synthesis).
    outputs: dict[str, Any] = {
        "deploymentType": backend.deployment_type,
        "region": region,
        # auth
        "userPoolId": {"Ref": "UserPoolId"},
        "webClientId": {"Ref": "WebClientId"},
        "identityPoolId": {"Ref": "IdentityPoolId"},
        "authRegion": region,
        "allowUnauthenticatedIdentities": "true",
        "signupAttributes": '["email"]',
        "usernameAttributes": '["email"]',
        "verificationMechanisms": '["email"]',
        "passwordPolicyMinLength": str(PASSWORD_MIN_LENGTH),
        "passwordPolicyRequirements": json.dumps(PASSWORD_REQUIREMENTS, separators=(",", ":")),
        "mfaConfiguration": "OFF",
        "mfaTypes": "[]",
        "passwordlessOptions": "",
        "socialProviders": "",
        "oauthCognitoDomain": "",
        # The construct always gives its app client the code grant, so the CDK fills in
        # its default scopes and callback URL; with no sign-out URL, no oauth section.
        "oauthScope": json.dumps(OAUTH_DEFAULT_SCOPES, separators=(",", ":")),
        "oauthRedirectSignIn": "https://example.com",
        "oauthRedirectSignOut": "",
        "oauthResponseType": "code",
        "oauthClientId": {"Ref": "WebClientId"},
        "groups": "[]",
        # data
        "awsAppsyncApiId": {"Ref": "AppSyncApiId"},
        "awsAppsyncApiEndpoint": {"Ref": "AppSyncApiEndpoint"},
        "awsAppsyncAuthenticationType": DEFAULT_AUTH_TYPE,
        "awsAppsyncRegion": region,
        "amplifyApiModelSchemaS3Uri": {"Ref": "ModelSchemaS3Uri"},
        "awsAppsyncAdditionalAuthenticationTypes": ",".join(ADDITIONAL_AUTH_TYPES),
        # storage
        "storageRegion": region,
        "bucketName": {"Ref": "StorageBucket"},
        "buckets": buckets_json,
    }
    description = {
        "createdOn": {"darwin": "Mac", "win32": "Windows", "linux": "Linux"}.get(sys.platform, "Other"),
        "createdBy": created_by,
        "createdWith": "ampx-standin",
        "stackType": "root",
        "metadata": {},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": json.dumps(description),
        # What `ampx generate outputs` reads first (GetTemplateSummary): which outputs
        # belong to which part of the backend, and their schema versions.
        "Metadata": {
            key: {"version": "1", "stackOutputs": [name for name in names if name in outputs]}
            for key, names in OUTPUT_GROUPS.items()
        },
        "Parameters": {name: {"Type": "String"} for name in STACK_PARAMETERS},
        "Resources": resources,
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return dict(live[0]) if live else None


def wait_for_stack(cfn: Any, name: str, poll_seconds: float, timeout: float = 3600) -> dict[str, Any] | None:
    """Poll until the stack leaves *_IN_PROGRESS; None once it is gone."""
    deadline = time.monotonic() + timeout
    while True:
        stack = describe_stack(cfn, name)
        if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise StandinError(f"Timed out waiting for stack {name} ({stack['StackStatus']})")
        time.sleep(poll_seconds)


def _poll_seconds(aws: Aws) -> float:
    # An emulator answers at once; real CloudFormation takes minutes.
    return 0.5 if aws.endpoint_url else 5.0


def deploy_stack(
    aws: Aws, name: str, template: dict[str, Any], parameters: dict[str, str], tags: dict[str, str]
) -> dict[str, str]:
    cfn = aws.client("cloudformation")
    poll = _poll_seconds(aws)
    request = {
        "StackName": name,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }
    existing = describe_stack(cfn, name)
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        # A stack whose first create failed cannot be updated, only replaced.
        cfn.delete_stack(StackName=name)
        wait_for_stack(cfn, name, poll)
        existing = None
    if existing is None:
        cfn.create_stack(**request)
    else:
        try:
            cfn.update_stack(**request)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
            print(f"[Deploy] No changes to stack {name}", flush=True)
    stack = wait_for_stack(cfn, name, poll)
    status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        reason = (stack or {}).get("StackStatusReason") or "see the stack's events"
        raise StandinError(f"Stack {name} ended in {status}: {reason}")
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


# --- amplify_outputs.json, as `ampx generate outputs` builds it from stack outputs ---


MFA_CONFIGURATIONS = {"OFF": "NONE", "OPTIONAL": "OPTIONAL", "ON": "REQUIRED"}
PASSWORD_FLAGS = {
    "REQUIRES_NUMBERS": "require_numbers",
    "REQUIRES_LOWERCASE": "require_lowercase",
    "REQUIRES_UPPERCASE": "require_uppercase",
    "REQUIRES_SYMBOLS": "require_symbols",
}


def auth_config(outputs: dict[str, str]) -> dict[str, Any]:
    """The `auth` section, by the rules of the real generator (@aws-amplify/client-config's
    auth contributor): JSON-encoded outputs parsed only when the stack wrote them, keys in
    its order."""
    auth: dict[str, Any] = {
        "user_pool_id": outputs["userPoolId"],
        "aws_region": outputs["authRegion"],
        "user_pool_client_id": outputs["webClientId"],
    }
    if outputs.get("identityPoolId"):
        auth["identity_pool_id"] = outputs["identityPoolId"]
    for key, output in (
        ("mfa_methods", "mfaTypes"),
        ("standard_required_attributes", "signupAttributes"),
        ("username_attributes", "usernameAttributes"),
        ("user_verification_types", "verificationMechanisms"),
        ("groups", "groups"),
    ):
        if outputs.get(output):
            auth[key] = json.loads(outputs[output])
    if outputs.get("mfaConfiguration") in MFA_CONFIGURATIONS:
        auth["mfa_configuration"] = MFA_CONFIGURATIONS[outputs["mfaConfiguration"]]
    if outputs.get("passwordPolicyMinLength") or outputs.get("passwordPolicyRequirements"):
        policy: dict[str, Any] = {"min_length": 8, **dict.fromkeys(sorted(PASSWORD_FLAGS.values()), False)}
        if outputs.get("passwordPolicyMinLength"):
            policy["min_length"] = int(outputs["passwordPolicyMinLength"])
        for requirement in json.loads(outputs.get("passwordPolicyRequirements") or "[]"):
            if requirement in PASSWORD_FLAGS:
                policy[PASSWORD_FLAGS[requirement]] = True
        auth["password_policy"] = policy
    if outputs.get("allowUnauthenticatedIdentities"):
        auth["unauthenticated_identities_enabled"] = outputs["allowUnauthenticatedIdentities"] == "true"
    return auth


def client_config(outputs: dict[str, str], schema: Schema, version: str) -> dict[str, Any]:
    auth = auth_config(outputs)

    additional = outputs.get("awsAppsyncAdditionalAuthenticationTypes", "")
    data = {
        "url": outputs["awsAppsyncApiEndpoint"],
        "aws_region": outputs["awsAppsyncRegion"],
        "default_authorization_type": outputs["awsAppsyncAuthenticationType"],
        "authorization_types": [t for t in additional.split(",") if t],
        "model_introspection": model_introspection(schema),
    }
    storage = {
        "aws_region": outputs["storageRegion"],
        "bucket_name": outputs["bucketName"],
        "buckets": [
            {
                "name": b["name"],
                "bucket_name": b["bucketName"],
                "aws_region": b["storageRegion"],
                "paths": b["paths"],
            }
            for b in map(json.loads, json.loads(outputs["buckets"]))
        ],
    }
    # `version` last, as ampx writes it.
    return {"auth": auth, "data": data, "storage": storage, "version": version}


# --- Commands ---


@dataclass(frozen=True)
class DeployOptions:
    outputs_dir: Path
    outputs_version: str
    created_by: str


def read_schema() -> tuple[str, Schema]:
    if not SCHEMA_FILE.is_file():
        raise StandinError(f"{SCHEMA_FILE} not found; run the stand-in from the project root")
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    return text, parse_schema(text)


@dataclass(frozen=True)
class AuthIds:
    user_pool_id: str
    web_client_id: str
    identity_pool_id: str


def deploy_auth(aws: Aws, backend: Backend) -> AuthIds:
    idp = aws.client("cognito-idp")
    user_pool_id = ensure_user_pool(idp, backend.stack, backend.tags)
    web_client_id = ensure_web_client(idp, user_pool_id, f"{backend.stack}-web")
    identity_pool_id = ensure_identity_pool(aws, backend.identity_pool_name, user_pool_id, web_client_id, backend.tags)
    print(f"[Auth] User pool {user_pool_id} and identity pool {identity_pool_id} ready", flush=True)
    return AuthIds(user_pool_id, web_client_id, identity_pool_id)


def upload_model_schema(aws: Aws, backend: Backend, sdl: str) -> str:
    """Store the SDL where `amplifyApiModelSchemaS3Uri` points; returns that URI."""
    s3 = aws.client("s3")
    ensure_bucket(aws, s3, backend.assets_bucket, backend.tags)
    s3.put_object(
        Bucket=backend.assets_bucket,
        Key=MODEL_SCHEMA_KEY,
        Body=sdl.encode("utf-8"),
        ContentType="application/graphql",
    )
    uri = f"s3://{backend.assets_bucket}/{MODEL_SCHEMA_KEY}"
    print(f"[Data] Model schema uploaded to {uri}", flush=True)
    return uri


def upload_functions_template(aws: Aws, backend: Backend) -> str:
    """The nested stack's template, where the root's TemplateURL points (the assets bucket)."""
    aws.client("s3").put_object(
        Bucket=backend.assets_bucket,
        Key=FUNCTIONS_TEMPLATE_KEY,
        Body=json.dumps(functions_template(backend)).encode("utf-8"),
        ContentType="application/json",
    )
    return f"https://{backend.assets_bucket}.s3.amazonaws.com/{FUNCTIONS_TEMPLATE_KEY}"


def tag_functions(aws: Aws, backend: Backend) -> None:
    """Tag each function as its template does (an emulator's CloudFormation may not)."""
    client = aws.client("lambda")
    for function in FUNCTIONS:
        arn = client.get_function_configuration(FunctionName=function_name(backend, function))["FunctionArn"]
        client.tag_resource(Resource=arn, Tags={**backend.tags, FRIENDLY_NAME_TAG: function.name})
        print(f"[Function] {function.name} ready", flush=True)


def write_outputs(config: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / OUTPUTS_FILE
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"File written: {path}", flush=True)
    return path


def deploy(aws: Aws, backend: Backend, options: DeployOptions) -> Path:
    sdl, schema = read_schema()
    started = time.monotonic()
    print(f"[Deploy] Deploying {backend.stack} to {describe_target(aws)}", flush=True)

    # Auth first: the AppSync API's user pool auth mode needs the pool id.
    auth = deploy_auth(aws, backend)
    api = ensure_graphql_api(aws, backend.stack, auth.user_pool_id, backend.tags)
    print(f"[Data] AppSync API {api['apiId']} ready", flush=True)
    schema_uri = upload_model_schema(aws, backend, sdl)

    parameters = {
        "AppSyncApiId": api["apiId"],
        # What the service reports; an emulator may report a placeholder URL.
        "AppSyncApiEndpoint": api.get("uris", {}).get("GRAPHQL", ""),
        "ModelSchemaS3Uri": schema_uri,
        "UserPoolId": auth.user_pool_id,
        "WebClientId": auth.web_client_id,
        "IdentityPoolId": auth.identity_pool_id,
    }
    template = build_template(backend, schema, options.created_by, upload_functions_template(aws, backend))
    outputs = deploy_stack(aws, backend.stack, template, parameters, backend.tags)
    tag_functions(aws, backend)
    elapsed = time.monotonic() - started
    print(f"[Deploy] Stack {backend.stack} deployed in {elapsed:.1f} s", flush=True)
    return write_outputs(client_config(outputs, schema, options.outputs_version), options.outputs_dir)


def delete_stack(aws: Aws, backend: Backend) -> bool:
    """Empty the buckets, delete the stack and wait; False when there was no stack."""
    s3 = aws.client("s3")
    cfn = aws.client("cloudformation")
    # CloudFormation cannot delete a bucket that still holds objects.
    for name in (backend.storage_bucket, backend.assets_bucket):
        if bucket_exists(s3, name):
            empty_bucket(s3, name)
    if not describe_stack(cfn, backend.stack):
        return False
    cfn.delete_stack(StackName=backend.stack)
    remaining = wait_for_stack(cfn, backend.stack, _poll_seconds(aws))
    if remaining is not None:
        reason = remaining.get("StackStatusReason") or "see the stack's events"
        raise StandinError(f"Stack {backend.stack} ended in {remaining['StackStatus']}: {reason}")
    print(f"[Delete] Stack {backend.stack} deleted", flush=True)
    return True


def delete_side_resources(aws: Aws, backend: Backend) -> bool:
    """What the stand-in creates outside the stack; False when none of it existed."""
    s3 = aws.client("s3")
    # The assets bucket is never in the stack; the storage bucket only when the stack was healthy.
    found = [empty_and_delete_bucket(s3, name) for name in (backend.storage_bucket, backend.assets_bucket)]
    appsync = aws.client("appsync")
    api = find_graphql_api(appsync, backend.stack)
    if api:
        appsync.delete_graphql_api(apiId=api["apiId"])
    identity = aws.client("cognito-identity")
    identity_pool_id = find_identity_pool(identity, backend.identity_pool_name)
    if identity_pool_id:
        identity.delete_identity_pool(IdentityPoolId=identity_pool_id)
    idp = aws.client("cognito-idp")
    user_pool_id = find_user_pool(idp, backend.stack)
    if user_pool_id:
        idp.delete_user_pool(UserPoolId=user_pool_id)
    return any(found) or bool(api or identity_pool_id or user_pool_id)


def delete(aws: Aws, backend: Backend) -> bool:
    """Delete the stack and what the stand-in made beside it; False if nothing existed."""
    had_stack = delete_stack(aws, backend)
    had_others = delete_side_resources(aws, backend)
    return had_stack or had_others


def sandbox_backend(identifier: str | None) -> Backend:
    package = Path("package.json")
    try:
        namespace = json.loads(package.read_text(encoding="utf-8"))["name"]
    except (OSError, ValueError, KeyError) as error:
        raise StandinError(f"Cannot read the project name from {package}: {error}") from error
    name = identifier or getpass.getuser()
    return Backend(namespace=str(namespace), name=name, deployment_type="sandbox")


def _require(value: str, flag: str, env: str) -> str:
    if not value.strip():
        raise StandinError(f"{flag} is empty; is {env} set in the build environment?")
    return value


def cmd_pipeline_deploy(args: argparse.Namespace) -> int:
    backend = Backend(
        namespace=_require(args.app_id, "--app-id", "AWS_APP_ID"),
        name=_require(args.branch, "--branch", "AWS_BRANCH"),
        deployment_type="branch",
    )
    deploy(aws_from_env(), backend, _deploy_options(args, "AmplifyPipelineDeploy"))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    backend = sandbox_backend(args.identifier)
    if args.sandbox_action == "delete":
        return _sandbox_delete(backend, confirmed=args.yes)
    deploy(aws_from_env(), backend, _deploy_options(args, "AmplifySandbox"))
    return 0


def _sandbox_delete(backend: Backend, *, confirmed: bool) -> int:
    if not confirmed:
        if not sys.stdin.isatty():
            raise StandinError("Refusing to delete without --yes (no terminal to ask on)")
        answer = input(f"Delete sandbox {backend.stack} and all its data? (y/N) ")
        if answer.strip().lower() not in ("y", "yes"):
            print("[Sandbox] Nothing deleted")
            return 0
    if delete(aws_from_env(), backend):
        print(f"[Sandbox] Sandbox {backend.stack} deleted")
    else:
        print(f"[Sandbox] No sandbox {backend.stack} found; nothing to delete")
    return 0


def _deploy_options(args: argparse.Namespace, created_by: str) -> DeployOptions:
    return DeployOptions(
        outputs_dir=Path(args.outputs_out_dir),
        outputs_version=args.outputs_version,
        created_by=created_by,
    )


def _add_outputs_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outputs-out-dir", default=".", help="where to write amplify_outputs.json")
    parser.add_argument("--outputs-version", choices=OUTPUTS_VERSIONS, default="1.5")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ampx_standin.py",
        description="Stand-in for `npx ampx`: deploys an Amplify Gen 2-shaped backend with boto3.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    pipeline = commands.add_parser("pipeline-deploy", help="deploy a branch backend (CI/CD)")
    pipeline.add_argument("--branch", required=True)
    pipeline.add_argument("--app-id", required=True)
    _add_outputs_flags(pipeline)
    pipeline.set_defaults(handler=cmd_pipeline_deploy)

    sandbox = commands.add_parser("sandbox", help="deploy (or delete) a personal sandbox backend")
    sandbox.add_argument("--identifier", help="sandbox name (default: the OS user)")
    # The real sandbox keeps watching; the stand-in always deploys once.
    sandbox.add_argument("--once", action="store_true", help="accepted for compatibility")
    _add_outputs_flags(sandbox)
    sandbox.set_defaults(handler=cmd_sandbox, sandbox_action=None, yes=False)
    sandbox_actions = sandbox.add_subparsers(dest="sandbox_action")
    sandbox_delete = sandbox_actions.add_parser("delete", help="delete the sandbox backend")
    sandbox_delete.add_argument("--identifier", help="sandbox name (default: the OS user)")
    sandbox_delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except StandinError as error:
        return _fail(str(error))
    except ClientError as error:
        info = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "AWS call")
        return _fail(f"{operation} failed: {info.get('Code', 'Error')}: {info.get('Message', '')}")
    except BotoCoreError as error:
        return _fail(str(error))


def _fail(message: str) -> int:
    print(f"[Error] {' '.join(message.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
