"""The demo's data: after `seed_demo --build` has built main (eagerly here, on a
real moto server), main's tables hold projects, todos that point at them, and
notes; dev's tables stay empty; seeding again writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.branches.models import Branch
from apps.builds.models import Job
from apps.datamanager import dynamo
from apps.datamanager.sources import branch_data
from apps.demo.seed import DEMO_APP_NAME, BuildPending, ensure_demo_data, seed_demo, seed_demo_data_after_build
from apps.functions.selectors import matching_events, stack_functions
from console.aws import clear_client_cache
from console.emulator import Emulator

pytestmark = pytest.mark.emulator


@pytest.fixture
def on_emulator(emulator: Emulator, settings: Any, tmp_path: Path) -> Iterator[Emulator]:
    emulator.reset()
    settings.AWS_ENDPOINT_URL = emulator.endpoint_url
    settings.VAR_DIR = tmp_path  # the demo's bare git repository and build workspaces
    clear_client_cache()
    yield emulator
    clear_client_cache()


def records(branch: Branch) -> dict[str, list[dict[str, Any]]]:
    data = branch_data(branch)
    return {model.name: list(dynamo.scan_all(data.table(model))) for model in data.schema.models}


def test_demo_build_leaves_main_with_projects_todos_and_notes(transactional_db: None, on_emulator: Emulator) -> None:
    # transactional_db: the builds and the data task are queued on commit (and run eagerly).
    said: list[str] = []
    seed_demo(build=True, say=said.append)
    assert "demo data for main queued (written after its build)" in said
    main = Branch.objects.get(app__name=DEMO_APP_NAME, name="main")
    dev = Branch.objects.get(app__name=DEMO_APP_NAME, name="dev")
    job = main.jobs.get()
    assert job.status == Job.Status.SUCCEED, "".join(job.log_chunks.values_list("text", flat=True))

    rows = records(main)
    assert {name: len(items) for name, items in rows.items()} == {"Project": 8, "Todo": 40, "Note": 12}
    project_ids = {project["id"] for project in rows["Project"]}
    # Each todo belongs to a real project, and the todos are spread over several of them.
    assert {todo.get("projectId") for todo in rows["Todo"]} <= project_ids
    assert len({todo["projectId"] for todo in rows["Todo"]}) > 1
    assert all(project["__typename"] == "Project" and project["name"] for project in rows["Project"])
    assert any(set(note.get("location", {})) & {"lat", "lng", "label"} for note in rows["Note"])
    assert {name: len(items) for name, items in records(dev).items()} == {"Project": 0, "Todo": 0, "Note": 0}

    # The stand-in's two functions (in its nested stack) have their demo log lines.
    functions = {f.logical_id: f.name for f in stack_functions(main)}
    assert set(functions) == {"sayHellolambda", "todoCleanuplambda"}
    lines = {key: log_lines(name) for key, name in functions.items()}
    assert {key: len(found) for key, found in lines.items()} == {"sayHellolambda": 300, "todoCleanuplambda": 300}
    assert any("\tERROR\t" in line for line in lines["sayHellolambda"])

    # Seeding again (as a rerun of the task would) keeps the rows and the logs as they are.
    said.clear()
    seed_demo_data_after_build(main.pk, said.append)
    assert said == []
    assert records(main) == rows
    assert {key: log_lines(name) for key, name in functions.items()} == lines


def log_lines(function_name: str) -> list[str]:
    return [event.message for event in matching_events(function_name, pattern="", start=None, end=None)]


def test_a_model_with_records_is_left_alone(transactional_db: None, on_emulator: Emulator) -> None:
    seed_demo(build=True, say=lambda _: None)
    main = Branch.objects.get(app__name=DEMO_APP_NAME, name="main")
    data = branch_data(main)
    for model in data.schema.models:
        table = data.table(model)
        dynamo.batch_delete(table, [table.key_of(item) for item in dynamo.scan_all(table)])
    note = data.schema.model("Note")
    assert note is not None
    dynamo.put_new(data.table(note), {"id": "kept", "title": "Written by hand", "__typename": "Note"})

    said: list[str] = []
    ensure_demo_data(main, said.append)

    assert {name: len(items) for name, items in records(main).items()} == {"Project": 8, "Todo": 40, "Note": 1}
    assert [line.split(" written")[0] for line in said] == ["demo data: 8 Projects", "demo data: 40 Todos"]


def test_demo_data_waits_for_the_build_and_skips_a_failed_one(db: None, on_emulator: Emulator) -> None:
    seed_demo(build=False, say=lambda _: None)
    main = Branch.objects.get(app__name=DEMO_APP_NAME, name="main")
    job = Job.objects.create(branch=main, job_id=1, job_type=Job.Type.RELEASE, status=Job.Status.PENDING)
    with pytest.raises(BuildPending):
        seed_demo_data_after_build(main.pk, lambda _: None)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    with pytest.raises(BuildPending):
        seed_demo_data_after_build(main.pk, lambda _: None)

    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    said: list[str] = []
    seed_demo_data_after_build(main.pk, said.append)
    assert said == ["no demo data for main: its last build did not succeed"]
