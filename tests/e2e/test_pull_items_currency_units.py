"""Products a pull creates from accounting items (issue 15: a pulled item keeps its own
currency; issue 14: the stub measure units a pull creates).

Codat items carry no currency: their prices are in the company's base currency (Codat company
info). A EUR entity connected to a GBP Xero company gets GBP-priced products, not EUR ones;
a GBP entity connected to a EUR Exact company gets EUR ones. Every product the pull creates is
in the entity's one stub unit (``unit``, listed at ``/v1/measure_units``), created once.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from app.db.models import AccountingConnection, MeasureUnit
from app.measure_units.service import STUB_NAME
from app.providers import CompanyInfo, ProviderUnavailable
from app.sync.pull import pull, read_base_currency

ADMIN = {"Authorization": "Basic c2FuZGJveA=="}
ITEM = {
    "id": "item-onsite",
    "name": "Onsite support (hourly)",
    "code": "OS-1",
    "type": "Service",
    "isInvoiceItem": True,
    "invoiceItem": {"unitPrice": 95.5},
}


async def _pulled_products(world, entity: str) -> list[dict[str, Any]]:
    h = world.partner.entity_headers(entity)
    records = await world.client.get(
        "/v1/accounting_synced_records",
        headers=h,
        params={"object_type": "product", "limit": 250},
    )
    ids = {r["object_id"] for r in records.json()["data"] if r["object_id"]}
    listed = await world.client.get("/v1/products", headers=h, params={"limit": 250})
    return [p for p in listed.json()["data"] if p["id"] in ids]


async def _add_item_and_pull(world, sessionmaker, conn: dict[str, Any], item: dict) -> None:
    """Put ``item`` into the connected sandbox company and pull until the pull ran."""
    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, uuid.UUID(conn["id"]))
    r = await world.sandbox_http.put(
        f"/_admin/companies/{row.provider_company_id}/data/items", headers=ADMIN, json=item
    )
    assert r.status_code == 200, r.text
    # (a pull the connection's webhooks queued may hold the lease: wait for it)
    for _ in range(200):
        if await pull(world.service.state.jobs.context, row.id):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the pull never ran")


async def _check(world, sessionmaker, entity: str, conn: dict[str, Any], currency: str) -> None:
    h = world.partner.entity_headers(entity)
    made = await _pulled_products(world, entity)
    priced = [p for p in made if p["price"] is not None]
    assert priced
    assert {p["price"]["currency"] for p in priced} == {currency}
    units = (await world.client.get("/v1/measure_units", headers=h)).json()["data"]
    assert [u["name"] for u in units] == [STUB_NAME]
    assert {p["measure_unit_id"] for p in made} == {units[0]["id"]}
    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, uuid.UUID(conn["id"]))
        assert row.base_currency == currency
        stubs = (
            await session.scalars(
                select(MeasureUnit).where(MeasureUnit.entity_id == uuid.UUID(entity))
            )
        ).all()
    assert len(stubs) == 1
    # A unit the pull's products use cannot be deleted from under them.
    refused = await world.client.delete(f"/v1/measure_units/{units[0]['id']}", headers=h)
    assert refused.status_code == 409


async def test_pulled_products_keep_the_company_currency_and_share_one_stub_unit(
    world, sessionmaker
) -> None:
    # A EUR entity on Xero's GBP example company: its items' prices stay GBP.
    eur = await world.partner.create_entity("Euro Ltd", currency="EUR")
    xero = await world.connect(eur, "xero")
    await _check(world, sessionmaker, eur, xero, "GBP")
    made = {p["name"]: p for p in await _pulled_products(world, eur)}
    # Xero's example bill line: "Desktop/network support via email & phone" at 4000.00
    assert made["Desktop/network support via email & phone"]["price"] == {
        "currency": "GBP",
        "value": 400000,
    }
    # A later pull that creates another product uses the same stub unit.
    await _add_item_and_pull(world, sessionmaker, xero, ITEM)
    await _check(world, sessionmaker, eur, xero, "GBP")

    # A GBP entity on Exact's EUR example company (it has no items: one is added).
    gbp = await world.partner.create_entity("Sterling Ltd", currency="GBP")
    exact = await world.connect(gbp, "exact_netherlands")
    await _add_item_and_pull(world, sessionmaker, exact, ITEM)
    await _check(world, sessionmaker, gbp, exact, "EUR")
    made = {p["name"]: p for p in await _pulled_products(world, gbp)}
    assert made["Onsite support (hourly)"]["price"] == {"currency": "EUR", "value": 9550}


class _Info:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)

    async def get_company_info(self, company_id: str) -> CompanyInfo:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_base_currency_read_keeps_the_last_known_when_the_provider_fails(
    world, sessionmaker
) -> None:
    entity = await world.partner.create_entity("Info Ltd", currency="EUR")
    conn = await world.connect(entity, "xero")
    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, uuid.UUID(conn["id"]))
    ctx = world.service.state.jobs.context
    provider = _Info(
        ProviderUnavailable("503 from the provider", status_code=503),
        CompanyInfo(base_currency=None),
        CompanyInfo(base_currency="CHF"),
    )
    for expected in ("GBP", "GBP", "CHF"):
        await read_base_currency(ctx, row, provider)
        assert row.base_currency == expected
        async with sessionmaker() as session:
            stored = await session.get(AccountingConnection, row.id)
            assert stored.base_currency == expected
