"""The functions list and a function's page (moto in process): discovery through nested
stacks, friendly names, configuration, and environment variables by name only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from apps.branches.models import Branch
from apps.functions.lambdas import NAMED_SECRET, SSM_SECRET, variables_of
from apps.functions.tests.conftest import url
from apps.functions.tests.stacks import PLAIN_VALUE, SECRET_VALUE, function_resources


def test_list_finds_functions_in_the_root_and_nested_stacks_by_friendly_name(
    viewer_client: Client, branch: Branch, functions: dict[str, str]
) -> None:
    response = viewer_client.get(url("functions_list", branch))
    assert response.status_code == 200
    html = response.content.decode()
    for name in functions.values():
        assert name in html
    # Two levels down, tagged: the tag's name; in the root, untagged: the logical id.
    assert ">sayHello</a>" in html
    assert ">todoCleanup</a>" in html
    assert ">rootWorker</a>" in html
    assert "nodejs20.x" in html
    assert "512 MB" in html
    assert "25 s" in html
    assert html.index(">rootWorker<") < html.index(">sayHello<") < html.index(">todoCleanup<")


def test_values_of_variables_are_never_shown_and_secrets_are_marked(
    viewer_client: Client, branch: Branch, functions: dict[str, str]
) -> None:
    pages = [
        viewer_client.get(url("functions_list", branch)),
        viewer_client.get(url("function_detail", branch, functions["sayHello"])),
        viewer_client.get(url("function_detail", branch, functions["todoCleanup"])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert SECRET_VALUE not in html
        assert PLAIN_VALUE not in html
        assert "/amplify/x/main-branch-1/API_KEY" not in html  # the SSM map's content neither
    detail = pages[1].content.decode()
    assert "<code>API_KEY</code>" in detail
    assert SSM_SECRET in detail
    assert "<code>GREETING</code>" in detail
    assert NAMED_SECRET in pages[2].content.decode()


def test_secret_names_come_from_the_ssm_map_and_from_their_names() -> None:
    found = variables_of(
        {
            "AMPLIFY_SSM_ENV_CONFIG": '{"STRIPE": {"path": "/a"}, "OTHER": {"sharedPath": "/b"}}',
            "STRIPE": "x",
            "OTHER": "y",
            "GITHUB_TOKEN": "z",
            "REGION_NAME": "w",
        }
    )
    kinds = {v.name: v.secret for v in found}
    assert kinds == {
        "AMPLIFY_SSM_ENV_CONFIG": "",
        "GITHUB_TOKEN": NAMED_SECRET,
        "OTHER": SSM_SECRET,
        "REGION_NAME": "",
        "STRIPE": SSM_SECRET,
    }
    assert variables_of({"AMPLIFY_SSM_ENV_CONFIG": "not json", "A": "1"})[1].secret == ""


def test_detail_shows_configuration_and_says_when_there_is_no_log_group(
    viewer_client: Client, branch: Branch, functions: dict[str, str]
) -> None:
    html = viewer_client.get(url("function_detail", branch, functions["sayHello"])).content.decode()
    assert "sayHellolambda" in html
    assert "index.handler" in html
    assert "512 MB" in html
    assert "No log group yet" in html


def test_a_function_outside_the_branch_stack_is_not_found(
    viewer_client: Client, branch: Branch, functions: dict[str, str], client: Callable[[str], Any]
) -> None:
    client("cloudformation").create_stack(
        StackName="someone-else",
        TemplateBody=__import__("json").dumps({"Resources": function_resources("x", "stranger", None, {})}),
    )
    for name in ("function_detail", "function_logs", "function_logs_download"):
        assert viewer_client.get(url(name, branch, "stranger")).status_code == 404


def test_a_branch_without_a_stack_says_deploy_first(viewer_client: Client, branch: Branch) -> None:
    response = viewer_client.get(url("functions_list", branch))
    assert response.status_code == 200
    assert "No backend deployed" in response.content.decode()
    assert viewer_client.get(url("function_logs", branch, "anything")).status_code == 404


def test_logs_pages_check_a_name_against_a_recent_list_and_look_up_unknown_names_again(
    branch: Branch, functions: dict[str, str], monkeypatch: Any
) -> None:
    from apps.functions import selectors

    reads: list[str] = []
    real = selectors.stack_functions

    def counted(b: Branch) -> list[selectors.StackFunction]:
        reads.append(b.name)
        return real(b)

    monkeypatch.setattr(selectors, "stack_functions", counted)
    assert selectors.stack_function(branch, functions["sayHello"]) is not None
    assert selectors.stack_function(branch, functions["todoCleanup"]) is not None
    assert len(reads) == 1  # the second name came from the list the first read kept
    assert selectors.stack_function(branch, "not-deployed-yet") is None
    assert len(reads) == 2  # an unknown name is looked up again, never refused from the list
