"""Push-status rules: Monite's defaults, rule-set validation, should_push."""

import datetime as dt
from decimal import Decimal

import pytest

from sync_rules import (
    Counterpart,
    LineItem,
    PayableDoc,
    PushStatuses,
    ReceivableDoc,
    default_push_statuses,
    should_push,
    validate_push_statuses,
    validate_rules,
)


def payable(status: str) -> PayableDoc:
    return PayableDoc(
        id="p1",
        status=status,
        currency="GBP",
        counterpart=Counterpart(id="c1", name="Acme"),
        line_items=[LineItem(quantity=Decimal(1), unit_price=100)],
        issue_date=dt.date(2024, 5, 1),
    )


def receivable(status: str) -> ReceivableDoc:
    return ReceivableDoc(id="r1", status=status, currency="GBP")


def test_defaults_are_monites():
    rules = default_push_statuses()
    assert rules.payable == ["waiting_to_be_paid", "paid", "partially_paid"]
    assert rules.receivable == [
        "issued",
        "paid",
        "partially_paid",
        "overdue",
        "canceled",
        "uncollectible",
    ]
    assert validate_rules(rules) == []


def test_defaults_are_fresh_lists():
    first = default_push_statuses()
    first.payable.append("new")
    assert "new" not in default_push_statuses().payable


def test_every_allowed_status_is_accepted():
    rules = PushStatuses(
        payable=[
            "new",
            "approve_in_progress",
            "waiting_to_be_paid",
            "partially_paid",
            "paid",
            "canceled",
            "rejected",
        ],
        receivable=[
            "issued",
            "partially_paid",
            "paid",
            "overdue",
            "uncollectible",
            "canceled",
            "deleted",
        ],
    )
    assert validate_rules(rules) == []


def test_draft_is_not_allowed_for_either_document():
    problems = validate_rules(PushStatuses(payable=["paid", "draft"], receivable=["draft"]))
    assert [(p.document_type, p.index, p.status, p.code) for p in problems] == [
        ("payable", 1, "draft", "status_not_allowed"),
        ("receivable", 0, "draft", "status_not_allowed"),
    ]
    assert problems[0].loc == ("push_statuses", "payable", 1)
    assert "'draft'" in problems[0].message
    assert "position 1" in problems[0].message


def test_known_invoice_status_outside_the_rules_enum_is_not_allowed():
    (problem,) = validate_push_statuses("receivable", ["issued", "accepted"])
    assert (problem.index, problem.status, problem.code) == (1, "accepted", "status_not_allowed")
    assert "allowed: issued, partially_paid, paid, overdue, uncollectible" in problem.message


def test_unknown_status_is_named():
    (problem,) = validate_push_statuses("payable", ["waiting_to_be_paid", "issued"])
    assert (problem.index, problem.status, problem.code) == (1, "issued", "unknown_status")
    assert problem.message == "payable push status 'issued' at position 1 is not a payable status"


def test_duplicate_is_reported_at_its_second_position():
    (problem,) = validate_push_statuses("receivable", ["paid", "issued", "paid"])
    assert (problem.index, problem.status, problem.code) == (2, "paid", "duplicate_status")
    assert problem.loc == ("push_statuses", "receivable", 2)
    assert "repeats position 0" in problem.message


def test_every_problem_is_returned_at_once():
    problems = validate_push_statuses("payable", ["draft", "paid", "paid", "nope"])
    assert [(p.index, p.code) for p in problems] == [
        (0, "status_not_allowed"),
        (2, "duplicate_status"),
        (3, "unknown_status"),
    ]


def test_unknown_document_type_raises():
    with pytest.raises(ValueError):
        validate_push_statuses("bill", ["paid"])


@pytest.mark.parametrize(
    ("status", "expected"),
    [("waiting_to_be_paid", True), ("paid", True), ("new", False), ("draft", False)],
)
def test_should_push_payable_under_defaults(status, expected):
    assert should_push(payable(status), default_push_statuses()) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("issued", True), ("uncollectible", True), ("deleted", False), ("draft", False)],
)
def test_should_push_receivable_under_defaults(status, expected):
    assert should_push(receivable(status), default_push_statuses()) is expected


def test_should_push_reads_the_list_of_the_documents_own_type():
    rules = PushStatuses(payable=["paid"], receivable=[])
    assert should_push(payable("paid"), rules)
    assert not should_push(receivable("paid"), rules)


def test_should_push_rejects_other_objects():
    with pytest.raises(TypeError):
        should_push({"status": "paid"}, default_push_statuses())
