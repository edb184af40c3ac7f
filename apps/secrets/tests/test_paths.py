"""Secret paths exactly as the real toolchain computes them."""

from __future__ import annotations

import hashlib

import pytest

from apps.secrets.paths import InvalidSecretName, branch_path, sandbox_path, shared_path
from console.amplify_names import branch_stack_name


def test_documented_examples() -> None:
    assert shared_path("d1a2b3c4d5e6f7", "API_KEY") == "/amplify/shared/d1a2b3c4d5e6f7/API_KEY"
    assert branch_path("d1a2b3c4d5e6f7", "main", "API_KEY") == "/amplify/d1a2b3c4d5e6f7/main-branch-779dbfc7c3/API_KEY"
    assert sandbox_path("my-next-app", "alice", "API_KEY") == "/amplify/mynextapp/alice-sandbox-36e957df1b/API_KEY"


@pytest.mark.parametrize(
    ("branch", "part"),
    [
        ("feature/login", "featurelogin"),
        ("fix#42", "fix42"),
        ("release-1.2.3", "release123"),
        ("größe", "gre"),
        ("x" * 70, "x" * 50),
    ],
)
def test_tricky_branch_names(branch: str, part: str) -> None:
    digest = hashlib.sha512(("d1a2b3c4d5e6f7" + branch).encode()).hexdigest()[:10]
    assert branch_path("d1a2b3c4d5e6f7", branch, "TOKEN") == f"/amplify/d1a2b3c4d5e6f7/{part}-branch-{digest}/TOKEN"
    # The same parts as the branch's stack name.
    assert branch_stack_name("d1a2b3c4d5e6f7", branch) == f"amplify-d1a2b3c4d5e6f7-{part}-branch-{digest}"


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "slash/name", "x" * 513])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidSecretName):
        shared_path("d1a2b3c4d5e6f7", name)
