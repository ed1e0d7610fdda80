"""Synced records (filters, pagination, isolation, bad input), ledger reads and sync rules."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from app.db.models import (
    AccountingConnection,
    AccountingTaxRate,
    Counterpart,
    LedgerAccount,
    SyncedRecord,
)


async def _seed(sessionmaker, entity_id: str, n: int = 7) -> tuple[uuid.UUID, list[SyncedRecord]]:
    """A connected connection with ``n`` customer records (alternating done/error) an hour
    apart, two ledger accounts and a tax rate."""
    eid = uuid.UUID(entity_id)
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    async with sessionmaker() as session, session.begin():
        conn = AccountingConnection(
            entity_id=eid,
            platform="xero",
            status="connected",
            provider_company_id=str(uuid.uuid4()),
            provider_connection_id=str(uuid.uuid4()),
            connection_url="http://link",
        )
        session.add(conn)
        await session.flush()
        session.add_all(
            [
                LedgerAccount(
                    connection_id=conn.id, provider_id="acc-2", name="Sales", status="Active"
                ),
                LedgerAccount(
                    connection_id=conn.id,
                    provider_id="acc-1",
                    name="Office supplies",
                    status="Active",
                ),
                AccountingTaxRate(
                    connection_id=conn.id,
                    provider_id="TAX20",
                    name="VAT 20%",
                    effective_tax_rate=2000,
                ),
            ]
        )
        records = []
        for i in range(n):
            cp = Counterpart(
                entity_id=eid, type="organization", name=f"Customer {i}", is_customer=True
            )
            session.add(cp)
            await session.flush()
            r = SyncedRecord(
                entity_id=eid,
                connection_id=conn.id,
                object_type="customer",
                object_id=cp.id,
                provider_object_id=f"c{i}",
                sync_status="done" if i % 2 == 0 else "error",
                errors=None if i % 2 == 0 else {"message": "ambiguous", "details": []},
                created_at=base + dt.timedelta(hours=i),
                updated_at=base + dt.timedelta(hours=i),
                attempts=0,
            )
            session.add(r)
            records.append(r)
        await session.flush()
        return conn.id, records


async def test_synced_records_filters_and_pagination(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    _, records = await _seed(sessionmaker, entity)
    url = "/v1/accounting_synced_records?object_type=customer"
    everything = (await partner.client.get(url, headers=h)).json()["data"]
    assert [r["provider_object_id"] for r in everything] == [f"c{i}" for i in range(7)]
    assert all("last_pulled_at" in r for r in everything)
    errors = (await partner.client.get(url + "&sync_status=error", headers=h)).json()["data"]
    assert [r["provider_object_id"] for r in errors] == ["c1", "c3", "c5"]
    assert errors[0]["errors"] == {"message": "ambiguous", "details": []}
    one = (await partner.client.get(url + f"&object_id={records[2].object_id}", headers=h)).json()[
        "data"
    ]
    assert [r["provider_object_id"] for r in one] == ["c2"]
    ids = f"&object_id__in={records[1].object_id}&object_id__in={records[4].object_id}"
    several = (await partner.client.get(url + ids, headers=h)).json()["data"]
    assert sorted(r["provider_object_id"] for r in several) == ["c1", "c4"]
    window = "&created_at__gte=2026-11-01T02:00:00Z&created_at__lt=2026-11-01T05:00:00Z"
    ranged = (await partner.client.get(url + window, headers=h)).json()["data"]
    assert [r["provider_object_id"] for r in ranged] == ["c2", "c3", "c4"]
    newest = (
        await partner.client.get(url + "&order=desc&sort=updated_at&limit=2", headers=h)
    ).json()
    assert [r["provider_object_id"] for r in newest["data"]] == ["c6", "c5"]
    # walk forward with limit 3, then back
    page1 = (await partner.client.get(url + "&limit=3&sync_status=done", headers=h)).json()
    assert [r["provider_object_id"] for r in page1["data"]] == ["c0", "c2", "c4"]
    page2 = (
        await partner.client.get(
            f"/v1/accounting_synced_records?object_type=customer&limit=3&pagination_token={page1['next_pagination_token']}",
            headers=h,
        )
    ).json()
    assert [r["provider_object_id"] for r in page2["data"]] == ["c6"]
    assert page2["next_pagination_token"] is None
    back = (
        await partner.client.get(
            f"/v1/accounting_synced_records?object_type=customer&limit=3&pagination_token={page2['prev_pagination_token']}",
            headers=h,
        )
    ).json()
    assert [r["provider_object_id"] for r in back["data"]] == ["c0", "c2", "c4"]


async def test_synced_records_bad_input_and_isolation(partner, other_partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    sibling = await partner.create_entity("Sibling Ltd")
    h = partner.entity_headers(entity)
    _, records = await _seed(sessionmaker, entity, n=3)
    base = "/v1/accounting_synced_records"
    for query, field in [
        ("", "object_type"),
        ("?object_type=invoice", "object_type"),
        ("?object_type=customer&limit=0", "limit"),
        ("?object_type=customer&limit=251", "limit"),
        ("?object_type=customer&created_at__gt=yesterday", "created_at__gt"),
        ("?object_type=customer&object_id=nope", "object_id"),
        ("?object_type=customer&pagination_token=garbage", "pagination_token"),
    ]:
        response = await partner.client.get(base + query, headers=h)
        assert response.status_code == 422, (query, response.text)
        assert field in [p for d in response.json()["detail"] for p in d["loc"]], response.json()
    token = (await partner.client.get(base + "?object_type=customer&limit=1", headers=h)).json()[
        "next_pagination_token"
    ]
    h2 = partner.entity_headers(sibling)
    assert (
        await partner.client.get(
            base + f"?object_type=customer&pagination_token={token}", headers=h2
        )
    ).status_code == 422
    assert (await partner.client.get(f"{base}/{records[0].id}", headers=h2)).status_code == 404
    assert (await partner.client.get(base + "?object_type=customer", headers=h2)).json()[
        "data"
    ] == []
    h3 = other_partner.entity_headers(entity)
    assert (
        await other_partner.client.get(f"{base}/{records[0].id}", headers=h3)
    ).status_code == 404
    detail = (await partner.client.get(f"{base}/{records[1].id}", headers=h)).json()
    assert detail["attempts"] == [] and detail["sync_status"] == "error"


async def test_resolving_an_ambiguous_match(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    conn_id, _ = await _seed(sessionmaker, entity, n=1)
    async with sessionmaker() as session, session.begin():
        ambiguous = SyncedRecord(
            entity_id=uuid.UUID(entity),
            connection_id=conn_id,
            object_type="customer",
            provider_object_id="cx",
            sync_status="error",
            attempts=0,
            errors={"message": "The customer 'cx' matches several", "details": []},
        )
        vendor_only = Counterpart(
            entity_id=uuid.UUID(entity), type="organization", name="V", is_vendor=True
        )
        customer = Counterpart(
            entity_id=uuid.UUID(entity), type="organization", name="C", is_customer=True
        )
        session.add_all([ambiguous, vendor_only, customer])
    url = f"/v1/accounting_synced_records/{ambiguous.id}"
    wrong_role = await partner.client.patch(url, headers=h, json={"object_id": str(vendor_only.id)})
    assert wrong_role.status_code == 422 and "not a customer" in wrong_role.text
    other_entity = await partner.create_entity("Other")
    ok = await partner.client.patch(url, headers=h, json={"object_id": str(customer.id)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["sync_status"] == "done" and ok.json()["object_id"] == str(customer.id)
    assert (
        await partner.client.patch(url, headers=h, json={"object_id": str(customer.id)})
    ).status_code == 409
    assert (
        await partner.client.patch(
            url, headers=partner.entity_headers(other_entity), json={"object_id": str(customer.id)}
        )
    ).status_code == 404


async def test_ledger_accounts_and_tax_rates(partner, other_partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    # An entity never connected has no chart of accounts yet: an empty list, not an error.
    no_conn = await partner.client.get("/v1/ledger_accounts", headers=h)
    assert no_conn.status_code == 200 and no_conn.json()["data"] == []
    await _seed(sessionmaker, entity, n=0)
    accounts = (await partner.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    assert [a["name"] for a in accounts] == ["Office supplies", "Sales"]  # by name
    one = await partner.client.get(f"/v1/ledger_accounts/{accounts[0]['id']}", headers=h)
    assert one.json()["name"] == "Office supplies"
    rates = (await partner.client.get("/v1/accounting_tax_rates", headers=h)).json()["data"]
    assert rates[0]["effective_tax_rate"] == 2000
    other = await partner.create_entity("Other")
    assert (
        await partner.client.get(
            f"/v1/ledger_accounts/{accounts[0]['id']}", headers=partner.entity_headers(other)
        )
    ).status_code == 404
    assert (
        await partner.client.get(
            f"/v1/accounting_tax_rates/{rates[0]['id']}", headers=partner.entity_headers(other)
        )
    ).status_code == 404


async def test_sync_rules_defaults_update_and_validation(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    current = (await partner.client.get("/v1/accounting_sync_rules", headers=h)).json()
    assert current["push_statuses"]["payable"] == ["waiting_to_be_paid", "paid", "partially_paid"]
    assert current["push_statuses"]["receivable"] == [
        "issued",
        "paid",
        "partially_paid",
        "overdue",
        "canceled",
        "uncollectible",
    ]
    updated = await partner.client.patch(
        "/v1/accounting_sync_rules", headers=h, json={"push_statuses": {"payable": ["paid"]}}
    )
    assert updated.status_code == 200
    assert updated.json()["push_statuses"]["payable"] == ["paid"]
    assert updated.json()["push_statuses"]["receivable"] == current["push_statuses"]["receivable"]
    bad = await partner.client.patch(
        "/v1/accounting_sync_rules",
        headers=h,
        json={"push_statuses": {"payable": ["paid", "draft"], "receivable": ["issued", "issued"]}},
    )
    assert bad.status_code == 422
    messages = " ".join(d["msg"] for d in bad.json()["detail"])
    assert "draft" in messages and "issued" in messages
    locs = [d["loc"] for d in bad.json()["detail"]]
    assert ["body", "push_statuses", "payable", 1] in locs
    after = (await partner.client.get("/v1/accounting_sync_rules", headers=h)).json()
    assert after["push_statuses"]["payable"] == ["paid"]  # the bad request changed nothing
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SyncedRecord)) == 0
