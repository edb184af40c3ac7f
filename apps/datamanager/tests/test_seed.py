from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from apps.datamanager.dynamo import to_dynamo
from apps.datamanager.schema import Association, DataSchema, EnumType, Field, Model, NonModelType, schema_from_introspection
from apps.datamanager.seed import (
    ConstraintInvalid,
    FieldConstraint,
    KeysExhausted,
    ParentKeysInvalid,
    Seeder,
)
from apps.datamanager.values import check_value
from conftest import fixture_missing

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "model-introspection"
DOCUMENTS: list[Path | None] = [*sorted(FIXTURES.glob("[0-9]*.json"))]
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def f(
    name: str,
    type_: str = "String",
    kind: str = "scalar",
    *,
    required: bool = False,
    array: bool = False,
    list_required: bool = False,
) -> Field:
    """`required` is about the value, or a list's items (`[T!]`); `list_required` about the list (`[T]!`)."""
    return Field(name=name, type=type_, kind=kind, is_required=required, is_array=array, is_array_nullable=not list_required)


def belongs_to(name: str, parent: str, *targets: str) -> Field:
    return Field(name=name, type=parent, kind="model", association=Association("BELONGS_TO", target_names=targets))


SCALAR_TYPES = (
    "ID", "String", "Int", "Float", "Boolean", "AWSDate", "AWSTime", "AWSDateTime", "AWSTimestamp",
    "AWSEmail", "AWSJSON", "AWSPhone", "AWSURL", "AWSIPAddress",
)  # fmt: skip
ITEM = Model(
    name="Item",
    plural_name="Items",
    fields=(
        f("id", "ID", required=True),
        *(f(f"req{t}", t, required=True) for t in SCALAR_TYPES),
        *(f(f"opt{t}", t) for t in SCALAR_TYPES),
        *(f(f"list{t}", t, array=True) for t in SCALAR_TYPES),
        f("genre", "Genre", "enum", required=True),
        f("genres", "Genre", "enum", array=True),
        f("home", "Address", "nonModel", required=True),
        f("offices", "Address", "nonModel", array=True),
        f("tree", "Node", "nonModel"),
        f("tags", array=True, required=True, list_required=True),  # [String!]!
        f("labels", array=True, required=True),  # [String!]
        f("title"),
        f("firstName"),
        f("email"),
        f("ipAddress"),
        f("company"),
        f("website"),
        f("phone"),
        f("status"),
        f("done", "Boolean"),
        f("rating", "Int"),
        f("price", "Float"),
        f("createdAt", "AWSDateTime"),
        Field(name="owner", type="String", kind="scalar", is_read_only=True),
    ),
)
AUTHOR = Model(
    name="Author",
    plural_name="Authors",
    fields=(f("authorId", "ID", required=True), f("name", required=True), f("bio")),
    primary_key="authorId",
    sort_keys=("name",),
)
SHELF = Model(name="Shelf", plural_name="Shelves", fields=(f("id", "ID", required=True), f("label")))
BOOK = Model(
    name="Book",
    plural_name="Books",
    fields=(
        f("id", "ID", required=True),
        f("title", required=True),
        f("authorAuthorId", "ID", required=True),
        f("authorName", required=True),
        f("shelfId", "ID"),
        belongs_to("author", "Author", "authorAuthorId", "authorName"),
        belongs_to("shelf", "Shelf", "shelfId"),
    ),
)
# One profile per user: the key is the user's id.
PROFILE = Model(
    name="Profile",
    plural_name="Profiles",
    fields=(f("userId", "ID", required=True), f("bio"), belongs_to("user", "User", "userId")),
    primary_key="userId",
)
USER = Model(name="User", plural_name="Users", fields=(f("id", "ID", required=True), f("name")))
SEAT = Model(name="Seat", plural_name="Seats", fields=(f("seatNumber", "Int", required=True),), primary_key="seatNumber")
ORDER = Model(
    name="Order",
    plural_name="Orders",
    fields=(f("orderId", "ID", required=True), f("id", "ID", required=True)),
    primary_key="orderId",
)
SCHEMA = DataSchema(
    models=(ITEM, AUTHOR, SHELF, BOOK, PROFILE, USER, SEAT, ORDER),
    enums={"Genre": EnumType("Genre", ("FICTION", "POETRY", "HISTORY", "SCIENCE")), "Empty": EnumType("Empty", ())},
    non_models={
        "Address": NonModelType("Address", (f("street", required=True), f("city"), f("zip"), f("geo", "Geo", "nonModel"))),
        "Geo": NonModelType("Geo", (f("latitude", "Float", required=True), f("longitude", "Float", required=True))),
        "Node": NonModelType("Node", (f("label", required=True), f("children", "Node", "nonModel", array=True))),
    },
)


def slim(*names: str) -> Model:
    """Item with only the named fields, for a test about those (a full row is 60 fields)."""
    return Model(name="Item", plural_name="Items", fields=tuple(x for x in ITEM.fields if x.name in ("id", *names)))


def assert_rows_check(schema: DataSchema, model: Model, rows: list[dict[str, Any]]) -> None:
    """Every value passes check_value and its stored form serialises for DynamoDB; required
    ones are there; nothing but editable fields."""
    editable = {x.name: x for x in model.editable_fields}
    for row in rows:
        assert set(row) <= set(editable), set(row) - set(editable)
        to_dynamo({name: check_value(editable[name], value, schema) for name, value in row.items()})
        assert all(row[x.name] not in (None, "") for x in editable.values() if x.value_required and x.name in row)


def column(rows: list[dict[str, Any]], name: str) -> list[Any]:
    return [row[name] for row in rows]


def test_every_type_gives_values_check_value_accepts() -> None:
    rows = Seeder(SCHEMA, ITEM, seed=1).rows(200)
    assert_rows_check(SCHEMA, ITEM, rows)
    for name in ("owner", "createdAt"):  # read-only, and set by the resolvers
        assert name not in rows[0]
    for t in SCALAR_TYPES:
        assert all(v is not None for v in column(rows, f"opt{t}")), t  # no null_ratio: optional ones filled too
        assert {len(v) for v in column(rows, f"list{t}")} == {0, 1, 2, 3}, t


def test_id_primary_key_is_left_to_the_writer() -> None:
    assert "id" not in Seeder(SCHEMA, ITEM, seed=1).row()


def test_an_id_field_that_is_not_the_key_is_generated() -> None:
    rows = Seeder(SCHEMA, ORDER, seed=1).rows(20)
    assert len({r["id"] for r in rows}) == 20
    assert_rows_check(SCHEMA, ORDER, rows)


def test_dates_and_times_are_utc_with_milliseconds() -> None:
    rows = Seeder(SCHEMA, slim("reqAWSDateTime", "reqAWSTime", "reqAWSDate"), seed=2).rows(50)
    assert all(DATETIME.match(v) for v in column(rows, "reqAWSDateTime"))
    assert all(re.fullmatch(r"\d{2}:\d{2}:\d{2}\.000Z", v) for v in column(rows, "reqAWSTime"))
    assert all(date.fromisoformat(v) for v in column(rows, "reqAWSDate"))


def test_phone_numbers_are_e164() -> None:
    rows = Seeder(SCHEMA, slim("reqAWSPhone", "phone"), seed=3).rows(100)
    phones = column(rows, "reqAWSPhone") + column(rows, "phone")  # the type, and a String named phone
    assert all(E164.match(p) for p in phones), phones


def test_ip_addresses_are_v4_and_v6() -> None:
    rows = Seeder(SCHEMA, slim("reqAWSIPAddress"), seed=4).rows(100)
    assert {ipaddress.ip_address(v).version for v in column(rows, "reqAWSIPAddress")} == {4, 6}


def test_emails_and_addresses_point_at_documentation_names_and_ranges_only() -> None:
    rows = Seeder(SCHEMA, slim("reqAWSEmail", "email", "reqAWSIPAddress", "ipAddress"), seed=4).rows(200)
    emails = column(rows, "reqAWSEmail") + column(rows, "email")  # the type, and a String named email
    assert {e.rsplit("@", 1)[1] for e in emails} == {"example.com", "example.org", "example.net"}
    assert len(set(emails)) > 150  # varied, not a handful repeated
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
    for value in column(rows, "reqAWSIPAddress") + column(rows, "ipAddress"):
        assert any(ipaddress.ip_address(value) in network for network in documentation), value


def test_a_model_of_common_kinds_makes_no_faker() -> None:
    # Faker costs a millisecond to make; names, addresses, prose and the like are drawn without it.
    seeder = Seeder(SCHEMA, slim("firstName", "email", "reqString", "reqAWSIPAddress", "title", "tags"), seed=8)
    rows = seeder.rows(50)
    assert "_fake" not in vars(seeder)
    assert all(row["reqString"].endswith(".") and row["reqString"][0].isupper() for row in rows)  # a sentence
    company = Seeder(SCHEMA, slim("company"), seed=8)
    assert all(column(company.rows(5), "company"))
    assert "_fake" in vars(company)


def test_json_is_a_small_object_as_text() -> None:
    value = Seeder(SCHEMA, ITEM, seed=5).row()["reqAWSJSON"]
    assert isinstance(value, str)
    assert isinstance(json.loads(value), dict)


def test_text_follows_the_field_name() -> None:
    rows = Seeder(SCHEMA, slim("email", "website", "status", "firstName", "rating"), seed=6).rows(50)
    assert all("@" in v for v in column(rows, "email"))
    assert all(v.startswith(("http://", "https://")) for v in column(rows, "website"))
    assert set(column(rows, "status")) <= {"active", "pending", "inactive", "archived", "draft"}
    assert all(" " not in v and v[0].isupper() for v in column(rows, "firstName"))
    assert all(1 <= v <= 5 for v in column(rows, "rating"))
    assert all(len(v.split()) >= 2 for v in column(Seeder(SCHEMA, USER, seed=6).rows(20), "name"))  # a person's name


def test_custom_types_are_objects_of_their_fields() -> None:
    rows = Seeder(SCHEMA, slim("home", "offices"), seed=7).rows(50)
    for home in column(rows, "home"):
        assert set(home) == {"street", "city", "zip", "geo"}
        assert -90 <= home["geo"]["latitude"] <= 90
        assert -180 <= home["geo"]["longitude"] <= 180
    assert any(column(rows, "offices"))
    assert all(isinstance(o, dict) and "street" in o for offices in column(rows, "offices") for o in offices)


def test_a_custom_type_that_requires_itself_is_refused() -> None:
    schema = DataSchema(models=(), non_models={"Loop": NonModelType("Loop", (f("next", "Loop", "nonModel", required=True),))})
    model = Model(name="M", plural_name="Ms", fields=(f("loop", "Loop", "nonModel", required=True),))
    with pytest.raises(ConstraintInvalid, match="custom type Loop requires itself"):
        Seeder(schema, model).row()


def test_a_recursive_custom_type_stops_at_the_depth_limit() -> None:
    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(child) for child in node.get("children") or []), default=0)

    trees = column(Seeder(SCHEMA, slim("tree"), seed=8).rows(50), "tree")
    assert max(depth(t) for t in trees) == 2  # the tree, its children; deeper optional levels empty
    assert all("label" in t for t in trees)


def test_length_bounds_are_honoured() -> None:
    constraints = {
        "optString": FieldConstraint(min_length=5, max_length=8),
        "title": FieldConstraint(min_length=300),
        "firstName": FieldConstraint(max_length=4),
        "optID": FieldConstraint(min_length=6, max_length=10),
        "listString": FieldConstraint(min_length=2, max_length=3),
    }
    rows = Seeder(SCHEMA, slim(*constraints), constraints=constraints, seed=9).rows(100)
    assert_rows_check(SCHEMA, ITEM, rows)
    assert all(5 <= len(v) <= 8 and not v.endswith(" ") for v in column(rows, "optString"))
    assert all(len(v) >= 300 for v in column(rows, "title"))
    assert all(1 <= len(v) <= 4 for v in column(rows, "firstName"))
    assert all(6 <= len(v) <= 10 for v in column(rows, "optID"))
    assert all(2 <= len(v) <= 3 for items in column(rows, "listString") for v in items)


def test_number_bounds_are_honoured() -> None:
    constraints = {
        "reqInt": FieldConstraint(minimum=-5, maximum=5),
        "optInt": FieldConstraint(minimum=5000),
        "reqFloat": FieldConstraint(minimum=0.5, maximum=0.75),
        "optFloat": FieldConstraint(maximum=-10),
        "reqAWSTimestamp": FieldConstraint(minimum=1_700_000_000, maximum=1_700_000_100),
    }
    rows = Seeder(SCHEMA, slim(*constraints), constraints=constraints, seed=10).rows(200)
    assert_rows_check(SCHEMA, ITEM, rows)
    assert set(column(rows, "reqInt")) == set(range(-5, 6))
    assert all(v >= 5000 for v in column(rows, "optInt"))
    assert all(0.5 <= v <= 0.75 for v in column(rows, "reqFloat"))
    assert all(v <= -10 for v in column(rows, "optFloat"))
    assert all(1_700_000_000 <= v <= 1_700_000_100 for v in column(rows, "reqAWSTimestamp"))


def test_date_ranges_are_honoured() -> None:
    march = FieldConstraint(date_from="2026-03-01", date_to=date(2026, 3, 31))
    constraints = {
        "reqAWSDate": march,
        "reqAWSDateTime": march,
        "reqAWSTimestamp": march,
        "optAWSDateTime": FieldConstraint(date_from=datetime(2026, 1, 1, 12, tzinfo=UTC), date_to="2026-01-01T13:00:00Z"),
        "reqAWSTime": FieldConstraint(date_from="09:00", date_to=time(17, 0)),
    }
    rows = Seeder(SCHEMA, slim(*constraints), constraints=constraints, seed=11).rows(200)
    assert_rows_check(SCHEMA, ITEM, rows)
    assert all("2026-03-01" <= v <= "2026-03-31" for v in column(rows, "reqAWSDate"))
    assert "2026-03-31" in [v[:10] for v in column(rows, "reqAWSDateTime")]  # the last day counts whole
    assert all("2026-03-01T00:00:00.000Z" <= v <= "2026-03-31T23:59:59.000Z" for v in column(rows, "reqAWSDateTime"))
    start, end = datetime(2026, 3, 1, tzinfo=UTC).timestamp(), datetime(2026, 4, 1, tzinfo=UTC).timestamp()
    assert all(start <= v < end for v in column(rows, "reqAWSTimestamp"))
    assert all("2026-01-01T12:00:00.000Z" <= v <= "2026-01-01T13:00:00.000Z" for v in column(rows, "optAWSDateTime"))
    assert all("09:00:00" <= v[:8] <= "17:00:00" for v in column(rows, "reqAWSTime"))


def test_true_ratio_holds_within_tolerance_over_500_rows() -> None:
    constraints = {"done": FieldConstraint(true_ratio=0.2), "reqBoolean": FieldConstraint(true_ratio=1)}
    rows = Seeder(SCHEMA, slim(*constraints), constraints=constraints, seed=12).rows(500)
    assert 0.15 <= sum(column(rows, "done")) / 500 <= 0.25
    assert all(column(rows, "reqBoolean"))


def test_enum_values_come_from_the_subset() -> None:
    subset = FieldConstraint(enum_values=["POETRY", "HISTORY"])
    rows = Seeder(SCHEMA, slim("genre", "genres"), constraints={"genre": subset, "genres": subset}, seed=13).rows(100)
    assert set(column(rows, "genre")) == {"POETRY", "HISTORY"}
    assert {g for genres in column(rows, "genres") for g in genres} == {"POETRY", "HISTORY"}
    assert set(column(Seeder(SCHEMA, slim("genre"), seed=13).rows(100), "genre")) == {"FICTION", "POETRY", "HISTORY", "SCIENCE"}


def test_null_ratio_leaves_optional_fields_empty_sometimes() -> None:
    constraints = {"optString": FieldConstraint(null_ratio=0.5), "optInt": FieldConstraint(null_ratio=1)}
    rows = Seeder(SCHEMA, slim(*constraints), constraints=constraints, seed=14).rows(100)
    assert 20 < column(rows, "optString").count(None) < 80
    assert column(rows, "optInt") == [None] * 100


def test_a_required_list_has_items_and_a_list_of_required_items_may_be_absent() -> None:
    rows = Seeder(SCHEMA, slim("tags", "labels"), constraints={"labels": FieldConstraint(null_ratio=1)}, seed=15).rows(50)
    assert all(1 <= len(tags) <= 3 for tags in column(rows, "tags"))
    assert column(rows, "labels") == [None] * 50
    with pytest.raises(ConstraintInvalid, match="tags: is required"):
        Seeder(SCHEMA, ITEM, constraints={"tags": FieldConstraint(null_ratio=0.5)})


def test_list_lengths_are_honoured() -> None:
    constraints = {
        "listInt": FieldConstraint(list_min=2, list_max=4, minimum=1, maximum=9),
        "genres": FieldConstraint(list_max=0),
    }
    rows = Seeder(SCHEMA, slim(*constraints), constraints=constraints, seed=15).rows(100)
    assert {len(v) for v in column(rows, "listInt")} == {2, 3, 4}
    assert all(1 <= n <= 9 for items in column(rows, "listInt") for n in items)
    assert column(rows, "genres") == [[]] * 100


@pytest.mark.parametrize(
    ("name", "constraint", "message"),
    [
        ("optString", FieldConstraint(min_length=9, max_length=3), "minimum 9 is greater than its maximum 3"),
        ("optString", FieldConstraint(max_length=0), "max_length must be between 1"),
        ("optString", FieldConstraint(min_length=-1), "min_length must be a whole number"),
        ("optString", FieldConstraint(minimum=1), "minimum and maximum apply to numbers"),
        ("reqInt", FieldConstraint(minimum=10, maximum=1), "minimum 10 is greater than its maximum 1"),
        ("reqInt", FieldConstraint(maximum=2**31), "outside what Int holds"),
        ("reqInt", FieldConstraint(minimum=1.5), "must be a whole number for Int"),
        ("reqFloat", FieldConstraint(minimum=float("nan")), "must be a finite number"),
        ("reqFloat", FieldConstraint(maximum=1e200), "outside the sizes DynamoDB stores"),
        ("reqFloat", FieldConstraint(minimum=1e-200), "outside the sizes DynamoDB stores"),
        ("reqAWSTimestamp", FieldConstraint(minimum=-1), "outside what AWSTimestamp holds"),
        ("reqAWSTimestamp", FieldConstraint(minimum=1, date_from="2026-01-01"), "not both"),
        ("reqAWSTimestamp", FieldConstraint(date_to="1969-12-31"), "cannot be before 1970"),
        ("reqAWSDate", FieldConstraint(date_from="2026-02-01", date_to="2026-01-01"), "is after date_to"),
        ("reqAWSDate", FieldConstraint(date_from="next tuesday"), "is not a date"),
        ("reqAWSDate", FieldConstraint(date_from=time(9)), "must be a date or a date and time"),
        ("reqAWSTime", FieldConstraint(date_from="2026-01-01"), "is not a time of day"),
        ("reqAWSTime", FieldConstraint(date_from="17:00", date_to="09:00"), "time minimum 61200 is greater"),
        ("reqString", FieldConstraint(date_from="2026-01-01"), "a date range applies to dates"),
        ("done", FieldConstraint(true_ratio=1.5), "true_ratio must be between 0 and 1"),
        ("reqInt", FieldConstraint(true_ratio=0.5), "a true ratio applies to Boolean fields, not Int"),
        ("genre", FieldConstraint(enum_values=["POETRY", "JAZZ"]), "'JAZZ' is not a value of Genre"),
        ("genre", FieldConstraint(enum_values=[]), "non-empty list"),
        ("reqString", FieldConstraint(enum_values=["a"]), "enum values apply to enum fields"),
        ("optString", FieldConstraint(null_ratio=-0.1), "null_ratio must be between 0 and 1"),
        ("reqString", FieldConstraint(null_ratio=0.5), "is required, so it cannot be left empty"),
        ("optString", FieldConstraint(list_max=2), "list lengths apply to list fields only"),
        ("listInt", FieldConstraint(list_min=4, list_max=2), "list length minimum 4 is greater"),
        ("listInt", FieldConstraint(list_max=1000), "at most 100 items"),
        ("nope", FieldConstraint(), "Item has no editable field of that name"),
        ("owner", FieldConstraint(), "Item has no editable field of that name"),
        ("id", FieldConstraint(), "is filled in by the writer"),
    ],
)
def test_bad_constraints_are_refused_naming_the_field(name: str, constraint: FieldConstraint, message: str) -> None:
    with pytest.raises(ConstraintInvalid, match=re.escape(message)) as caught:
        Seeder(SCHEMA, ITEM, constraints={name: constraint})
    assert caught.value.field == name
    assert str(caught.value).startswith(f"{name}: ")


def test_a_required_enum_without_values_is_refused() -> None:
    model = Model(
        name="M", plural_name="Ms", fields=(f("kind", "Empty", "enum", required=True), f("kinds", "Empty", "enum", array=True))
    )
    with pytest.raises(ConstraintInvalid, match="kind: enum Empty has no values"):
        Seeder(SCHEMA, model)
    optional = Model(name="M", plural_name="Ms", fields=(f("kind", "Empty", "enum"), f("kinds", "Empty", "enum", array=True)))
    assert Seeder(SCHEMA, optional, seed=1).row() == {"kind": None, "kinds": None}


def test_belongs_to_keys_come_from_the_given_parents() -> None:
    authors = [{"authorId": f"a{i}", "name": f"Author {i}"} for i in range(5)]
    shelves = [{"id": "s1"}, {"id": "s2"}]
    rows = Seeder(SCHEMA, BOOK, parent_keys={"author": authors, "shelf": shelves}, seed=16).rows(100)
    assert_rows_check(SCHEMA, BOOK, rows)
    assert {(r["authorAuthorId"], r["authorName"]) for r in rows} == {(a["authorId"], a["name"]) for a in authors}
    assert set(column(rows, "shelfId")) == {"s1", "s2"}


def test_parent_keys_map_by_position_when_they_do_not_name_the_key_fields() -> None:
    parents = [{"first": "a1", "second": "Ada"}]
    row = Seeder(SCHEMA, BOOK, parent_keys={"author": parents}, seed=17).row()
    assert (row["authorAuthorId"], row["authorName"]) == ("a1", "Ada")
    # Named ones follow the parent model's key order, whatever the dict's order.
    row = Seeder(SCHEMA, BOOK, parent_keys={"author": [{"name": "Ada", "authorId": "a1"}]}, seed=17).row()
    assert (row["authorAuthorId"], row["authorName"]) == ("a1", "Ada")


def test_without_parents_required_keys_are_generated_and_optional_ones_left_empty() -> None:
    rows = Seeder(SCHEMA, BOOK, seed=18).rows(20)
    assert_rows_check(SCHEMA, BOOK, rows)
    assert all(r["authorAuthorId"] and r["authorName"] for r in rows)
    assert column(rows, "shelfId") == [None] * 20


def test_a_has_one_keeping_the_key_here_is_filled_like_a_belongs_to() -> None:
    has_one = Field(
        name="passport", type="Passport", kind="model", association=Association("HAS_ONE", target_names=("passportId",))
    )
    model = Model(name="Person", plural_name="People", fields=(f("id", "ID", required=True), f("passportId", "ID"), has_one))
    assert Seeder(SCHEMA, model, seed=1).row() == {"passportId": None}  # no related record to point at
    assert Seeder(SCHEMA, model, parent_keys={"passport": [{"id": "p1"}]}, seed=1).row() == {"passportId": "p1"}


def test_optional_parent_keys_follow_the_null_ratio() -> None:
    seeder = Seeder(
        SCHEMA, BOOK, constraints={"shelfId": FieldConstraint(null_ratio=0.5)}, parent_keys={"shelf": [{"id": "s1"}]}, seed=19
    )
    assert set(column(seeder.rows(100), "shelfId")) == {None, "s1"}


@pytest.mark.parametrize(
    ("parent_keys", "message"),
    [
        ({"publisher": [{"id": "p"}]}, "publisher: Book has no belongsTo"),
        ({"author": [{"authorId": "a1"}]}, "author: parent key {'authorId': 'a1'} has 1 values for authorAuthorId, authorName"),
        ({"author": [{"authorId": "a1", "name": ""}]}, "does not fit authorName: is required"),
        ({"author": ["a1"]}, "author: a parent key must be a dict"),
    ],
)
def test_bad_parent_keys_are_refused(parent_keys: dict[str, list[Any]], message: str) -> None:
    with pytest.raises(ParentKeysInvalid, match=re.escape(message)):
        Seeder(SCHEMA, BOOK, parent_keys=parent_keys)


def test_parent_keys_are_checked_as_the_target_field_type() -> None:
    model = Model(
        name="Line",
        plural_name="Lines",
        fields=(f("id", "ID", required=True), f("seatNumber", "Int", required=True), belongs_to("seat", "Seat", "seatNumber")),
    )
    assert Seeder(SCHEMA, model, parent_keys={"seat": [{"seatNumber": "7"}]}).row() == {"seatNumber": 7}
    with pytest.raises(ParentKeysInvalid, match="does not fit seatNumber: 'x' is not a whole number"):
        Seeder(SCHEMA, model, parent_keys={"seat": [{"seatNumber": "x"}]})


def test_custom_keys_are_unique_across_100_rows() -> None:
    authors = Seeder(SCHEMA, AUTHOR, constraints={"name": FieldConstraint(max_length=1)}, seed=20).rows(100)
    assert len({(a["authorId"], a["name"]) for a in authors}) == 100
    seats = Seeder(SCHEMA, SEAT, constraints={"seatNumber": FieldConstraint(minimum=1, maximum=120)}, seed=20).rows(100)
    assert len(set(column(seats, "seatNumber"))) == 100


def test_a_key_taken_from_parents_uses_each_parent_once_then_new_ids() -> None:
    users = [{"id": f"u{i}"} for i in range(3)]
    rows = Seeder(SCHEMA, PROFILE, parent_keys={"user": users}, seed=21).rows(5)
    keys = column(rows, "userId")
    assert sorted(keys[:3]) == ["u0", "u1", "u2"]
    assert len(set(keys)) == 5


def test_too_narrow_key_constraints_run_out_of_keys() -> None:
    seeder = Seeder(SCHEMA, SEAT, constraints={"seatNumber": FieldConstraint(minimum=1, maximum=3)}, seed=22)
    assert sorted(column(seeder.rows(3), "seatNumber")) == [1, 2, 3]
    with pytest.raises(KeysExhausted, match="seatNumber: no unused key"):
        seeder.row()


def test_the_same_seed_gives_the_same_rows() -> None:
    parents = {"author": [{"authorId": f"a{i}", "name": "A"} for i in range(9)], "shelf": [{"id": "s"}]}
    assert Seeder(SCHEMA, ITEM, seed=23).rows(20) == Seeder(SCHEMA, ITEM, seed=23).rows(20)
    assert Seeder(SCHEMA, BOOK, parent_keys=parents, seed=23).rows(20) == Seeder(SCHEMA, BOOK, parent_keys=parents, seed=23).rows(
        20
    )
    assert Seeder(SCHEMA, ITEM, seed=23).rows(5) != Seeder(SCHEMA, ITEM, seed=24).rows(5)


def test_rows_counts_from_zero() -> None:
    assert Seeder(SCHEMA, ITEM).rows(0) == []
    with pytest.raises(ValueError, match="cannot generate -1 rows"):
        Seeder(SCHEMA, ITEM).rows(-1)


# The real code generator's documents.


@pytest.fixture(params=DOCUMENTS or [None], ids=lambda p: p.stem[:40] if p else "absent")
def document(request: pytest.FixtureRequest) -> DataSchema:
    if request.param is None:
        fixture_missing(f"{FIXTURES} is absent (../shared next to the repository)")
    schema = schema_from_introspection(json.loads(request.param.read_text()))
    if not schema.models:
        pytest.skip("a document without models")
    return schema


def references(model: Model) -> list[Field]:
    """Relationships whose keys this model holds in fields it declares."""
    names = {x.name for x in model.editable_fields}
    return [
        r
        for r in model.relationships
        if r.association
        and r.association.connection_type in ("BELONGS_TO", "HAS_ONE")
        and set(r.association.target_names) & names
    ]


def test_fixture_rows_pass_check_value(document: DataSchema) -> None:
    for model in document.models:
        rows = Seeder(document, model, seed=1).rows(50)
        assert_rows_check(document, model, rows)
        required = {x.name for x in model.editable_fields if x.value_required} - ({"id"} if model.primary_key == "id" else set())
        assert all(required <= set(r) for r in rows), model.name


def test_fixture_belongs_to_keys_come_from_parents(document: DataSchema) -> None:
    for model in document.models:
        parent_keys: dict[str, list[dict[str, Any]]] = {}
        for relationship in references(model):
            parent = document.model(relationship.type)
            assert parent is not None
            records = Seeder(document, parent, seed=2).rows(20)
            for i, record in enumerate(records):
                record.setdefault("id", f"{parent.name}-{i}")  # what the writer would have given it
            parent_keys[relationship.name] = [{k: r[k] for k in parent.key_fields} for r in records]
        rows = Seeder(document, model, parent_keys=parent_keys, seed=3).rows(10)
        assert_rows_check(document, model, rows)
        for relationship in references(model):
            assert relationship.association is not None
            pairs = [(i, t) for i, t in enumerate(relationship.association.target_names) if t in rows[0]]
            allowed = {tuple(list(p.values())[i] for i, _ in pairs) for p in parent_keys[relationship.name]}
            for row in rows:
                assert tuple(row[t] for _, t in pairs) in allowed, (model.name, relationship.name)


def test_fixture_custom_keys_are_unique_across_100_rows(document: DataSchema) -> None:
    for model in document.models:
        if model.primary_key == "id" and model.field("id").type == "ID":
            continue  # the writer gives each a new UUID
        rows = Seeder(document, model, seed=4).rows(100)
        assert len({tuple(r.get(k) for k in model.key_fields) for r in rows}) == 100, model.name
