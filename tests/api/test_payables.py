"""Payables: create/edit with line items and totals, the Monite lifecycle, bad input and
tenant isolation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app.db.models import (
    AccountingConnection,
    AccountingTaxRate,
    LedgerAccount,
    Payable,
    PayableLineItem,
)
from app.sync import hooks

MISSING = "00000000-0000-4000-8000-000000000000"


async def pulled_ledger(sessionmaker, entity_id: str) -> tuple[str, str]:
    """Insert a connection with one ledger account and one 20% tax rate, as a pull would.

    Core inserts naming only the columns this test needs, so the helper does not depend on
    the connection's other (nullable) columns."""
    conn_id, account_id, rate_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
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
            insert(LedgerAccount).values(
                id=account_id, connection_id=conn_id, provider_id="400", name="Purchases"
            )
        )
        await session.execute(
            insert(AccountingTaxRate).values(
                id=rate_id,
                connection_id=conn_id,
                provider_id="VAT20",
                name="VAT 20%",
                effective_tax_rate=2000,
            )
        )
    return str(account_id), str(rate_id)


async def make_counterpart(ctx, entity_id: str, name: str = "Paper Co") -> str:
    response = await ctx.client.post(
        "/v1/counterparts",
        headers=ctx.entity_headers(entity_id),
        json={"type": "organization", "organization": {"legal_name": name, "is_vendor": True}},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def counts(sessionmaker) -> tuple[int, int]:
    async with sessionmaker() as session:
        payables = await session.scalar(select(func.count()).select_from(Payable))
        lines = await session.scalar(select(func.count()).select_from(PayableLineItem))
        return payables, lines


def locs(response) -> list[Any]:
    return [part for item in response.json()["detail"] for part in item["loc"]]


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

    async def delete(self, path: str):
        return await self.client.delete(path, headers=self.headers)


@pytest.fixture
async def env(partner, sessionmaker) -> dict[str, Any]:
    entity_id = await partner.create_entity()
    account_id, rate_id = await pulled_ledger(sessionmaker, entity_id)
    return {
        "api": Api(partner, entity_id),
        "entity_id": entity_id,
        "counterpart_id": await make_counterpart(partner, entity_id),
        "account_id": account_id,
        "rate_id": rate_id,
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


LINES = [
    {"name": "Paper", "quantity": 3, "unit_price": 1999, "tax": 2000},
    {"name": "Pens", "quantity": 0.5, "unit_price": 333, "tax": 1250},
]


async def test_create_with_lines_computes_totals(env) -> None:
    api = env["api"]
    lines = [
        {
            **LINES[0],
            "ledger_account_id": env["account_id"],
            "accounting_tax_rate_id": env["rate_id"],
        },
        LINES[1],
    ]
    response = await api.post(
        "/v1/payables",
        {
            "currency": "EUR",
            "counterpart_id": env["counterpart_id"],
            "document_id": "INV-1",
            "description": "Office supplies",
            "issued_at": "2026-11-01",
            "due_date": "2026-11-30",
            "line_items": lines,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    # 3 x 19.99 = 59.97 (+20% = 11.994 -> 11.99); 0.5 x 3.33 = 1.665 -> 1.67 (+12.5% = 0.20875
    # -> 0.21): ROUND_HALF_UP on each line.
    assert body["status"] == "draft"
    assert (body["subtotal"], body["tax_amount"], body["total_amount"]) == (6164, 1220, 7384)
    assert (body["amount_paid"], body["amount_due"]) == (0, 7384)
    assert [(li["subtotal"], li["tax_amount"], li["total"]) for li in body["line_items"]] == [
        (5997, 1199, 7196),
        (167, 21, 188),
    ]
    first = body["line_items"][0]
    assert first["ledger_account_id"] == env["account_id"]
    assert first["accounting_tax_rate_id"] == env["rate_id"]
    assert first["payable_id"] == body["id"]
    assert body["issued_at"] == "2026-11-01" and body["document_id"] == "INV-1"
    fetched = await api.get(f"/v1/payables/{body['id']}")
    assert fetched.status_code == 200 and fetched.json() == body
    listed = await api.get(f"/v1/payables/{body['id']}/line_items")
    assert listed.json()["data"] == body["line_items"]


async def test_line_item_changes_recompute_totals(env) -> None:
    api = env["api"]
    pid = (await api.post("/v1/payables", {"currency": "GBP"})).json()["id"]
    added = await api.post(f"/v1/payables/{pid}/line_items", LINES[0])
    assert added.status_code == 201, added.text
    line_id = added.json()["id"]
    assert (await api.get(f"/v1/payables/{pid}")).json()["total_amount"] == 7196
    second = await api.post(f"/v1/payables/{pid}/line_items", LINES[1])
    assert (await api.get(f"/v1/payables/{pid}")).json()["total_amount"] == 7384

    patched = await api.patch(
        f"/v1/payables/{pid}/line_items/{line_id}",
        {"quantity": 1, "tax": 0, "ledger_account_id": env["account_id"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Paper" and patched.json()["total"] == 1999
    assert patched.json()["ledger_account_id"] == env["account_id"]
    payable = (await api.get(f"/v1/payables/{pid}")).json()
    assert (payable["subtotal"], payable["tax_amount"], payable["total_amount"]) == (
        2166,
        21,
        2187,
    )
    assert payable["amount_due"] == 2187

    deleted = await api.delete(f"/v1/payables/{pid}/line_items/{second.json()['id']}")
    assert deleted.status_code == 204
    payable = (await api.get(f"/v1/payables/{pid}")).json()
    assert [li["id"] for li in payable["line_items"]] == [line_id]
    assert payable["total_amount"] == 1999
    gone = await api.patch(f"/v1/payables/{pid}/line_items/{second.json()['id']}", {"tax": 1})
    assert gone.status_code == 404


async def test_create_bad_input_is_422_on_the_field_and_writes_nothing(
    env, partner, sessionmaker
) -> None:
    api = env["api"]
    other_entity = await partner.create_entity("Other Ltd")
    foreign_cp = await make_counterpart(partner, other_entity, "Foreign")
    foreign_account, foreign_rate = await pulled_ledger(sessionmaker, other_entity)
    line = LINES[0]
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "currency"),
        ({"currency": "EUR", "colour": "red"}, "colour"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"currency": 978}, "currency"),
        ({"currency": "EUR", "counterpart_id": "not-a-uuid"}, "counterpart_id"),
        ({"currency": "EUR", "counterpart_id": foreign_cp}, "counterpart_id"),
        ({"currency": "EUR", "counterpart_id": MISSING}, "counterpart_id"),
        ({"currency": "EUR", "issued_at": "2026-13-01"}, "issued_at"),
        ({"currency": "EUR", "issued_at": "2026-11-02", "due_date": "2026-11-01"}, "due_date"),
        ({"currency": "EUR", "line_items": [{**line, "quantity": -1}]}, "quantity"),
        ({"currency": "EUR", "line_items": [{**line, "quantity": "two"}]}, "quantity"),
        ({"currency": "EUR", "line_items": [{**line, "unit_price": -5}]}, "unit_price"),
        ({"currency": "EUR", "line_items": [{**line, "unit_price": 1.5}]}, "unit_price"),
        ({"currency": "EUR", "line_items": [{**line, "tax": 100_001}]}, "tax"),
        ({"currency": "EUR", "line_items": [{"quantity": 1, "unit_price": 1}]}, "name"),
        ({"currency": "EUR", "line_items": [{**line, "sku": "X"}]}, "sku"),
        (
            {
                "currency": "EUR",
                "line_items": [line, {**line, "ledger_account_id": foreign_account}],
            },
            "ledger_account_id",
        ),
        (
            {"currency": "EUR", "line_items": [{**line, "accounting_tax_rate_id": foreign_rate}]},
            "accounting_tax_rate_id",
        ),
    ]
    for body, field in cases:
        response = await api.post("/v1/payables", body)
        assert response.status_code == 422, (body, response.text)
        assert field in locs(response), (body, response.json())
    response = await api.post(
        "/v1/payables",
        {"currency": "EUR", "line_items": [line, {**line, "ledger_account_id": foreign_account}]},
    )
    assert locs(response) == ["body", "line_items", 1, "ledger_account_id"]
    assert await counts(sessionmaker) == (0, 0)


async def test_line_item_bad_input_changes_nothing(env, partner, sessionmaker) -> None:
    api = env["api"]
    other_entity = await partner.create_entity("Other Ltd")
    foreign_account, foreign_rate = await pulled_ledger(sessionmaker, other_entity)
    created = await api.post("/v1/payables", {"currency": "EUR", "line_items": [LINES[0]]})
    pid, line_id = created.json()["id"], created.json()["line_items"][0]["id"]
    bad_adds = [
        ({**LINES[1], "quantity": -0.5}, "quantity"),
        ({**LINES[1], "ledger_account_id": foreign_account}, "ledger_account_id"),
        ({**LINES[1], "accounting_tax_rate_id": MISSING}, "accounting_tax_rate_id"),
        ({"name": "x", "quantity": 1}, "unit_price"),
    ]
    for body, field in bad_adds:
        response = await api.post(f"/v1/payables/{pid}/line_items", body)
        assert response.status_code == 422, (body, response.text)
        assert field in locs(response)
    bad_patches = [
        ({"unit_price": -1}, "unit_price"),
        ({"tax": "high"}, "tax"),
        ({"accounting_tax_rate_id": foreign_rate}, "accounting_tax_rate_id"),
        ({"price": 3}, "price"),
    ]
    for body, field in bad_patches:
        response = await api.patch(f"/v1/payables/{pid}/line_items/{line_id}", body)
        assert response.status_code == 422, (body, response.text)
        assert field in locs(response)
    assert await counts(sessionmaker) == (1, 1)
    assert (await api.get(f"/v1/payables/{pid}")).json() == created.json()
    unknown_line = await api.delete(f"/v1/payables/{pid}/line_items/{MISSING}")
    assert unknown_line.status_code == 404


async def test_patch_changes_a_draft(env, partner) -> None:
    api = env["api"]
    pid = (await api.post("/v1/payables", {"currency": "EUR"})).json()["id"]
    response = await api.patch(
        f"/v1/payables/{pid}",
        {"counterpart_id": env["counterpart_id"], "description": "Rent", "due_date": "2026-12-01"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counterpart_id"] == env["counterpart_id"]
    assert (body["description"], body["due_date"], body["currency"]) == (
        "Rent",
        "2026-12-01",
        "EUR",
    )
    foreign_cp = await make_counterpart(partner, await partner.create_entity("Other"), "F")
    for patch, field in [
        ({"counterpart_id": foreign_cp}, "counterpart_id"),
        ({"currency": "ABC"}, "currency"),
        ({"status": "paid"}, "status"),
        ({"due_date": 5}, "due_date"),
    ]:
        bad = await api.patch(f"/v1/payables/{pid}", patch)
        assert bad.status_code == 422, (patch, bad.text)
        assert field in locs(bad)
    assert (await api.get(f"/v1/payables/{pid}")).json() == body


async def test_lifecycle_happy_path_and_conflicts(env, status_calls) -> None:
    api = env["api"]
    pid = (await api.post("/v1/payables", {"currency": "EUR"})).json()["id"]

    early = await api.post(f"/v1/payables/{pid}/submit_for_approval")
    assert early.status_code == 422
    assert {"counterpart_id", "line_items"} <= set(locs(early))
    await api.patch(f"/v1/payables/{pid}", {"counterpart_id": env["counterpart_id"]})
    assert "line_items" in locs(await api.post(f"/v1/payables/{pid}/submit_for_approval"))
    coded = {**LINES[0], "ledger_account_id": env["account_id"]}
    await api.post(f"/v1/payables/{pid}/line_items", coded)  # total 7196
    wrong = await api.post(f"/v1/payables/{pid}/approve_payment_operation")
    assert wrong.status_code == 409
    message = wrong.json()["error"]["message"]
    assert "approve_payment_operation" in message and "draft" in message
    assert "waiting_to_be_paid" in message
    assert status_calls == []

    submitted = await api.post(f"/v1/payables/{pid}/submit_for_approval")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "approve_in_progress"
    frozen = await api.patch(f"/v1/payables/{pid}", {"description": "late"})
    assert frozen.status_code == 409 and "approve_in_progress" in frozen.text
    assert (await api.post(f"/v1/payables/{pid}/line_items", LINES[1])).status_code == 409
    line_id = submitted.json()["line_items"][0]["id"]
    line_url = f"/v1/payables/{pid}/line_items/{line_id}"
    assert (await api.patch(line_url, {"quantity": 9})).status_code == 409
    assert (await api.delete(line_url)).status_code == 409

    assert (await api.post(f"/v1/payables/{pid}/reject")).json()["status"] == "rejected"
    assert (await api.post(f"/v1/payables/{pid}/reopen")).json()["status"] == "new"
    assert (await api.patch(f"/v1/payables/{pid}", {"description": "fixed"})).status_code == 200
    await api.post(f"/v1/payables/{pid}/submit_for_approval")
    approved = await api.post(f"/v1/payables/{pid}/approve_payment_operation")
    assert approved.json()["status"] == "waiting_to_be_paid"

    for amount in (0, -5, 7196, 9000):
        bad = await api.post(f"/v1/payables/{pid}/mark_as_partially_paid", {"amount_paid": amount})
        assert bad.status_code == 422 and "amount_paid" in locs(bad), (amount, bad.text)
    missing = await api.post(f"/v1/payables/{pid}/mark_as_partially_paid", {})
    assert missing.status_code == 422 and "amount_paid" in locs(missing)
    part = await api.post(f"/v1/payables/{pid}/mark_as_partially_paid", {"amount_paid": 1000})
    assert part.status_code == 200
    assert (part.json()["status"], part.json()["amount_paid"], part.json()["amount_due"]) == (
        "partially_paid",
        1000,
        6196,
    )
    more = await api.post(f"/v1/payables/{pid}/mark_as_partially_paid", {"amount_paid": 6000})
    assert (more.json()["amount_paid"], more.json()["amount_due"]) == (7000, 196)
    over = await api.post(f"/v1/payables/{pid}/mark_as_partially_paid", {"amount_paid": 196})
    assert over.status_code == 422
    assert (await api.get(f"/v1/payables/{pid}")).json()["amount_paid"] == 7000
    no_cancel = await api.post(f"/v1/payables/{pid}/cancel")
    assert no_cancel.status_code == 409 and "partially_paid" in no_cancel.text
    paid = await api.post(f"/v1/payables/{pid}/mark_as_paid")
    assert (paid.json()["status"], paid.json()["amount_paid"], paid.json()["amount_due"]) == (
        "paid",
        7196,
        0,
    )
    for action in ("mark_as_paid", "reopen", "cancel", "submit_for_approval"):
        again = await api.post(f"/v1/payables/{pid}/{action}")
        assert again.status_code == 409, action
        assert action in again.text and "status paid" in again.text

    assert [(old, new) for _, _, old, new in status_calls] == [
        ("draft", "approve_in_progress"),
        ("approve_in_progress", "rejected"),
        ("rejected", "new"),
        ("new", "approve_in_progress"),
        ("approve_in_progress", "waiting_to_be_paid"),
        ("waiting_to_be_paid", "partially_paid"),
        ("partially_paid", "partially_paid"),
        ("partially_paid", "paid"),
    ]
    assert {(kind, doc) for kind, doc, _, _ in status_calls} == {("bill", pid)}


async def test_cancel_from_each_allowed_status(env, status_calls) -> None:
    api = env["api"]
    coded = {**LINES[0], "ledger_account_id": env["account_id"]}
    body = {"currency": "EUR", "counterpart_id": env["counterpart_id"], "line_items": [coded]}
    paths = {
        "draft": [],
        "approve_in_progress": ["submit_for_approval"],
        "waiting_to_be_paid": ["submit_for_approval", "approve_payment_operation"],
    }
    for status, steps in paths.items():
        pid = (await api.post("/v1/payables", body)).json()["id"]
        for step in steps:
            assert (await api.post(f"/v1/payables/{pid}/{step}")).status_code == 200
        canceled = await api.post(f"/v1/payables/{pid}/cancel")
        assert canceled.json()["status"] == "canceled"
        assert status_calls[-1][2:] == (status, "canceled")
        assert (await api.post(f"/v1/payables/{pid}/reopen")).status_code == 409


async def test_list_filters_and_paginates(env) -> None:
    api = env["api"]
    cp = env["counterpart_id"]
    full = {"currency": "EUR", "counterpart_id": cp, "line_items": [LINES[0]]}
    first = (await api.post("/v1/payables", full)).json()["id"]
    second = (await api.post("/v1/payables", full)).json()["id"]
    bare = (await api.post("/v1/payables", {"currency": "EUR"})).json()["id"]
    await api.post(f"/v1/payables/{second}/submit_for_approval")

    async def ids(query: str) -> set[str]:
        response = await api.get(f"/v1/payables?{query}")
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()["data"]}

    assert await ids("") == {first, second, bare}
    assert await ids("status=draft") == {first, bare}
    assert await ids("status__in=approve_in_progress&status__in=paid") == {second}
    assert await ids(f"counterpart_id={cp}") == {first, second}
    assert await ids(f"counterpart_id={cp}&status=draft") == {first}
    assert (await api.get("/v1/payables?status=approved")).status_code == 422
    assert (await api.get("/v1/payables?status__in=nope")).status_code == 422
    assert (await api.get("/v1/payables?counterpart_id=42")).status_code == 422

    page = (await api.get("/v1/payables?limit=1&status=draft")).json()
    seen = [p["id"] for p in page["data"]]
    while page["next_pagination_token"]:
        page = (
            await api.get(f"/v1/payables?limit=1&pagination_token={page['next_pagination_token']}")
        ).json()
        seen += [p["id"] for p in page["data"]]
    assert sorted(seen) == sorted([first, bare])
    desc = (await api.get("/v1/payables?order=desc")).json()["data"]
    asc = (await api.get("/v1/payables")).json()["data"]
    assert [p["id"] for p in desc] == [p["id"] for p in reversed(asc)]


async def test_other_tenants_get_404(env, partner, other_partner, sessionmaker) -> None:
    api = env["api"]
    created = await api.post("/v1/payables", {"currency": "EUR", "line_items": [LINES[0]]})
    pid, line_id = created.json()["id"], created.json()["line_items"][0]["id"]
    sibling = Api(partner, await partner.create_entity("Sibling Ltd"))
    stranger = Api(other_partner, await other_partner.create_entity("Stranger Ltd"))
    for outsider in (sibling, stranger):
        calls = [
            outsider.get(f"/v1/payables/{pid}"),
            outsider.patch(f"/v1/payables/{pid}", {"description": "x"}),
            outsider.get(f"/v1/payables/{pid}/line_items"),
            outsider.post(f"/v1/payables/{pid}/line_items", LINES[1]),
            outsider.patch(f"/v1/payables/{pid}/line_items/{line_id}", {"quantity": 2}),
            outsider.delete(f"/v1/payables/{pid}/line_items/{line_id}"),
            outsider.post(f"/v1/payables/{pid}/submit_for_approval"),
            outsider.post(f"/v1/payables/{pid}/cancel"),
            outsider.post(f"/v1/payables/{pid}/mark_as_partially_paid", {"amount_paid": 1}),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 404, response.text
        assert (await outsider.get("/v1/payables")).json()["data"] == []
    # Another partner cannot even name this entity.
    borrowed = Api(other_partner, env["entity_id"])
    assert (await borrowed.get(f"/v1/payables/{pid}")).status_code == 404
    assert (await borrowed.post("/v1/payables", {"currency": "EUR"})).status_code == 404
    assert await counts(sessionmaker) == (1, 1)
    assert (await api.get(f"/v1/payables/{pid}")).json() == created.json()


async def test_approval_runs_the_push_validation_and_lists_every_problem(
    env, partner, status_calls, sessionmaker
) -> None:
    """Monite: "issuance of bills without this validation is prohibited"."""
    api = env["api"]
    body = {
        "currency": "EUR",
        "counterpart_id": env["counterpart_id"],
        # no ledger account; no ledger account and a 12.5% tax the books have no rate for
        "line_items": [LINES[0], LINES[1]],
    }
    pid = (await api.post("/v1/payables", body)).json()["id"]
    assert (await api.post(f"/v1/payables/{pid}/submit_for_approval")).status_code == 200
    refused = await api.post(f"/v1/payables/{pid}/approve_payment_operation")
    assert refused.status_code == 422, refused.text
    problems = refused.json()["detail"]
    assert {tuple(p["loc"]) for p in problems} == {
        ("payable", "line_items", 0, "ledger_account_id"),
        ("payable", "line_items", 1, "ledger_account_id"),
        ("payable", "line_items", 1, "tax"),
    }
    assert all(p["msg"] for p in problems)
    assert (await api.get(f"/v1/payables/{pid}")).json()["status"] == "approve_in_progress"
    assert status_calls[-1][2:] == ("draft", "approve_in_progress")  # nothing after the refusal
    # coding the lines (allowed while approval is in progress) lets it pass, but only to a
    # rate that agrees with the line's tax: 12.5% coded to the 20% rate is refused
    lines = (await api.get(f"/v1/payables/{pid}")).json()["line_items"]
    for line in lines:
        fixed = await api.patch(
            f"/v1/payables/{pid}/line_items/{line['id']}",
            {"ledger_account_id": env["account_id"], "accounting_tax_rate_id": env["rate_id"]},
        )
        assert fixed.status_code == 200, fixed.text
    mismatch = await api.post(f"/v1/payables/{pid}/approve_payment_operation")
    assert mismatch.status_code == 422, mismatch.text
    assert [(tuple(p["loc"]), p["type"]) for p in mismatch.json()["detail"]] == [
        (("payable", "line_items", 1, "tax"), "tax_rate_mismatch")
    ]
    assert "12.5% but tax rate 'VAT 20%' is 20%" in mismatch.json()["detail"][0]["msg"]
    async with sessionmaker() as session, session.begin():  # the next pull brings a 12.5% rate
        conn_id = await session.scalar(
            select(AccountingTaxRate.connection_id).where(
                AccountingTaxRate.id == uuid.UUID(env["rate_id"])
            )
        )
        reduced = uuid.uuid4()
        await session.execute(
            insert(AccountingTaxRate).values(
                id=reduced,
                connection_id=conn_id,
                provider_id="VAT125",
                name="VAT 12.5%",
                effective_tax_rate=1250,
            )
        )
    fixed = await api.patch(
        f"/v1/payables/{pid}/line_items/{lines[1]['id']}", {"accounting_tax_rate_id": str(reduced)}
    )
    assert fixed.status_code == 200, fixed.text
    approved = await api.post(f"/v1/payables/{pid}/approve_payment_operation")
    assert approved.status_code == 200 and approved.json()["status"] == "waiting_to_be_paid"

    # an entity without an accounting connection has nothing to check against
    other_entity = await partner.create_entity("Unconnected Ltd")
    other = Api(partner, other_entity)
    cp = await make_counterpart(partner, other_entity)
    pid = (
        await other.post(
            "/v1/payables", {"currency": "EUR", "counterpart_id": cp, "line_items": [LINES[1]]}
        )
    ).json()["id"]
    await other.post(f"/v1/payables/{pid}/submit_for_approval")
    assert (await other.post(f"/v1/payables/{pid}/approve_payment_operation")).status_code == 200
