"""The daily overdue job (issue 15): issued receivables past their due date become
``overdue``, which the default push rules push to the accounting system."""

from __future__ import annotations

import datetime as dt

from app.tasks import next_overdue_run
from tests.e2e.conftest import World
from tests.e2e.test_push_engine import connect_books, counterpart, product, settled

BASE = "/v1/accounting_synced_records"


async def _invoice(
    world: World, h: dict[str, str], customer: str, prod: str, rate: str, due: str
) -> str:
    r = await world.client.post(
        "/v1/receivables",
        headers=h,
        json={
            "type": "invoice",
            "currency": "GBP",
            "counterpart_id": customer,
            "line_items": [
                {
                    "product_id": prod,
                    "quantity": 1,
                    "tax_rate_value": 2000,
                    "accounting_tax_rate_id": rate,
                }
            ],
            "issue_date": "2026-01-02",
            "due_date": due,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_issued_receivables_past_due_become_overdue_and_are_pushed(world: World) -> None:
    books = await connect_books(world)
    h = books.h
    customer = await counterpart(world, h, "Late Payer Ltd")
    prod = await product(world, h, "Consulting", 10000, books.accounts[0]["id"])
    rate = books.rate_of(2000)["id"]
    today = dt.datetime.now(dt.UTC).date()
    past = (today - dt.timedelta(days=3)).isoformat()
    late = await _invoice(world, h, customer, prod, rate, past)
    due_today = await _invoice(world, h, customer, prod, rate, today.isoformat())
    draft = await _invoice(world, h, customer, prod, rate, past)
    for rid in (late, due_today):
        assert (
            await world.client.post(f"/v1/receivables/{rid}/issue", headers=h)
        ).status_code == 200
    first = await settled(world, h, "receivable", late)
    assert first["sync_status"] == "done", first

    await world.service.state.jobs.enqueue("mark_overdue_receivables")

    async def overdue() -> bool:
        r = await world.client.get(f"/v1/receivables/{late}", headers=h)
        return r.json()["status"] == "overdue"

    await world.wait_for(overdue, what="the late invoice overdue")
    statuses = {
        rid: (await world.client.get(f"/v1/receivables/{rid}", headers=h)).json()["status"]
        for rid in (due_today, draft)
    }
    assert statuses == {due_today: "issued", draft: "draft"}

    async def pushed_again() -> dict | None:
        r = await world.client.get(f"{BASE}?object_type=receivable&object_id={late}", headers=h)
        record = r.json()["data"][0]
        detail = (await world.client.get(f"{BASE}/{record['id']}", headers=h)).json()
        done = record["sync_status"] == "done" and len(detail["attempts"]) > 1
        return detail if done else None

    detail = await world.wait_for(pushed_again, what="the overdue invoice pushed")
    assert [a["kind"] for a in detail["attempts"]][-1] == "update"


def test_the_next_run_is_tomorrow_at_five_past_midnight_utc() -> None:
    at = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    assert next_overdue_run(at) == (dt.timedelta(hours=14, minutes=5)).total_seconds()
    early = dt.datetime(2026, 12, 2, 0, 1, tzinfo=dt.UTC)
    assert next_overdue_run(early) == 240.0
