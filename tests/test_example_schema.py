"""The example's data schema as the stand-in deploys it and as the console reads it.

The stand-in (examples/todo-app/tools/ampx_standin.py) builds model_introspection
from amplify/data/schema.graphql for amplify_outputs.json; the console reads a
branch's schema from that file (schema.schema_from_introspection) or, without one,
from the deployed SDL (sdl.schema_from_sdl). Both ways must give the same models,
and the stand-in must write relationships as Amplify's code generator does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.datamanager.schema import Association, schema_from_introspection
from apps.datamanager.sdl import schema_from_sdl
from conftest import fixture_missing
from tests.test_example_standin import EXAMPLE_DIR, SHARED_DIR, load_standin

SCHEMA_FILE = EXAMPLE_DIR / "amplify" / "data" / "schema.graphql"
FIXTURES = SHARED_DIR / "fixtures" / "model-introspection"

# The schemas two of the code generator's fixtures were made from (see apps/datamanager/tests/test_sdl.py).
HAS_ONE_AND_HAS_MANY_REFERENCES = """
type Primary @model {
  id: ID! @primaryKey
  relatedMany: [RelatedMany] @hasMany(references: ["primaryId"])
  relatedOne: RelatedOne @hasOne(references: ["primaryId"])
}
type RelatedMany @model { id: ID! @primaryKey  primaryId: ID!  primary: Primary @belongsTo(references: ["primaryId"]) }
type RelatedOne @model { id: ID! @primaryKey  primaryId: ID!  primary: Primary @belongsTo(references: ["primaryId"]) }
"""
DOUBLE_LINKED_REFERENCES = """
type Foo @model { id: ID!  bar1: Bar @hasOne(references: ["bar1Id"])  bar2: Bar @hasOne(references: ["bar2Id"]) }
type Bar @model {
  id: ID!
  bar1Id: ID
  bar2Id: ID
  foo1: Foo @belongsTo(references: ["bar1Id"])
  foo2: Foo @belongsTo(references: ["bar2Id"])
}
"""


def fixture(prefix: str) -> dict[str, Any]:
    if not FIXTURES.is_dir():
        fixture_missing(f"{FIXTURES} is absent")
    (path,) = FIXTURES.glob(f"{prefix}-*.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def example_introspection() -> dict[str, Any]:
    standin = load_standin()
    return dict(standin.model_introspection(standin.parse_schema(SCHEMA_FILE.read_text(encoding="utf-8"))))


def test_outputs_and_sdl_give_the_console_the_same_models() -> None:
    from_outputs = schema_from_introspection(example_introspection())
    from_sdl = schema_from_sdl(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert [m.name for m in from_outputs.models] == ["Note", "Project", "Todo"]
    assert from_outputs.models == from_sdl.models
    assert from_outputs.enums == from_sdl.enums
    assert from_outputs.non_models == from_sdl.non_models


def test_example_links_todos_to_their_project() -> None:
    schema = schema_from_introspection(example_introspection())
    project, todo = schema.model("Project"), schema.model("Todo")
    assert project is not None
    assert todo is not None
    assert project.field("todos").association == Association("HAS_MANY", associated_with=("projectId",))
    assert todo.field("project").association == Association("BELONGS_TO", target_names=("projectId",))
    assert [f.name for f in todo.belongs_to] == ["project"]
    assert [f.name for f in todo.editable_fields] == ["id", "content", "done", "priority", "tags", "estimateHours", "projectId"]
    assert [f.name for f in project.stored_fields] == [
        "id", "name", "description", "status", "budget", "dueDate", "createdAt", "updatedAt",
    ]  # fmt: skip


def test_example_custom_type_lists_and_scalars() -> None:
    schema = schema_from_introspection(example_introspection())
    note = schema.model("Note")
    assert note is not None
    assert [(f.name, f.type, f.kind, f.is_array, f.is_required) for f in note.editable_fields] == [
        ("id", "ID", "scalar", False, True),
        ("title", "String", "scalar", False, True),
        ("body", "String", "scalar", False, False),
        ("location", "Location", "nonModel", False, False),
        ("links", "AWSURL", "scalar", True, False),
        ("meta", "AWSJSON", "scalar", False, False),
        ("contact", "AWSEmail", "scalar", False, False),
        ("phone", "AWSPhone", "scalar", False, False),
    ]
    assert [(f.name, f.type) for f in schema.non_models["Location"].fields] == [
        ("lat", "Float"),
        ("lng", "Float"),
        ("label", "String"),
    ]
    assert schema.enums["ProjectStatus"].values == ("planned", "active", "onHold", "done")
    assert schema.enums["TodoPriority"].values == ("low", "medium", "high")


@pytest.mark.parametrize(("prefix", "sdl"), [("20", HAS_ONE_AND_HAS_MANY_REFERENCES), ("16", DOUBLE_LINKED_REFERENCES)])
def test_relationships_are_written_as_the_code_generator_writes_them(prefix: str, sdl: str) -> None:
    standin = load_standin()
    expected = fixture(prefix)
    assert standin.model_introspection(standin.parse_schema(sdl))["models"] == expected["models"]


@pytest.mark.parametrize(
    ("sdl", "error"),
    [
        (
            "type Post @model { id: ID!  blog: Blog @belongsTo }  type Blog @model { id: ID!  posts: [Post] @hasMany }",
            "Post.blog: the stand-in supports Gen 2 relationships only, @belongsTo(references: [...])",
        ),
        (
            'type Blog @model { posts: [Post] @hasMany(references: ["blogId"]) }'
            '  type Post @model { blog: Blog @belongsTo(references: ["blogId"]) }',
            "Blog.posts: references blogId, which is not a field of Post",
        ),
        (
            'type Blog @model { posts: [Post] @hasMany(references: ["blogId"]) }  type Post @model { blogId: ID }',
            'Blog.posts: Post needs a @belongsTo field of type Blog with references: ["blogId"]',
        ),
        (
            'type Blog @model { post: Post @hasMany(references: ["blogId"]) }'
            '  type Post @model { blogId: ID  blog: Blog @belongsTo(references: ["blogId"]) }',
            "Blog.post: @hasMany needs a list Post",
        ),
        ("type Blog @model { owner: Person }  type Person @model { name: String }", "Blog.owner links to the model Person"),
        ("type Blog @model { where: Place }", "Blog.where has the unknown type Place"),
        ("type Blog @model { slug: ID! @primaryKey }", "Blog.slug: the stand-in keys every table on id"),
    ],
)
def test_schema_mistakes_stop_the_deploy_with_one_clear_line(sdl: str, error: str) -> None:
    standin = load_standin()
    with pytest.raises(standin.StandinError) as raised:
        standin.parse_schema(sdl)
    assert str(raised.value).startswith(f"amplify/data/schema.graphql: {error}")


def test_directive_arguments_are_parsed() -> None:
    standin = load_standin()
    schema = standin.parse_schema(
        'type Todo @model(timestamps: null) @auth(rules: [{allow: owner, ownerField: "by", operations: [read]}]) '
        '{ id: ID!  rank: Int @default(value: "3")  weight: Float @custom(factor: -1.5, on: true) }'
    )
    (todo,) = schema.models
    assert todo.directives == {
        "model": {"timestamps": None},
        "auth": {"rules": [{"allow": "owner", "ownerField": "by", "operations": ["read"]}]},
    }
    assert todo.field_named("weight").directives == {"custom": {"factor": -1.5, "on": True}}
    assert todo.field_named("rank").directives == {"default": {"value": "3"}}
