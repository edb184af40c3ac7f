"""The demo's build role: created once on the emulator, trusted by Amplify, set on the
demo app, and assumable, so the demo's builds get its credentials and not the console's."""

from __future__ import annotations

import pytest

from apps.branches.models import App
from apps.branches.servicerole import assume_service_role, validate_role_arn
from apps.demo.seed import DEMO_ROLE, ensure_service_role
from console.aws import aws_client, aws_credentials


@pytest.fixture
def demo_app(db: None) -> App:
    return App.objects.create(app_id="d0demo00000001", name="Todo app (demo)", repository="/demo.git", production_branch="main")


def test_the_demo_creates_its_build_role_once_and_sets_it_on_the_app(demo_app: App) -> None:
    said: list[str] = []
    ensure_service_role(demo_app, said.append)

    role = aws_client("iam").get_role(RoleName=DEMO_ROLE)["Role"]
    assert demo_app.service_role_arn == role["Arn"] == validate_role_arn(role["Arn"])
    assert App.objects.get(pk=demo_app.pk).service_role_arn == role["Arn"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "amplify.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert said == [f"demo build role created: {role['Arn']}"]

    said.clear()
    ensure_service_role(App.objects.get(pk=demo_app.pk), said.append)  # seeding again changes nothing
    assert said == []
    assert len(aws_client("iam").list_roles()["Roles"]) == 1


def test_an_existing_role_is_set_on_a_demo_app_that_lost_it(demo_app: App) -> None:
    ensure_service_role(demo_app, lambda _: None)
    App.objects.filter(pk=demo_app.pk).update(service_role_arn="")
    app = App.objects.get(pk=demo_app.pk)
    said: list[str] = []
    ensure_service_role(app, said.append)
    assert App.objects.get(pk=app.pk).service_role_arn == app.service_role_arn != ""
    assert said == []  # the role was there already


def test_the_demo_role_gives_builds_credentials_other_than_the_console_s(demo_app: App) -> None:
    ensure_service_role(demo_app, lambda _: None)
    credentials = assume_service_role(
        role_arn=demo_app.service_role_arn, app_id=demo_app.app_id, branch="main", job_id="0000000001", timeout_seconds=1800
    )
    assert credentials["AWS_ACCESS_KEY_ID"] != aws_credentials().access_key
