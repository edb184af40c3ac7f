"""Sandbox secret names, read-only, for the sandbox inventory."""

from __future__ import annotations

import boto3

from apps.secrets.paths import sandbox_path
from apps.secrets.selectors import sandbox_secret_names


def test_sandbox_secret_names_without_values() -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    for name in ("STRIPE", "API_KEY"):
        ssm.put_parameter(Name=sandbox_path("my-next-app", "alice", name), Value="v", Type="SecureString")
    ssm.put_parameter(Name=sandbox_path("my-next-app", "bob", "OTHER"), Value="v", Type="SecureString")
    assert sandbox_secret_names("my-next-app", "alice") == ["API_KEY", "STRIPE"]
    assert sandbox_secret_names("my-next-app", "carol") == []
