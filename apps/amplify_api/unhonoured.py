"""Settings of CreateApp, UpdateApp, CreateBranch and UpdateBranch that the console cannot
honour. Each is refused with its reason (BadRequest, before anything is written) when it
asks for more than the console does anyway; the value that describes what the console does
is accepted, and GetApp gives it back. Nothing is dropped silently."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.amplify_api.protocol import bad_request

# What the console's hosting and builds are, in the API's words.
CACHE_CONFIG = {"type": "AMPLIFY_MANAGED_NO_COOKIES"}
JOB_CONFIG = {"buildComputeType": "STANDARD_8GB"}

_CREDENTIALS_IN_URL = (
    "the console reads a private repository with the credentials in its URL (https://user:token@host/owner/repo.git), "
    "which it keeps sealed: send them in repository"
)
# field -> (the value that asks for nothing beyond what the console does, why more cannot be honoured)
_REFUSED: dict[str, tuple[object, str]] = {
    "enableNotification": (
        False,
        "build notifications are subscriptions with an address (email or webhook) on the app's Notifications page; "
        "a branch flag names no one to tell",
    ),
    "computeRoleArn": ("", "server-rendered apps run on the console's own hosts (hostd), with no IAM role of their own"),
    "oauthToken": ("", _CREDENTIALS_IN_URL),
    "accessToken": ("", _CREDENTIALS_IN_URL),
    "enableSkewProtection": (False, "a deploy replaces the branch's files at once; older versions are not kept serving"),
    "enablePerformanceMode": (False, "hosted files have no CDN here whose cache time could be raised"),
    "ttl": ("5", "the hosted files' cache time is not configurable"),
    "pullRequestEnvironmentName": ("", "there are no Gen 1 backend environments: a preview has its own stack or its base's"),
    "backendEnvironmentArn": ("", "there are no Gen 1 backend environments: give backend.stackArn"),
}
_BRANCH_BUILD_SPEC = "a branch has no build spec of its own: the app's (UpdateApp buildSpec) or the repository's amplify.yml"


def _asks_for_more(value: object, default: object) -> bool:
    return value is not None and value != default and not (default == "" and value == "")


def check(params: dict[str, Any], *, branch: bool) -> None:
    for field, (default, reason) in _REFUSED.items():
        if field in params and _asks_for_more(params[field], default):
            raise bad_request(f"{field}: not supported by this console: {reason}.")
    _check_auto_branch_config(params.get("autoBranchCreationConfig") or {})
    if branch and params.get("buildSpec"):
        raise bad_request(f"buildSpec: not supported on a branch: {_BRANCH_BUILD_SPEC}.")
    cache = (params.get("cacheConfig") or {}).get("type")
    if cache and cache != CACHE_CONFIG["type"]:
        raise bad_request(
            f"cacheConfig: {cache} is not supported: the console's hosting never caches by cookie (static files are "
            f"cached by path, server-rendered responses not at all), which is {CACHE_CONFIG['type']}."
        )
    compute = (params.get("jobConfig") or {}).get("buildComputeType")
    if compute and compute != JOB_CONFIG["buildComputeType"]:
        raise bad_request(
            f"jobConfig: {compute} is not supported: every build here gets the limits the console's operator set "
            f"(BUILD_MEMORY_LIMIT_MB = {settings.BUILD_MEMORY_LIMIT_MB} MB per process), the same for every app; "
            f"use {JOB_CONFIG['buildComputeType']}."
        )


# autoBranchCreationConfig: `stage` is the app's setting, `enableBasicAuth` is refused by the
# operations (with its own reason), `enableAutoBuild` is enableBranchAutoBuild's. The rest
# would make automatically connected branches differ from the app, which they cannot here.
_AUTO_BRANCH_KEPT = frozenset({"stage", "enableBasicAuth", "enableAutoBuild"})


def _check_auto_branch_config(config: dict[str, Any]) -> None:
    for key, value in config.items():
        if key not in _AUTO_BRANCH_KEPT and value not in (None, False, "", {}):
            raise bad_request(
                f"autoBranchCreationConfig.{key}: not supported by this console: branches connected automatically "
                "take the app's settings (set it on the app, or on the branch once connected)."
            )
