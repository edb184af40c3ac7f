"""The demo's log events: a few hundred Lambda-shaped lines per function of the branch's
stack, INFO and ERROR mixed, written once (a second seed adds nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.branches.models import Branch
from apps.functions.services import seed_demo_logs


def all_messages(client: Callable[[str], Any], name: str) -> list[str]:
    pages = client("logs").get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{name}")
    return [event["message"] for page in pages for event in page["events"]]


def test_demo_logs_are_written_once_per_function(branch: Branch, functions: dict[str, str], client: Callable[[str], Any]) -> None:
    said: list[str] = []
    seed_demo_logs(branch, said.append)
    for name in functions.values():
        lines = all_messages(client, name)
        assert len(lines) == 300
        assert any("\tERROR\t" in line for line in lines)
        assert any("\tINFO\t" in line for line in lines)
        assert sum(line.startswith("REPORT RequestId:") for line in lines) == 60
    streams = client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{functions['sayHello']}")["logStreams"]
    assert len(streams) == 2
    assert len(said) == 3

    seed_demo_logs(branch, said.append)
    assert len(all_messages(client, functions["sayHello"])) == 300
    assert len(said) == 3


def test_no_demo_logs_without_a_stack(branch: Branch) -> None:
    said: list[str] = []
    seed_demo_logs(branch, said.append)
    assert said == [f"no demo logs for main: main has no backend stack ({branch.backend_stack_name}): deploy the branch first."]
