"""The AWS CLI (from PyPI) drives the console's API as it drives Amplify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.amplify_api import keys

AWS = Path(sys.executable).with_name("aws")


def aws(endpoint: str, key_id: str, secret: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=key_id,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,  # nothing from the machine's own AWS set-up
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return subprocess.run(
        [str(AWS), "amplify", *args, "--endpoint-url", endpoint, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_aws_cli_lists_creates_and_refuses_a_wrong_key(
    api_endpoint: str, admin_user: Any, admin_api: Any, make_repo: Callable[..., Path]
) -> None:
    repo = make_repo(("main",))
    made = admin_api.create_app(name="From boto3", repository=str(repo))["app"]["appId"]
    new = keys.key_create(actor=None, username=admin_user.get_username())
    key_id, secret = new.key.access_key_id, new.secret_access_key

    listed = aws(api_endpoint, key_id, secret, "list-apps")
    assert listed.returncode == 0, listed.stderr
    assert [app["appId"] for app in json.loads(listed.stdout)["apps"]] == [made]

    created = aws(api_endpoint, key_id, secret, "create-app", "--name", "From the CLI", "--repository", str(repo))
    assert created.returncode == 0, created.stderr
    cli_app = json.loads(created.stdout)["app"]["appId"]
    branch = aws(api_endpoint, key_id, secret, "create-branch", "--app-id", cli_app, "--branch-name", "main")
    assert branch.returncode == 0, branch.stderr
    assert json.loads(branch.stdout)["branch"]["branchName"] == "main"
    listed = aws(api_endpoint, key_id, secret, "list-apps")
    assert {app["name"] for app in json.loads(listed.stdout)["apps"]} == {"From boto3", "From the CLI"}

    refused = aws(api_endpoint, key_id, "not-the-secret", "list-apps")
    assert refused.returncode != 0
    assert "UnauthorizedException" in refused.stderr
    assert "signature" in refused.stderr.lower()
