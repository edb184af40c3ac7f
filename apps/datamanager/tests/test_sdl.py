from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.datamanager.schema import Association, DataSchema, Field, SchemaInvalid, schema_from_introspection
from apps.datamanager.sdl import plural, schema_from_sdl
from conftest import fixture_missing

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "../shared/fixtures/model-introspection"


def introspection_fixture(prefix: str) -> DataSchema:
    if not FIXTURES.is_dir():
        fixture_missing("../shared/fixtures is not next to the repository")
    (path,) = FIXTURES.glob(f"{prefix}-*.json")
    return schema_from_introspection(json.loads(path.read_text()), source="stack")


def assert_same_models(actual: DataSchema, expected: DataSchema, *, leave_out: tuple[str, ...] = ()) -> None:
    wanted = [m for m in expected.models if m.name not in leave_out]
    assert [m.name for m in actual.models] == [m.name for m in wanted]
    for got, want in zip(actual.models, wanted, strict=True):
        assert (got.plural_name, got.key_fields, got.sql_table) == (want.plural_name, want.key_fields, want.sql_table)
        assert got.fields == want.fields, got.name


def stored_names(schema: DataSchema, model_name: str) -> list[str]:
    model = schema.model(model_name)
    assert model is not None, model_name
    return [f.name for f in model.stored_fields]


# The schemas the fixtures were generated from (amplify-codegen's introspection visitor tests).
CUSTOM_PRIMARY_KEYS = """
type Project1 @model { projectId: ID! @primaryKey(sortKeyFields:["name"])  name: String!  team: Team1 @hasOne }
type Team1 @model { teamId: ID! @primaryKey(sortKeyFields:["name"])  name: String!  project: Project1 @belongsTo }
type Project2 @model { projectId: ID! @primaryKey(sortKeyFields:["name"])  name: String!  team: Team2 @hasOne }
type Team2 @model { teamId: ID! @primaryKey(sortKeyFields:["name"])  name: String! }
type Project3 @model {
  projectId: ID! @primaryKey(sortKeyFields:["name"])
  name: String!
  team: Team3 @hasOne(fields:["teamId", "teamName"])
  teamId: ID
  teamName: String
}
type Team3 @model {
  teamId: ID! @primaryKey(sortKeyFields:["name"])
  name: String!
  project: Project3 @belongsTo(fields:["projectId", "projectName"])
  projectId: ID
  projectName: String
}
type Project4 @model {
  projectId: ID! @primaryKey(sortKeyFields:["name"])
  name: String!
  team: Team4 @hasOne(fields:["teamId", "teamName"])
  teamId: ID
  teamName: String
}
type Team4 @model { teamId: ID! @primaryKey(sortKeyFields:["name"])  name: String! }
type Post1 @model { postId: ID! @primaryKey(sortKeyFields:["title"])  title: String!  comments: [Comment1] @hasMany }
type Comment1 @model { commentId: ID! @primaryKey(sortKeyFields:["content"])  content: String!  post: Post1 @belongsTo }
type Post2 @model { postId: ID! @primaryKey(sortKeyFields:["title"])  title: String!  comments: [Comment2] @hasMany }
type Comment2 @model { commentId: ID! @primaryKey(sortKeyFields:["content"])  content: String! }
type Post3 @model {
  postId: ID! @primaryKey(sortKeyFields:["title"])
  title: String!
  comments: [Comment3] @hasMany(indexName:"byPost", fields:["postId", "title"])
}
type Comment3 @model {
  commentId: ID! @primaryKey(sortKeyFields:["content"])
  content: String!
  post: Post3 @belongsTo(fields:["postId", "postTitle"])
  postId: ID @index(name: "byPost", sortKeyFields:["postTitle"])
  postTitle: String
}
type Post4 @model {
  postId: ID! @primaryKey(sortKeyFields:["title"])
  title: String!
  comments: [Comment4] @hasMany(indexName:"byPost", fields:["postId", "title"])
}
type Comment4 @model {
  commentId: ID! @primaryKey(sortKeyFields:["content"])
  content: String!
  postId: ID @index(name: "byPost", sortKeyFields:["postTitle"])
  postTitle: String
}
"""

PRIMARY_KEY_INFO = """
type Todo1 @model { todoId: ID! @primaryKey }
type Todo2 @model { todoId: ID! @primaryKey(sortKeyFields:["title"])  title: String! }
type Todo3 @model { id: ID! @primaryKey(sortKeyFields:["title"])  title: String! }
type Todo4 @model { title: String! }
type Todo5 @model { id: ID! @primaryKey }
type Todo6 @model { id: ID! }
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

COMPOSITE_KEY_REFERENCES = """
type Primary @model {
  tenantId: ID! @primaryKey(sortKeyFields: ["instanceId", "recordId"])
  instanceId: ID!
  recordId: ID!
  content: String
  related: %s @%s(references: ["primaryTenantId", "primaryInstanceId", "primaryRecordId"])
}
type Related @model {
  content: String
  primaryTenantId: ID!
  primaryInstanceId: ID!
  primaryRecordId: ID!
  primary: Primary @belongsTo(references: ["primaryTenantId", "primaryInstanceId", "primaryRecordId"])
}
"""

SQL_REFERENCES = """
type SqlPrimary @refersTo(name: "sql_primary") @model {
  id: Int! @primaryKey
  content: String
  related: %s @%s(references: ["primaryId"])
}
type SqlRelated @refersTo(name: "sql_related") @model {
  id: Int! @primaryKey
  content: String
  primaryId: Int! @refersTo(name: "primary_id") @index(name: "primary_id")
  primary: SqlPrimary @belongsTo(references: ["primaryId"])
}
"""

HAS_ONE_AND_HAS_MANY_REFERENCES = """
type Primary @model {
  id: ID! @primaryKey
  relatedMany: [RelatedMany] @hasMany(references: ["primaryId"])
  relatedOne: RelatedOne @hasOne(references: ["primaryId"])
}
type RelatedMany @model { id: ID! @primaryKey  primaryId: ID!  primary: Primary @belongsTo(references: ["primaryId"]) }
type RelatedOne @model { id: ID! @primaryKey  primaryId: ID!  primary: Primary @belongsTo(references: ["primaryId"]) }
"""

# Fixture 22 is the same schema written for transformer v1 (@key, @connection), which Gen 2 cannot deploy.
KEY_ON_BELONGS_TO_FOREIGN_KEY = """
type Blog @model { id: ID!  title: String  posts: [Post] @hasMany(fields: ["id"]) }
type Post @model {
  id: ID!
  blogId: ID! @primaryKey(sortKeyFields: ["title", "description"])
  title: String!
  description: String!
  blog: Blog @belongsTo(fields: ["blogId"])
}
"""


@pytest.mark.parametrize(
    ("fixture", "sdl"),
    [
        ("09", PRIMARY_KEY_INFO),
        ("16", DOUBLE_LINKED_REFERENCES),
        ("17", COMPOSITE_KEY_REFERENCES % ("[Related!]", "hasMany")),
        ("18", COMPOSITE_KEY_REFERENCES % ("Related", "hasOne")),
        ("19", SQL_REFERENCES % ("[SqlRelated!]", "hasMany")),
        ("20", HAS_ONE_AND_HAS_MANY_REFERENCES),
        ("21", SQL_REFERENCES % ("SqlRelated", "hasOne")),
        ("23", KEY_ON_BELONGS_TO_FOREIGN_KEY),
    ],
)
def test_sdl_gives_the_models_of_the_generated_introspection(fixture: str, sdl: str) -> None:
    expected = introspection_fixture(fixture)
    actual = schema_from_sdl(sdl)
    assert_same_models(actual, expected)
    assert (actual.enums, actual.non_models) == (expected.enums, expected.non_models)


def test_custom_primary_keys_and_invented_foreign_keys_match_the_generator() -> None:
    # Post, Tag and PostTags of that fixture come from @manyToMany, which Gen 2 has no equivalent for.
    assert_same_models(schema_from_sdl(CUSTOM_PRIMARY_KEYS), introspection_fixture("02"), leave_out=("Post", "PostTags", "Tag"))


def test_enums_non_models_and_links_match_the_generator() -> None:
    expected = introspection_fixture("08")
    actual = schema_from_sdl("""
        type SimpleModel @model { id: ID!  name: String  bar: String  children: [Child] @hasMany  ssn: SSN @hasOne }
        type Child @model { id: ID!  parent: SimpleModel @belongsTo }
        type SSN @model { id: ID!  user: SimpleModel @belongsTo }
        enum SimpleEnum { enumVal1 enumVal2 }
        type SimpleNonModelType { id: ID!  names: [String] }
        input SimpleInput { name: String }
        interface SimpleInterface { firstName: String! }
        enum camelCase { bactrian dromedary }
        union SimpleUnion = SimpleModel | SimpleEnum | SimpleNonModelType | SimpleInput | SimpleInterface
    """)
    assert actual.enums == expected.enums
    assert actual.non_models == expected.non_models
    assert [(m.name, m.plural_name, m.key_fields) for m in actual.models] == [
        (m.name, m.plural_name, m.key_fields) for m in expected.models
    ]
    for got, want in zip(actual.models, expected.models, strict=True):
        links = [
            (f.name, f.type, f.association and (f.association.connection_type, f.association.target_names))
            for f in got.relationships
        ]
        assert links == [
            (f.name, f.type, f.association and (f.association.connection_type, f.association.target_names))
            for f in want.relationships
        ]
    # That fixture was generated without respectPrimaryKeyAttributesOnConnectionField, which
    # `ampx` turns on: then the generator also adds the invented foreign keys to the children.
    assert stored_names(actual, "SimpleModel") == stored_names(expected, "SimpleModel")
    assert stored_names(actual, "Child") == [*stored_names(expected, "Child"), "simpleModelChildrenId"]
    assert stored_names(actual, "SSN") == [*stored_names(expected, "SSN"), "sSNUserId"]


def test_todo_example_has_projects_todos_and_notes() -> None:
    # tests/test_example_schema.py checks that the stand-in's model_introspection gives the same.
    schema = schema_from_sdl((REPO / "examples/todo-app/amplify/data/schema.graphql").read_text())
    assert [(m.name, m.plural_name, m.key_fields) for m in schema.models] == [
        ("Note", "Notes", ("id",)),
        ("Project", "Projects", ("id",)),
        ("Todo", "Todos", ("id",)),
    ]
    todo = schema.model("Todo")
    assert todo is not None
    assert [(f.name, f.type, f.kind, f.is_required) for f in todo.fields] == [
        ("id", "ID", "scalar", True),
        ("content", "String", "scalar", False),
        ("done", "Boolean", "scalar", False),
        ("priority", "TodoPriority", "enum", False),
        ("tags", "String", "scalar", False),
        ("estimateHours", "Int", "scalar", False),
        ("projectId", "ID", "scalar", False),
        ("project", "Project", "model", False),
        ("createdAt", "AWSDateTime", "scalar", False),
        ("updatedAt", "AWSDateTime", "scalar", False),
    ]
    assert todo.field("project").association == Association("BELONGS_TO", target_names=("projectId",))
    assert schema.enums["TodoPriority"].values == ("low", "medium", "high")
    assert list(schema.non_models) == ["Location"]
    assert schema.source == "stack"
    assert [f.name for f in todo.editable_fields] == ["id", "content", "done", "priority", "tags", "estimateHours", "projectId"]


def test_model_without_key_gets_required_id_first_and_read_only_timestamps() -> None:
    (note,) = schema_from_sdl("type Note @model { title: String!  id: ID }").models
    assert note.fields == (
        Field("id", "ID", "scalar", is_required=True),
        Field("title", "String", "scalar", is_required=True),
        Field("createdAt", "AWSDateTime", "scalar", is_read_only=True),
        Field("updatedAt", "AWSDateTime", "scalar", is_read_only=True),
    )


def test_timestamps_can_be_renamed_or_left_out() -> None:
    schema = schema_from_sdl("""
        type Renamed @model(timestamps: {createdAt: "createdOn"}) { id: ID! }
        type Without @model(timestamps: null) { id: ID! }
    """)
    renamed, without = schema.models
    assert [(f.name, f.is_read_only) for f in renamed.fields] == [("id", False), ("createdOn", True), ("updatedAt", True)]
    assert [f.name for f in without.fields] == ["id"]


def test_list_is_required_when_its_items_are_like_the_generator_says() -> None:
    (model,) = schema_from_sdl("type Tags @model { a: [String]  b: [String!]  c: [String]!  d: [String!]! }").models
    assert [(f.name, f.is_array, f.is_required) for f in model.fields[1:5]] == [
        ("a", True, False),
        ("b", True, True),
        ("c", True, False),
        ("d", True, True),
    ]


def test_gen2_references_link_both_sides() -> None:
    schema = schema_from_sdl("""
        type Blog @model { id: ID!  name: String  posts: [Post] @hasMany(references: ["blogId"]) }
        type Post @model { id: ID!  blogId: ID  blog: Blog @belongsTo(references: ["blogId"]) }
    """)
    blog, post = schema.models
    assert blog.field("posts").association == Association("HAS_MANY", associated_with=("blogId",))
    assert post.field("blog").association == Association("BELONGS_TO", target_names=("blogId",))
    assert [f.name for f in post.belongs_to] == ["blog"]
    assert [f.name for f in post.stored_fields] == ["id", "blogId", "createdAt", "updatedAt"]


def test_refers_to_names_the_sql_table() -> None:
    (model,) = schema_from_sdl('type Todo @model @refersTo(name: "todos") { id: Int! @primaryKey }').models
    assert (model.sql_table, model.key_fields) == ("todos", ("id",))


def test_custom_types_and_operations() -> None:
    schema = schema_from_sdl("""
        type Location { lat: Float!  lng: Float  tags: [String] }
        type Place @model { id: ID!  where: Location  shape: Shape }
        union Shape = Location | Place
        type Query { nearby(lat: Float): [Place] }
        type Mutation { echo(text: String): String }
    """)
    assert [m.name for m in schema.models] == ["Place"]
    assert list(schema.non_models) == ["Location"]
    assert [(f.name, f.kind, f.is_array) for f in schema.non_models["Location"].fields] == [
        ("lat", "scalar", False),
        ("lng", "scalar", False),
        ("tags", "scalar", True),
    ]
    # A union-typed field is left out, as the generator does.
    assert [(f.name, f.type, f.kind) for f in schema.models[0].fields[:2]] == [
        ("id", "ID", "scalar"),
        ("where", "Location", "nonModel"),
    ]


def test_schema_definition_names_the_operation_types() -> None:
    schema = schema_from_sdl("schema { query: Q }  type Q { a: String }  type Query { b: String }")
    assert list(schema.non_models) == ["Query"]


def test_link_to_a_model_without_relationship_directive_is_dropped() -> None:
    schema = schema_from_sdl("type A @model { id: ID!  b: B }  type B @model { id: ID! }")
    assert [f.name for f in schema.models[0].fields] == ["id", "createdAt", "updatedAt"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Todo", "Todos"),
        ("Category", "Categories"),
        ("Address", "Addresses"),
        ("Status", "Statuses"),
        ("PostTags", "PostTags"),
        ("Child", "Children"),
        ("Person", "People"),
        ("SSN", "SSNS"),
        ("Team1", "Team1s"),
        ("Information", "Information"),
        ("Leaf", "Leaves"),
    ],
)
def test_plural_name_follows_the_generator(name: str, expected: str) -> None:
    assert plural(name) == expected


def test_syntax_error_says_where() -> None:
    with pytest.raises(SchemaInvalid) as raised:
        schema_from_sdl("type Todo @model {\n  id: ID!\n  title String\n}")
    assert raised.value.errors == ["line 3, column 9: Syntax Error: Expected ':', found Name 'String'."]


def test_unknown_types_are_named_with_their_field() -> None:
    with pytest.raises(SchemaInvalid) as raised:
        schema_from_sdl("type Todo @model { id: ID!  due: Date }  type Tag { color: Colour }")
    assert raised.value.errors == [
        "Tag.color: unknown type Colour (not an AppSync scalar, enum or type of the schema)",
        "Todo.due: unknown type Date (not an AppSync scalar, enum or type of the schema)",
    ]


@pytest.mark.parametrize(
    ("sdl", "error"),
    [
        ("type A @model { id: ID @primaryKey }", "A.id: a @primaryKey field must be non-null (ID!)"),
        (
            'type A @model { id: ID! @primaryKey(sortKeyFields: ["at"]) }',
            "A: sortKeyFields names at, which is not a field of A",
        ),
        ("type A @model { a: ID! @primaryKey  b: ID! @primaryKey }", "A: @primaryKey on more than one field (a, b)"),
        ("type A @model { b: B @hasMany }  type B @model { id: ID! }", "A.b: @hasMany needs a list B"),
        (
            "type A @model { b: B @belongsTo }  type B @model { id: ID! }",
            "A.b: @belongsTo needs a @hasOne or @hasMany field of type A on B",
        ),
        ("type A @model { b: B @hasOne }  type B { id: ID! }", "A.b: @hasOne needs a @model type, not B"),
        (
            'type A @model { b: B @hasOne(fields: ["x"], references: ["y"]) }  type B @model { y: ID }',
            "A.b: @hasOne takes fields or references, not both",
        ),
        (
            'type A @model { bs: [B] @hasMany(references: ["aId"]) }  type B @model { id: ID! }',
            "A.bs: references names aId, which is not a field of B",
        ),
        (
            'type A @model { bs: [B] @manyToMany(relationName: "AB") }  type B @model { id: ID! }',
            "A.bs: @manyToMany is not supported (Gen 2 links models through a join model)",
        ),
        ("type A @model { id: ID! }  type A { id: ID! }", "A: defined more than once"),
    ],
)
def test_schema_mistakes_are_explained(sdl: str, error: str) -> None:
    with pytest.raises(SchemaInvalid) as raised:
        schema_from_sdl(sdl)
    assert raised.value.errors == [error]
