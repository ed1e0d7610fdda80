"""Retries of pushed documents, end to end against the sandbox (issue 8).

Transient failures (the provider answering 5xx) retry on their own with backoff, at most
``MAX_ATTEMPTS`` attempts, then wait for a person; validation failures wait for a person at
once; a person retries one record (``POST .../{id}/push``) or many (``POST .../push``); every
attempt is kept in the record's history.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from app.db.models import AccountingConnection, PayableLineItem, SyncedRecord
from app.sync import push
from app.sync.push import common as push_common
from tests.e2e.conftest import World, rate_of

SANDBOX_AUTH = {"Authorization": "Basic " + base64.b64encode(b"sandbox").decode()}
BASE = "/v1/accounting_synced_records"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine waits 30 s x 2^n between automatic attempts; a test cannot."""
    monkeypatch.setattr(push_common, "backoff", lambda attempt: 0.05)


async def _setup(world: World) -> tuple[str, dict[str, str], str, str, str]:
    """A connected entity, a vendor and the first pulled ledger account and tax rate."""
    entity = await world.partner.create_entity("Retry Ltd", currency="GBP")
    await world.connect(entity, "xero")
    h = world.partner.entity_headers(entity)
    account = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"][0]["id"]
    rates = (await world.client.get("/v1/accounting_tax_rates?limit=100", headers=h)).json()["data"]
    rate = rate_of(rates, 2000)["id"]  # the lines' 20%
    vendor = await world.client.post(
        "/v1/counterparts",
        headers=h,
        json={
            "type": "organization",
            "organization": {
                "legal_name": "Initech Retry Supplies",
                "is_vendor": True,
                "address": {"country": "GB", "city": "York", "line1": "3 Wall St"},
            },
        },
    )
    assert vendor.status_code == 201, vendor.text
    return entity, h, vendor.json()["id"], account, rate


async def _approved_payable(
    world: World, h: dict[str, str], vendor: str, account: str | None, rate: str
) -> tuple[str, str]:
    """A payable with one line, approved (so it is pushed); returns (payable id, line id).

    Without a ledger account, approval refuses it (the push's validation runs first): such a
    payable is only submitted, for an entity whose rules push at ``approve_in_progress``."""
    payable = await world.client.post(
        "/v1/payables",
        headers=h,
        json={"currency": "GBP", "counterpart_id": vendor, "issued_at": "2026-11-01"},
    )
    assert payable.status_code == 201, payable.text
    pid = payable.json()["id"]
    line: dict[str, Any] = {
        "name": "Paper",
        "quantity": 2,
        "unit_price": 1000,
        "tax": 2000,
        "accounting_tax_rate_id": rate,
    }
    if account:
        line["ledger_account_id"] = account
    made = await world.client.post(f"/v1/payables/{pid}/line_items", headers=h, json=line)
    assert made.status_code == 201, made.text
    actions = ("submit_for_approval", "approve_payment_operation")
    for action in actions if account else actions[:1]:
        r = await world.client.post(f"/v1/payables/{pid}/{action}", headers=h)
        assert r.status_code == 200, r.text
    return pid, made.json()["id"]


async def _push_at_submission(world: World, h: dict[str, str]) -> None:
    """The entity's rules push payables from ``approve_in_progress`` (as Draft bills)."""
    r = await world.client.patch(
        "/v1/accounting_sync_rules",
        headers=h,
        json={"push_statuses": {"payable": ["approve_in_progress", "waiting_to_be_paid"]}},
    )
    assert r.status_code == 200, r.text


async def _record(world: World, h: dict[str, str], payable_id: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        r = await world.client.get(f"{BASE}?object_type=bill&object_id={payable_id}", headers=h)
        return (r.json()["data"] or [None])[0]

    return await world.wait_for(found, what="synced record")


async def _detail(world: World, h: dict[str, str], record_id: str) -> dict[str, Any]:
    r = await world.client.get(f"{BASE}/{record_id}", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def _wait_status(
    world: World, h: dict[str, str], record_id: str, status: str, **fields: Any
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        d = await _detail(world, h, record_id)
        ok = d["sync_status"] == status and all(d[k] == v for k, v in fields.items())
        return d if ok else None

    return await world.wait_for(reached, what=f"{status} {fields}")


async def _faults(world: World, sessionmaker, body: dict[str, Any] | None) -> None:
    async with sessionmaker() as session:
        company = await session.scalar(select(AccountingConnection.provider_company_id))
    url = f"/_admin/companies/{company}/faults"
    if body is None:
        r = await world.sandbox_http.delete(url, headers=SANDBOX_AUTH)
    else:
        r = await world.sandbox_http.put(url, headers=SANDBOX_AUTH, json=body)
    assert r.status_code in (200, 204), r.text


async def test_provider_errors_retry_up_to_the_cap_then_wait_for_a_person(
    world, sessionmaker
) -> None:
    _entity, h, vendor, account, rate = await _setup(world)
    # A first payable lands, so the vendor exists in Xero and only the bill's push fails below.
    first, _ = await _approved_payable(world, h, vendor, account, rate)
    first_record = await _record(world, h, first)
    await _wait_status(world, h, first_record["id"], "done")

    await _faults(world, sessionmaker, {"rate_5xx": 1.0})
    payable, _ = await _approved_payable(world, h, vendor, account, rate)
    record = await _record(world, h, payable)
    failed = await _wait_status(
        world, h, record["id"], "error", attempts_count=push.MAX_ATTEMPTS, next_attempt_at=None
    )
    assert "unavailable" in failed["errors"]["message"]
    history = failed["attempts"]
    assert [a["number"] for a in history] == [1, 2, 3, 4, 5]
    assert {(a["kind"], a["outcome"]) for a in history} == {("create", "error")}
    assert all(a["error"] and a["finished_at"] for a in history)
    # The cap holds: the sweep (every 0.5 s) does not start a sixth attempt.
    await asyncio.sleep(1.5)
    still = await _detail(world, h, record["id"])
    assert still["attempts_count"] == push.MAX_ATTEMPTS and still["sync_status"] == "error"

    # A person retries once the provider is back: answered with the record after the attempt.
    await _faults(world, sessionmaker, None)
    retried = await world.client.post(f"{BASE}/{record['id']}/push", headers=h)
    assert retried.status_code == 200, retried.text
    assert retried.json()["attempts_count"] == push.MAX_ATTEMPTS + 1
    done = await _wait_status(world, h, record["id"], "done")
    assert done["errors"] is None and done["provider_object_id"]
    # Every attempt is kept, numbered on from the automatic ones.
    assert [(a["number"], a["outcome"]) for a in done["attempts"]] == [
        (1, "error"),
        (2, "error"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
        (6, "done"),
    ]
    assert len({a["push_operation_key"] for a in done["attempts"] if a["push_operation_key"]}) == 1


async def test_manual_retry_of_a_done_record_pushes_an_update_only_after_a_change(
    world, sessionmaker
) -> None:
    _entity, h, vendor, account, rate = await _setup(world)
    payable, _ = await _approved_payable(world, h, vendor, account, rate)
    record = await _record(world, h, payable)
    done = await _wait_status(world, h, record["id"], "done")
    unchanged = await world.client.post(f"{BASE}/{record['id']}/push", headers=h)
    assert unchanged.status_code == 409
    assert "nothing changed" in unchanged.json()["error"]["message"].lower()
    # The payable changed after it was pushed (as the status hook records it).
    async with sessionmaker() as session, session.begin():
        row = await session.get(SyncedRecord, uuid.UUID(record["id"]))
        row.object_updated_at = row.pushed_version + dt.timedelta(minutes=5)
    again = await world.client.post(f"{BASE}/{record['id']}/push", headers=h)
    assert again.status_code == 200, again.text
    updated = await world.wait_for(
        lambda: _settled_update(world, h, record["id"]), what="update pushed"
    )
    assert [a["kind"] for a in updated["attempts"]] == ["create", "update"]
    assert updated["provider_object_id"] == done["provider_object_id"]  # the same bill


async def _settled_update(world: World, h: dict[str, str], record_id: str) -> Any:
    d = await _detail(world, h, record_id)
    kinds = [(a["kind"], a["outcome"]) for a in d["attempts"]]
    return d if d["sync_status"] == "done" and ("update", "done") in kinds else None


async def test_validation_failures_wait_for_a_person_then_bulk_retry(world, sessionmaker) -> None:
    _entity, h, vendor, account, rate = await _setup(world)
    await _push_at_submission(world, h)
    payables = [await _approved_payable(world, h, vendor, None, rate) for _ in range(2)]
    records = [await _record(world, h, p) for p, _ in payables]
    for r in records:
        failed = await _wait_status(world, h, r["id"], "error", next_attempt_at=None)
        assert [a["kind"] for a in failed["attempts"]] == ["validate"]
    await asyncio.sleep(1.5)  # several sweeps: no automatic attempt
    for r in records:
        assert (await _detail(world, h, r["id"]))["attempts_count"] == 1
    # Bad bulk requests change nothing.
    for body in ({"object_type": "customer"}, {"object_type": "bill", "sync_status": "done"}):
        bad = await world.client.post(f"{BASE}/push", headers=h, json=body)
        assert bad.status_code == 422, bad.text
    # Another entity of the same partner queues none of these.
    other = await world.partner.create_entity("Other Ltd")
    none = await world.client.post(
        f"{BASE}/push", headers=world.partner.entity_headers(other), json={"object_type": "bill"}
    )
    assert none.status_code == 202 and none.json() == {"queued": 0}
    # The fix, then a bulk retry of one, then of the rest.
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(PayableLineItem)
            .where(PayableLineItem.id.in_([uuid.UUID(line) for _, line in payables]))
            .values(ledger_account_id=uuid.UUID(account))
        )
    one = await world.client.post(
        f"{BASE}/push", headers=h, json={"object_type": "bill", "limit": 1}
    )
    assert one.status_code == 202 and one.json() == {"queued": 1}
    rest = await world.client.post(f"{BASE}/push", headers=h, json={"object_type": "bill"})
    assert rest.status_code == 202 and rest.json() == {"queued": 1}
    for r in records:
        done = await _wait_status(world, h, r["id"], "done")
        assert [(a["number"], a["kind"], a["outcome"]) for a in done["attempts"]] == [
            (1, "validate", "error"),
            (2, "create", "done"),
        ]
    nothing = await world.client.post(f"{BASE}/push", headers=h, json={"object_type": "bill"})
    assert nothing.json() == {"queued": 0}
