"""The demo's users and groups: six people at example.com (two disabled, one still to
choose a password) in Admins, Editors and Readers; a second seed changes nothing and
says nothing; a missing pool is reported, not raised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apps.branches.models import Branch
from apps.demo.seed import DEMO_APP_NAME, seed_demo
from apps.users import cognito
from apps.users.demo import DEMO_USERS, ensure_demo_users, seed_demo_users
from apps.users.pool import pool_from_outputs
from apps.users.tests.conftest import REGION, all_users, attrs, group_names, members, outputs_with_auth, pool_state
from console.aws import clear_client_cache
from console.emulator import Emulator


def test_seeding_creates_users_and_groups_once(idp: Any, pool_id: str) -> None:
    assert seed_demo_users(pool_id, REGION) == len(DEMO_USERS) + 3
    state = pool_state(idp, pool_id)
    users = {attrs(u)["email"]: u for u in all_users(idp, pool_id)}
    assert sorted(users) == sorted(p.email for p in DEMO_USERS)
    assert all(u["Username"] != attrs(u)["email"] for u in users.values())  # an email pool: generated usernames
    assert [e for e, u in sorted(users.items()) if not u["Enabled"]] == ["emma.schmidt@example.com", "farid.haddad@example.com"]
    assert users["dev.patel@example.com"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert users["ana.lima@example.com"]["UserStatus"] == "CONFIRMED"
    assert group_names(idp, pool_id) == ["Admins", "Editors", "Readers"]
    assert members(idp, pool_id, "Editors") == ["ana.lima@example.com", "ben.okafor@example.com", "chloe.martin@example.com"]
    assert attrs(users["chloe.martin@example.com"])["name"] == "Chloé Martin"

    assert seed_demo_users(pool_id, REGION) == 0
    assert pool_state(idp, pool_id) == state


def test_a_membership_removed_by_hand_stays_removed(idp: Any, pool_id: str) -> None:
    seed_demo_users(pool_id, REGION)
    ana = next(u["Username"] for u in all_users(idp, pool_id) if attrs(u)["email"] == "ana.lima@example.com")
    idp.admin_remove_user_from_group(UserPoolId=pool_id, Username=ana, GroupName="Admins")
    assert seed_demo_users(pool_id, REGION) == 0
    assert members(idp, pool_id, "Admins") == []


def test_a_username_pool_gets_usernames(idp: Any) -> None:
    from apps.users.tests.conftest import make_pool

    pool_id = make_pool(idp, [])
    seed_demo_users(pool_id, REGION)
    assert "ana.lima" in {u["Username"] for u in all_users(idp, pool_id)}


def test_ensure_says_only_what_it_created_and_reports_errors(idp: Any, pool_id: str) -> None:
    said: list[str] = []
    ensure_demo_users(outputs_with_auth(pool_id, ["email"]), said.append)
    assert said == [f"demo users: 9 users and groups created in {pool_id}"]
    said.clear()
    ensure_demo_users(outputs_with_auth(pool_id, ["email"]), said.append)
    assert said == []
    ensure_demo_users({"version": "1.4"}, said.append)
    assert said == []
    ensure_demo_users(outputs_with_auth("us-east-1_missing", ["email"]), said.append)
    assert len(said) == 1
    assert said[0].startswith("no demo users in us-east-1_missing: ")


@pytest.mark.emulator
def test_the_demo_build_leaves_mains_user_pool_with_people(
    transactional_db: None, emulator: Emulator, settings: Any, tmp_path: Path
) -> None:
    """`make run`'s seed on a real moto server: main's build deploys its user pool, then the
    demo's people and groups are put in it (apps/demo/seed.py, after the demo files)."""
    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    settings.VAR_DIR = tmp_path
    clear_client_cache()
    try:
        seed_demo(build=True, say=lambda _: None)  # the data task (run eagerly) seeds after main's build
        main = Branch.objects.get(app__name=DEMO_APP_NAME, name="main")
        pool = pool_from_outputs(main.backend_outputs)
        assert pool is not None
        page = cognito.list_users(pool, limit=60)
        assert sorted(u.email for u in page.items) == sorted(p.email for p in DEMO_USERS)
        assert sorted(g.name for g in cognito.list_groups(pool, limit=60).items) == ["Admins", "Editors", "Readers"]
    finally:
        clear_client_cache()
