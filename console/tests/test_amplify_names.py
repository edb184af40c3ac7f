"""Stack names exactly as @aws-amplify/platform-core computes them."""

from __future__ import annotations

import hashlib

import pytest

from console.amplify_names import BackendIdentifier, branch_stack_name, parse_stack_name, sandbox_stack_name


def test_documented_examples() -> None:
    assert branch_stack_name("d1a2b3c4d5e6f7", "main") == "amplify-d1a2b3c4d5e6f7-main-branch-779dbfc7c3"
    assert sandbox_stack_name("my-next-app", "alice") == "amplify-mynextapp-alice-sandbox-36e957df1b"


@pytest.mark.parametrize(
    ("branch", "visible"),
    [
        ("feature/login", "featurelogin"),
        ("fix#42", "fix42"),
        ("release-1.2", "release12"),
        ("größe-ß", "gre"),
        ("ブランチ", ""),
    ],
)
def test_visible_name_drops_every_char_outside_ascii_alphanumerics(branch: str, visible: str) -> None:
    name = branch_stack_name("d1a2b3c4d5e6f7", branch)
    digest = hashlib.sha512(("d1a2b3c4d5e6f7" + branch).encode()).hexdigest()[:10]
    assert name == f"amplify-d1a2b3c4d5e6f7-{visible}-branch-{digest}"


def test_hash_is_over_the_raw_strings_so_similar_branches_differ() -> None:
    assert branch_stack_name("d1a2b3c4d5e6f7", "feature/a") != branch_stack_name("d1a2b3c4d5e6f7", "feature-a")


def test_long_branch_names_are_cut_to_50_chars_and_the_namespace_makes_room() -> None:
    branch = "x" * 70
    name = branch_stack_name("d1a2b3c4d5e6f7", branch)
    assert name.split("-")[2] == "x" * 50
    assert len(name) <= 128
    long_namespace = BackendIdentifier("n" * 200, "y" * 60, "sandbox").stack_name
    # 128 - len(amplify) - len(sandbox) - 50 - 4 dashes - 10 hash - 1 = 49 characters of namespace.
    assert long_namespace.split("-")[1] == "n" * 49
    assert len(long_namespace) == 127


def test_parse_accepts_exactly_five_parts() -> None:
    parsed = parse_stack_name("amplify-mynextapp-alice-sandbox-36e957df1b")
    assert parsed is not None
    assert (parsed.namespace, parsed.name, parsed.type, parsed.hash) == ("mynextapp", "alice", "sandbox", "36e957df1b")
    assert parse_stack_name("amplify-mynextapp-alice-sandbox-36e957df1b-data7552DF31-ABC") is None
    assert parse_stack_name("amplify-a-b-other-1234567890") is None
    assert parse_stack_name("cdk-a-b-sandbox-1234567890") is None


def test_the_example_stand_in_computes_the_same_names() -> None:
    """The example's ampx stand-in has its own copy (it lives in the user's repo): both must agree."""
    import importlib.util
    import random
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "todo-app" / "tools" / "ampx_standin.py"
    spec = importlib.util.spec_from_file_location("ampx_standin", path)
    assert spec is not None
    assert spec.loader is not None
    standin = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = standin  # its dataclasses look their module up
    spec.loader.exec_module(standin)
    rng = random.Random(7)
    alphabet = "abcXYZ019-_/#.ßü "
    for _ in range(500):
        namespace = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 140)))
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        for kind in ("branch", "sandbox"):
            assert standin.stack_name(namespace, name, kind) == BackendIdentifier(namespace, name, kind).stack_name
