"""The hosting settings of CreateApp/UpdateApp and CreateBranch/UpdateBranch: customRules,
customHeaders, enableBasicAuth and basicAuthCredentials, through hosting's services.

Everything is checked before anything is written (a bad rule, header or credential is a
BadRequest and the call changes nothing). The password is stored hashed, so GetApp and
GetBranch cannot give basicAuthCredentials back: they answer enableBasicAuth only (the
field is optional in Amplify's model; a client that needs the password has it already).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.amplify_api.protocol import bad_request
from apps.branches.models import App, Branch
from apps.hosting import selectors as hosting_selectors
from apps.hosting import services as hosting


def _rules(params: dict[str, Any]) -> list[hosting_selectors.Rule] | None:
    if "customRules" not in params:
        return None
    try:
        return hosting_selectors.parse_rules(params["customRules"] or [])
    except hosting_selectors.RulesInvalid as error:
        raise bad_request("customRules: " + " ".join(error.errors)) from None


def _credentials(params: dict[str, Any]) -> tuple[str, str] | None:
    if not params.get("basicAuthCredentials"):
        return None
    try:
        return hosting_selectors.parse_basic_auth_credentials(params["basicAuthCredentials"])
    except ValueError as error:
        raise bad_request(str(error)) from None


def _headers(params: dict[str, Any], app: App | None) -> str | None:
    if "customHeaders" not in params:
        return None
    text = params["customHeaders"] or ""
    try:
        hosting_selectors.parse_custom_headers(text, app_root=hosting_selectors.monorepo_app_root(app) if app else None)
    except hosting_selectors.HeadersInvalid as error:
        raise bad_request(f"customHeaders: {error}") from None
    return text


def check(params: dict[str, Any], app: App | None = None) -> None:
    """Refuse bad hosting settings before the operation writes anything."""
    _rules(params)
    _credentials(params)
    _headers(params, app)
    if params.get("enableBasicAuth") and not params.get("basicAuthCredentials") and app is None:
        raise bad_request("basicAuthCredentials is required to turn enableBasicAuth on: base64 of 'user:password'.")


def _basic_auth(call: Any, app: App, branch: Branch | None) -> None:
    params = call.params
    credentials = _credentials(params)
    if "enableBasicAuth" not in params and credentials is None:
        return
    username, password = credentials or (None, None)
    enabled = params.get("enableBasicAuth", credentials is not None)
    try:
        hosting.set_basic_auth(actor=call.user, app=app, branch=branch, enabled=enabled, username=username, password=password)
    except ValidationError as error:
        raise bad_request("basicAuthCredentials: " + " ".join(error.messages)) from None


def apply_to_app(call: Any, app: App) -> None:
    """Write the app's hosting settings (inside the operation's transaction)."""
    rules = _rules(call.params)
    if rules is not None:
        hosting.set_custom_rules(actor=call.user, app=app, rules=rules, summary="customRules set through the API")
    headers = _headers(call.params, app)
    if headers is not None:
        hosting.set_custom_headers(actor=call.user, app=app, text=headers)
    _basic_auth(call, app, None)


def apply_to_branch(call: Any, branch: Branch) -> None:
    _basic_auth(call, branch.app, branch)


def app_fields(app: App) -> dict[str, Any]:
    found = hosting_selectors.site_settings_of(app)
    protection = hosting_selectors.effective_basic_auth(app, None)
    return {
        # condition is optional in Amplify's shape: left out when a rule has none.
        "customRules": [
            {k: v for k, v in rule.as_json().items() if v is not None} for rule in hosting_selectors.stored_rules(app).rules
        ],
        "customHeaders": found.custom_headers if found is not None else "",
        "enableBasicAuth": protection is not None,
    }


def branch_fields(branch: Branch) -> dict[str, Any]:
    return {"enableBasicAuth": hosting_selectors.effective_basic_auth(branch.app, branch) is not None}
