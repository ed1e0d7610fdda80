"""Receivables (invoices): create/edit with product lines, discounts and totals, the Monite
lifecycle, bad input and tenant isolation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app.db.models import (
    AccountingConnection,
    AccountingTaxRate,
    Receivable,
    ReceivableLineItem,
)
from app.sync import hooks

MISSING = "00000000-0000-4000-8000-000000000000"


async def pulled_tax_rate(sessionmaker, entity_id: str, rate: int = 500) -> str:
    """Insert a connection with one pulled tax rate (percent x 100), as a pull would.

    Core inserts naming only the columns this test needs, so the helper does not depend on
    the connection's other (nullable) columns."""
    conn_id, rate_id = uuid.uuid4(), uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        await session.execute(
            insert(AccountingConnection).values(
                id=conn_id,
                entity_id=uuid.UUID(entity_id),
                platform="xero",
                status="connected",
                provider_company_id=f"co-{entity_id[:8]}",
                connection_url="https://link.example/x",
            )
        )
        await session.execute(
            insert(AccountingTaxRate).values(
                id=rate_id, connection_id=conn_id, provider_id="R", effective_tax_rate=rate
            )
        )
    return str(rate_id)


class Api:
    """The partner's API as one entity."""

    def __init__(self, ctx, entity_id: str) -> None:
        self.client, self.headers = ctx.client, ctx.entity_headers(entity_id)

    async def post(self, path: str, json: Any = None):
        return await self.client.post(path, headers=self.headers, json=json)

    async def get(self, path: str):
        return await self.client.get(path, headers=self.headers)

    async def patch(self, path: str, json: Any):
        return await self.client.patch(path, headers=self.headers, json=json)

    async def counterpart(self, name: str = "Buyer plc") -> str:
        response = await self.post(
            "/v1/counterparts",
            {"type": "organization", "organization": {"legal_name": name, "is_customer": True}},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def product(self, name: str, value: int | None, currency: str = "EUR") -> str:
        body: dict[str, Any] = {"name": name}
        if value is not None:
            body["price"] = {"currency": currency, "value": value}
        response = await self.post("/v1/products", body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


async def counts(sessionmaker) -> tuple[int, int]:
    async with sessionmaker() as session:
        receivables = await session.scalar(select(func.count()).select_from(Receivable))
        lines = await session.scalar(select(func.count()).select_from(ReceivableLineItem))
        return receivables, lines


def locs(response) -> list[Any]:
    return [part for item in response.json()["detail"] for part in item["loc"]]


@pytest.fixture
async def env(partner, sessionmaker) -> dict[str, Any]:
    entity_id = await partner.create_entity()
    api = Api(partner, entity_id)
    return {
        "api": api,
        "entity_id": entity_id,
        "counterpart_id": await api.counterpart(),
        "rate_id": await pulled_tax_rate(sessionmaker, entity_id),
        "widget": await api.product("Widget", 1000),
        "bolt": await api.product("Bolt", 250),
    }


@pytest.fixture
def status_calls(monkeypatch) -> list[tuple[str, str, str, str]]:
    """Record ``document_status_changed`` calls as (type, id, old status, new status)."""
    calls: list[tuple[str, str, str, str]] = []

    async def record(session, entity, object_type, document, old_status) -> None:
        # Called inside the request's transaction, for the document's own entity.
        assert session.in_transaction() and entity.id == document.entity_id
        calls.append((object_type, str(document.id), old_status, document.status))

    monkeypatch.setattr(hooks, "document_status_changed", record)
    return calls


def invoice(env: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A one-line EUR invoice worth 2 x 10.00 + 20% VAT."""
    return {
        "type": "invoice",
        "currency": "EUR",
        "counterpart_id": env["counterpart_id"],
        "line_items": [{"product_id": env["widget"], "quantity": 2, "tax_rate_value": 2000}],
        **extra,
    }


async def test_create_computes_totals_with_discounts(env) -> None:
    api = env["api"]
    response = await api.post(
        "/v1/receivables",
        {
            "type": "invoice",
            "currency": "EUR",
            "counterpart_id": env["counterpart_id"],
            "document_id": "INV-100",
            "memo": "Thanks",
            "issue_date": "2026-11-01",
            "due_date": "2026-12-01",
            "line_items": [
                {
                    "product_id": env["widget"],
                    "quantity": 2,
                    "tax_rate_value": 2000,
                    "discount": {"type": "percentage", "amount": 1000},
                },
                {
                    "product_id": env["bolt"],
                    "quantity": 3,
                    "accounting_tax_rate_id": env["rate_id"],
                    "discount": {"type": "amount", "amount": 50},
                },
            ],
            "discount": {"type": "amount", "amount": 500},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    # Lines: 2 x 10.00 - 10% = 18.00; 3 x 2.50 - 0.50 = 7.00; subtotal 25.00, less 5.00 =
    # 20.00. Each line is taxed on its share (80%): 14.40 x 20% = 2.88; 5.60 x 5% = 0.28.
    assert body["status"] == "draft" and body["type"] == "invoice"
    assert (body["subtotal"], body["discounted_subtotal"]) == (2500, 2000)
    assert (body["tax_amount"], body["total_amount"], body["amount_due"]) == (316, 2316, 2316)
    lines = body["line_items"]
    assert [(li["unit_price"], li["subtotal"], li["tax_amount"], li["total"]) for li in lines] == [
        (1000, 1800, 288, 2088),
        (250, 700, 28, 728),
    ]
    assert lines[1]["tax_rate_value"] == 500  # taken from the pulled tax rate
    assert lines[1]["accounting_tax_rate_id"] == env["rate_id"]
    assert lines[0]["discount"] == {"type": "percentage", "amount": 1000}
    assert body["discount"] == {"type": "amount", "amount": 500}
    assert (body["document_id"], body["memo"], body["due_date"]) == (
        "INV-100",
        "Thanks",
        "2026-12-01",
    )
    fetched = await api.get(f"/v1/receivables/{body['id']}")
    assert fetched.status_code == 200 and fetched.json() == body


async def test_create_bad_input_is_422_on_the_field_and_writes_nothing(
    env, partner, sessionmaker
) -> None:
    api = env["api"]
    other = Api(partner, await partner.create_entity("Other Ltd"))
    foreign_product = await other.product("Theirs", 100)
    foreign_cp = await other.counterpart("Theirs")
    foreign_rate = await pulled_tax_rate(sessionmaker, other.headers["x-monite-entity-id"])
    dollar_product = await api.product("Dollar thing", 100, "USD")
    free_product = await api.product("No price", None)
    line = {"product_id": env["widget"], "quantity": 1}

    def with_line(**change: Any) -> dict[str, Any]:
        return invoice(env, line_items=[line, {**line, **change}])

    cases: list[tuple[dict[str, Any], str]] = [
        (invoice(env, type="quote"), "type"),
        ({k: v for k, v in invoice(env).items() if k != "type"}, "type"),
        ({k: v for k, v in invoice(env).items() if k != "line_items"}, "line_items"),
        (invoice(env, counterpart_id=None), "counterpart_id"),
        (invoice(env, counterpart_id=foreign_cp), "counterpart_id"),
        (invoice(env, currency="XYZ"), "currency"),
        (invoice(env, colour="red"), "colour"),
        (invoice(env, issue_date="2026-11-02", due_date="2026-11-01"), "due_date"),
        (with_line(product_id=foreign_product), "product_id"),
        (with_line(product_id=MISSING), "product_id"),
        (with_line(product_id=dollar_product), "product_id"),
        (with_line(product_id=free_product), "product_id"),
        (with_line(quantity=-1), "quantity"),
        (with_line(quantity="many"), "quantity"),
        (with_line(unit_price=5), "unit_price"),
        (with_line(tax_rate_value=100_001), "tax_rate_value"),
        (with_line(accounting_tax_rate_id=foreign_rate), "accounting_tax_rate_id"),
        (with_line(discount={"type": "fixed", "amount": 1}), "type"),
        (with_line(discount={"type": "amount", "amount": -1}), "amount"),
        (with_line(discount={"type": "amount", "amount": 1001}), "amount"),
        (with_line(discount={"type": "percentage", "amount": 10001}), "amount"),
        (invoice(env, discount={"type": "amount", "amount": 2001}), "amount"),
    ]
    for body, field in cases:
        response = await api.post("/v1/receivables", body)
        assert response.status_code == 422, (body, response.text)
        assert field in locs(response), (body, response.json())
    exact = [
        (with_line(product_id=dollar_product), ["body", "line_items", 1, "product_id"]),
        (
            with_line(accounting_tax_rate_id=MISSING),
            ["body", "line_items", 1, "accounting_tax_rate_id"],
        ),
        (
            with_line(discount={"type": "amount", "amount": 1001}),
            ["body", "line_items", 1, "discount", "amount"],
        ),
        (invoice(env, discount={"type": "amount", "amount": 2001}), ["body", "discount", "amount"]),
    ]
    for body, loc in exact:
        response = await api.post("/v1/receivables", body)
        assert [item["loc"] for item in response.json()["detail"]] == [loc]
    assert await counts(sessionmaker) == (0, 0)
    # The same limits, just inside them, are accepted.
    ok = await api.post(
        "/v1/receivables",
        invoice(
            env,
            line_items=[{**line, "discount": {"type": "amount", "amount": 1000}}, line],
            discount={"type": "percentage", "amount": 10000},
        ),
    )
    assert ok.status_code == 201, ok.text
    assert (ok.json()["subtotal"], ok.json()["total_amount"]) == (1000, 0)


async def test_patch_replaces_lines_and_discount_while_draft(env, sessionmaker) -> None:
    api = env["api"]
    created = (await api.post("/v1/receivables", invoice(env))).json()
    rid = created["id"]
    assert created["total_amount"] == 2400
    third = await api.product("Odd", 333)
    response = await api.patch(
        f"/v1/receivables/{rid}",
        {
            "memo": "Revised",
            "line_items": [{"product_id": third, "quantity": 0.5, "tax_rate_value": 1250}],
            "discount": {"type": "percentage", "amount": 1000},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # 0.5 x 3.33 = 1.665 -> 1.67; less 10% (0.167 -> 0.17) = 1.50; tax 12.5% = 0.1875 -> 0.19.
    assert (body["subtotal"], body["discounted_subtotal"]) == (167, 150)
    assert (body["tax_amount"], body["total_amount"], body["memo"]) == (19, 169, "Revised")
    assert [li["product_id"] for li in body["line_items"]] == [third]
    assert await counts(sessionmaker) == (1, 1)

    undiscounted = await api.patch(
        f"/v1/receivables/{rid}", {"discount": {"type": "amount", "amount": 0}}
    )
    assert undiscounted.json()["discount"] is None
    assert undiscounted.json()["total_amount"] == 167 + 21

    before = (await api.get(f"/v1/receivables/{rid}")).json()
    for patch, field in [
        ({"currency": "USD"}, "currency"),  # the product has no USD price
        ({"currency": "ZZZ"}, "currency"),
        ({"discount": {"type": "amount", "amount": 168}}, "amount"),
        ({"line_items": [{"product_id": MISSING, "quantity": 1}]}, "product_id"),
        ({"type": "quote"}, "type"),
        ({"counterpart_id": MISSING}, "counterpart_id"),
    ]:
        bad = await api.patch(f"/v1/receivables/{rid}", patch)
        assert bad.status_code == 422, (patch, bad.text)
        assert field in locs(bad), (patch, bad.json())
    assert (await api.get(f"/v1/receivables/{rid}")).json() == before

    usd_bolt = await api.product("USD only", 700, "USD")
    switched = await api.patch(
        f"/v1/receivables/{rid}",
        {"currency": "USD", "line_items": [{"product_id": usd_bolt, "quantity": 2}]},
    )
    assert switched.status_code == 200, switched.text
    assert (switched.json()["currency"], switched.json()["total_amount"]) == ("USD", 1400)


async def test_lifecycle_and_conflicts(env, status_calls) -> None:
    api = env["api"]
    empty = (await api.post("/v1/receivables", invoice(env, line_items=[]))).json()
    refused = await api.post(f"/v1/receivables/{empty['id']}/issue")
    assert refused.status_code == 422 and "line_items" in locs(refused)
    assert (await api.get(f"/v1/receivables/{empty['id']}")).json()["status"] == "draft"

    rid = (await api.post("/v1/receivables", invoice(env))).json()["id"]  # total 2400
    for action in ("cancel", "mark_as_paid", "mark_as_uncollectible"):
        early = await api.post(f"/v1/receivables/{rid}/{action}")
        assert early.status_code == 409, action
        assert action in early.text and "status draft" in early.text
    early_part = await api.post(f"/v1/receivables/{rid}/mark_as_partially_paid", {"amount_paid": 1})
    assert early_part.status_code == 409
    assert status_calls == []

    issued = await api.post(f"/v1/receivables/{rid}/issue")
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "issued"
    assert issued.json()["issue_date"] == dt.datetime.now(dt.UTC).date().isoformat()
    frozen = await api.patch(f"/v1/receivables/{rid}", {"memo": "late"})
    assert frozen.status_code == 409 and "issued" in frozen.text
    again = await api.post(f"/v1/receivables/{rid}/issue")
    assert again.status_code == 409 and "issue" in again.text and "status issued" in again.text

    for amount in (0, -1, 2400, 5000):
        bad = await api.post(
            f"/v1/receivables/{rid}/mark_as_partially_paid", {"amount_paid": amount}
        )
        assert bad.status_code == 422 and "amount_paid" in locs(bad), (amount, bad.text)
    extra = await api.post(
        f"/v1/receivables/{rid}/mark_as_partially_paid", {"amount_paid": 1, "note": "x"}
    )
    assert extra.status_code == 422 and "note" in locs(extra)
    part = await api.post(f"/v1/receivables/{rid}/mark_as_partially_paid", {"amount_paid": 400})
    assert (part.json()["status"], part.json()["amount_paid"], part.json()["amount_due"]) == (
        "partially_paid",
        400,
        2000,
    )
    more = await api.post(f"/v1/receivables/{rid}/mark_as_partially_paid", {"amount_paid": 1999})
    assert (more.json()["amount_paid"], more.json()["amount_due"]) == (2399, 1)
    assert (await api.post(f"/v1/receivables/{rid}/cancel")).status_code == 409
    paid = await api.post(f"/v1/receivables/{rid}/mark_as_paid")
    assert (paid.json()["status"], paid.json()["amount_paid"], paid.json()["amount_due"]) == (
        "paid",
        2400,
        0,
    )
    late = await api.post(f"/v1/receivables/{rid}/mark_as_uncollectible")
    assert late.status_code == 409 and "status paid" in late.text

    second = (await api.post("/v1/receivables", invoice(env))).json()["id"]
    await api.post(f"/v1/receivables/{second}/issue")
    canceled = await api.post(f"/v1/receivables/{second}/cancel")
    assert canceled.json()["status"] == "canceled"
    third = (await api.post("/v1/receivables", invoice(env))).json()["id"]
    await api.post(f"/v1/receivables/{third}/issue")
    await api.post(f"/v1/receivables/{third}/mark_as_partially_paid", {"amount_paid": 100})
    lost = await api.post(f"/v1/receivables/{third}/mark_as_uncollectible")
    assert (lost.json()["status"], lost.json()["amount_due"]) == ("uncollectible", 2300)

    assert status_calls == [
        ("receivable", rid, "draft", "issued"),
        ("receivable", rid, "issued", "partially_paid"),
        ("receivable", rid, "partially_paid", "partially_paid"),
        ("receivable", rid, "partially_paid", "paid"),
        ("receivable", second, "draft", "issued"),
        ("receivable", second, "issued", "canceled"),
        ("receivable", third, "draft", "issued"),
        ("receivable", third, "issued", "partially_paid"),
        ("receivable", third, "partially_paid", "uncollectible"),
    ]


async def test_list_filters_and_paginates(env) -> None:
    api = env["api"]
    other_cp = await api.counterpart("Second buyer")
    first = (await api.post("/v1/receivables", invoice(env))).json()["id"]
    second = (await api.post("/v1/receivables", invoice(env))).json()["id"]
    third = (await api.post("/v1/receivables", invoice(env, counterpart_id=other_cp))).json()["id"]
    await api.post(f"/v1/receivables/{second}/issue")

    async def ids(query: str) -> set[str]:
        response = await api.get(f"/v1/receivables?{query}")
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["data"]}

    assert await ids("") == {first, second, third}
    assert await ids("status=draft") == {first, third}
    assert await ids("status__in=issued&status__in=paid") == {second}
    assert await ids(f"counterpart_id={other_cp}") == {third}
    assert await ids(f"counterpart_id={env['counterpart_id']}&status=draft") == {first}
    assert (await api.get("/v1/receivables?status=sent")).status_code == 422

    page = (await api.get("/v1/receivables?limit=1&status=draft")).json()
    seen = [r["id"] for r in page["data"]]
    while page["next_pagination_token"]:
        token = page["next_pagination_token"]
        page = (await api.get(f"/v1/receivables?limit=1&pagination_token={token}")).json()
        seen += [r["id"] for r in page["data"]]
    assert sorted(seen) == sorted([first, third])


async def test_other_tenants_get_404(env, partner, other_partner, sessionmaker) -> None:
    api = env["api"]
    created = (await api.post("/v1/receivables", invoice(env))).json()
    rid = created["id"]
    sibling = Api(partner, await partner.create_entity("Sibling Ltd"))
    stranger = Api(other_partner, await other_partner.create_entity("Stranger Ltd"))
    for outsider in (sibling, stranger):
        calls = [
            outsider.get(f"/v1/receivables/{rid}"),
            outsider.patch(f"/v1/receivables/{rid}", {"memo": "x"}),
            outsider.post(f"/v1/receivables/{rid}/issue"),
            outsider.post(f"/v1/receivables/{rid}/mark_as_paid"),
            outsider.post(f"/v1/receivables/{rid}/mark_as_partially_paid", {"amount_paid": 1}),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 404, response.text
        assert (await outsider.get("/v1/receivables")).json()["data"] == []
        # Our product and counterpart do not exist for the outsider either.
        stolen = await outsider.post(
            "/v1/receivables",
            {**invoice(env), "counterpart_id": await outsider.counterpart()},
        )
        assert stolen.status_code == 422
        assert ["body", "line_items", 0, "product_id"] in [
            i["loc"] for i in stolen.json()["detail"]
        ]
    borrowed = Api(other_partner, env["entity_id"])
    assert (await borrowed.get(f"/v1/receivables/{rid}")).status_code == 404
    assert await counts(sessionmaker) == (1, 1)
    assert (await api.get(f"/v1/receivables/{rid}")).json() == created
