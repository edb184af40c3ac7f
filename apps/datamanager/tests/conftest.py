"""A branch whose build captured an amplify_outputs.json with every field type (see
factories.every_type_introspection), and its tables, for tests of the data pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from apps.branches.models import Branch
from apps.branches.services import app_create
from apps.datamanager import dynamo
from apps.datamanager.schema import DataSchema, Model
from apps.datamanager.tests.factories import every_type_introspection, every_type_schema, make_table, outputs_document


@pytest.fixture
def data_schema() -> DataSchema:
    return every_type_schema()


def _model(schema: DataSchema, name: str) -> Model:
    found = schema.model(name)
    assert found is not None
    return found


@pytest.fixture
def item_model(data_schema: DataSchema) -> Model:
    return _model(data_schema, "Item")


@pytest.fixture
def post_model(data_schema: DataSchema) -> Model:
    return _model(data_schema, "Post")


@pytest.fixture
def data_branch(db: None, make_repo: Callable[..., Path]) -> Branch:
    app = app_create(actor=None, name="Shop", repository=str(make_repo(("main",))), production_branch="main")
    branch = app.branches.get(name="main")
    branch.backend_outputs = outputs_document(every_type_introspection())
    branch.save(update_fields=["backend_outputs"])
    return branch


@pytest.fixture
def item_table(data_branch: Branch, item_model: Model) -> dynamo.Table:
    return make_table(item_model)


@pytest.fixture
def post_table(data_branch: Branch, post_model: Model) -> dynamo.Table:
    return make_table(post_model)
