"""Codat query parser: operators, dotted fields, groups, dates, errors."""

from __future__ import annotations

import pytest

from sandbox.query import QueryError, compile_query, sort_records

RECORDS = [
    {
        "id": "1",
        "name": "Acme Ltd",
        "status": "Active",
        "balance": 10.5,
        "modifiedDate": "2024-01-01T10:00:00Z",
        "issueDate": "2024-01-01T00:00:00",
        "metadata": {"isDeleted": False},
        "lineItems": [{"itemRef": {"id": "i1"}}, {"itemRef": {"id": "i2"}}],
    },
    {
        "id": "2",
        "name": "Beta GmbH",
        "status": "Archived",
        "balance": 99,
        "modifiedDate": "2024-03-01T12:00:00+02:00",
        "issueDate": "2024-02-15T00:00:00",
        "metadata": {"isDeleted": True},
        "lineItems": [{"itemRef": {"id": "i3"}}],
    },
    {
        "id": "3",
        "name": "gamma & co",
        "status": "Active",
        "balance": None,
        "modifiedDate": "2023-12-31T23:59:59",
        "lineItems": [],
    },
]


def ids(query: str) -> list[str]:
    predicate = compile_query(query)
    assert predicate is not None
    return [r["id"] for r in RECORDS if predicate(r)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("id=2", ["2"]),
        ("status!=Active", ["2"]),
        ("status=active", ["1", "3"]),
        ("name~gmbh", ["2"]),
        ("balance>10.5", ["2"]),
        ("balance>=10.5", ["1", "2"]),
        ("balance<50", ["1"]),
        ("balance=null", ["3"]),
        ("metadata.isDeleted=true", ["2"]),
        ("metadata.isDeleted!=true", ["1", "3"]),
        ("lineItems.itemRef.id=i2", ["1"]),
        ("status=Active&&name~acme", ["1"]),
        ("id=1||id=3", ["1", "3"]),
        ("{id=1||id=2}&&metadata.isDeleted=false", ["1"]),
        ("status=Active && { name~gamma || balance>100 }", ["3"]),
        ('name="gamma & co"', ["3"]),
    ],
)
def test_operators_fields_and_groups(query: str, expected: list[str]) -> None:
    assert ids(query) == expected


def test_dates_compare_as_datetimes_with_and_without_offsets() -> None:
    # 2024-03-01T12:00:00+02:00 is 10:00 UTC; naive values are UTC.
    assert ids("modifiedDate>=2024-01-01T10:00:00Z") == ["1", "2"]
    assert ids("modifiedDate>2024-03-01T10:00:00Z") == []
    assert ids("modifiedDate>=2024-03-01T10:00:00Z") == ["2"]
    assert ids("modifiedDate<2024-01-01") == ["3"]
    assert ids("issueDate>=2024-02-01T00:00:00+00:00") == ["2"]


@pytest.mark.parametrize(
    "query",
    [
        "id=",
        "=1",
        "id",
        "id=1&&",
        "{id=1",
        "id=1}",
        "id=1||",
        "na me=1",
        'name="open',
        "id=1&&&id=2",
    ],
)
def test_malformed_queries_raise(query: str) -> None:
    with pytest.raises(QueryError):
        compile_query(query)


def test_empty_query_is_no_filter() -> None:
    assert compile_query("") is None
    assert compile_query(None) is None


def test_order_by_dates_names_and_descending() -> None:
    by_date = sort_records(RECORDS, "modifiedDate", key=lambda r: r)
    assert [r["id"] for r in by_date] == ["3", "1", "2"]
    by_name_desc = sort_records(RECORDS, "-name", key=lambda r: r)
    assert [r["id"] for r in by_name_desc] == ["3", "2", "1"]
    by_two = sort_records(RECORDS, "status,-balance", key=lambda r: r)
    assert [r["id"] for r in by_two] == ["1", "3", "2"]
    with pytest.raises(QueryError):
        sort_records(RECORDS, "-", key=lambda r: r)
