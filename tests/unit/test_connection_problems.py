"""The connection's problem list (``app.connections.health``): one entry per (code, data
type) with first and last seen times, cleared by what proves it resolved."""

from __future__ import annotations

import datetime as dt

from app.connections import health
from app.db.models import AccountingConnection

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _conn(errors=None) -> AccountingConnection:
    return AccountingConnection(status="connected", errors=errors, updated_at=T0)


def test_the_same_problem_seen_again_keeps_its_first_seen_time() -> None:
    c = _conn()
    health.record(c, "provider_unavailable", "503", "bills", T0)
    health.record(c, "provider_unavailable", "500", "bills", T0 + dt.timedelta(hours=1))
    health.record(c, "provider_unavailable", "503", "items", T0 + dt.timedelta(hours=1))
    found = health.problems(c)
    bills = next(p for p in found if p["data_type"] == "bills")
    assert len(found) == 2
    assert bills["message"] == "500"
    assert bills["first_seen_at"] == T0.isoformat()
    assert bills["last_seen_at"] == (T0 + dt.timedelta(hours=1)).isoformat()


def test_a_successful_pull_clears_its_data_type_and_connection_wide_problems() -> None:
    c = _conn()
    health.record(c, "provider_unavailable", "503", "bills", T0)
    health.record(c, "provider_unavailable", "503", "items", T0)
    health.record(c, "company_not_found", "gone", None, T0)
    health.resolve_pulled(c, "bills")
    assert [(p["code"], p["data_type"]) for p in health.problems(c)] == [
        ("provider_unavailable", "items")
    ]
    health.resolve_pulled(c, "items")
    assert c.errors is None


def test_connection_errors_are_replaced_by_the_providers_current_list() -> None:
    c = _conn([{"message": "User cancelled"}])  # written before problems had codes
    assert health.problems(c)[0]["code"] == "connection_error"
    assert health.problems(c)[0]["first_seen_at"] == T0.isoformat()
    health.record(c, "provider_unavailable", "503", "bills", T0)
    health.set_connection_status_errors(c, ["User cancelled", "Token expired"])
    messages = {p["message"]: p for p in health.problems(c)}
    assert messages["User cancelled"]["first_seen_at"] == T0.isoformat()  # still the same one
    assert set(messages) == {"User cancelled", "Token expired", "503"}
    health.set_connection_status_errors(c, [])
    assert [p["code"] for p in health.problems(c)] == ["provider_unavailable"]


def test_codat_dataset_names_map_to_pulled_data_types() -> None:
    assert health.pulled_data_type("chartOfAccounts") == "accounts"
    assert health.pulled_data_type("bills") == "bills"
    assert health.pulled_data_type(None) is None
