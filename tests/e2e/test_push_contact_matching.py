"""A push never duplicates a contact the customer's books plausibly already have.

The counterpart of an approved bill is matched against the suppliers last pulled from the
accounting system: one clear candidate is linked; the same name elsewhere, or two contacts of
that name, create nothing and leave the supplier's synced record for a person with the
candidates. The person links one (``provider_object_id``) or asks for a new contact
(``create_new``); the bill that waited is pushed then, without anyone retrying it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.sync.pull import pull
from tests.e2e.conftest import World, approved_payable, rate_of
from tests.e2e.test_push import _sandbox_record, _setup, _vendor

KEY = {"Authorization": "Basic c2FuZGJveA=="}


async def _company(world: World, h: dict[str, str]) -> tuple[str, str]:
    r = await world.client.get("/v1/accounting_connections", headers=h)
    conn = r.json()["data"][0]
    from sqlalchemy import select

    from app.db.models import AccountingConnection

    async with world.service.state.jobs.context.sessionmaker() as session:
        row = await session.scalar(
            select(AccountingConnection).where(AccountingConnection.id == conn["id"])
        )
        return conn["id"], row.provider_company_id


async def _books_suppliers(world: World, company: str, *suppliers: dict[str, Any]) -> list[str]:
    """Put suppliers into the platform company (as if keyed in there); their ids."""
    r = await world.sandbox_http.put(
        f"/_admin/companies/{company}/data/suppliers", json=list(suppliers), headers=KEY
    )
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def _all_suppliers(world: World, company: str) -> list[dict[str, Any]]:
    r = await world.sandbox_http.get(
        f"/companies/{company}/data/suppliers", params={"pageSize": 5000}, headers=KEY
    )
    assert r.status_code == 200, r.text
    return [s for s in r.json()["results"] if not (s.get("metadata") or {}).get("isDeleted")]


def _supplier(name: str, city: str, line1: str, postal: str) -> dict[str, Any]:
    return {
        "supplierName": name,
        "status": "Active",
        "addresses": [
            {"type": "Billing", "line1": line1, "city": city, "postalCode": postal, "country": "GB"}
        ],
    }


async def _pull_now(world: World, connection_id: str) -> None:
    import uuid

    for _ in range(200):
        if await pull(world.service.state.jobs.context, uuid.UUID(connection_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the pull lease never came free")


async def _approved_bill(world: World, h: dict[str, str], vendor: str, accounts, rates) -> str:
    rate = rate_of(rates, 2000)["id"]  # the line's 20%
    return await approved_payable(world.client, h, vendor, accounts[0]["id"], rate)


async def _record(
    world: World, h: dict[str, str], object_type: str, object_id: str, status: str
) -> dict[str, Any]:
    async def settled() -> dict[str, Any] | None:
        r = await world.client.get(
            "/v1/accounting_synced_records",
            headers=h,
            params={"object_type": object_type, "object_id": object_id},
        )
        data = r.json()["data"]
        return data[0] if data and data[0]["sync_status"] == status else None

    return await world.wait_for(settled, what=f"{object_type} {status}")


async def _world_with_books(world: World, *suppliers: dict[str, Any]):
    _entity, h, accounts, rates = await _setup(world)
    connection_id, company = await _company(world, h)
    ids = await _books_suppliers(world, company, *suppliers)
    await _pull_now(world, connection_id)
    return h, accounts, rates, company, ids


async def test_the_same_name_elsewhere_is_left_for_a_person_then_linked(world) -> None:
    h, accounts, rates, company, [bristol] = await _world_with_books(
        world, _supplier("Northwind Paper Ltd", "Bristol", "5 Quay Street", "BS1 4DJ")
    )
    before = len(await _all_suppliers(world, company))
    # Our books: the same company, another town and street (it moved, or it is another one).
    vendor = await _vendor(world, h, "NORTHWIND PAPER LIMITED")
    bill = await _approved_bill(world, h, vendor, accounts, rates)

    supplier_record = await _record(world, h, "vendor", vendor, "error")
    bill_record = await _record(world, h, "bill", bill, "error")
    assert len(await _all_suppliers(world, company)) == before  # nothing created
    errors = supplier_record["errors"]
    assert "may already be in the accounting system" in errors["message"]
    assert [d["provider_object_id"] for d in errors["details"]] == [bristol]
    assert errors["details"][0]["display_name"] == "Northwind Paper Ltd"
    assert errors["details"][0]["fields"][0]["level"] == "exact"
    assert supplier_record["next_attempt_at"] is None  # waits for a person, not retried
    assert bill_record["errors"]["waiting_for"] == supplier_record["id"]

    # Support links it to the contact in the books; the bill goes out without a retry.
    r = await world.client.patch(
        f"/v1/accounting_synced_records/{supplier_record['id']}",
        headers=h,
        json={"provider_object_id": bristol},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["sync_status"], r.json()["provider_object_id"]) == ("done", bristol)
    done = await _record(world, h, "bill", bill, "done")
    pushed = await _sandbox_record(world, company, "bills", done["provider_object_id"])
    assert pushed["supplierRef"]["id"] == bristol
    assert len(await _all_suppliers(world, company)) == before
    history = (
        await world.client.get(f"/v1/accounting_synced_records/{supplier_record['id']}", headers=h)
    ).json()["attempts"]
    assert [(a["kind"], a["request"]) for a in history] == [
        ("resolve", {"decided_by": "person", "linked": bristol})
    ]


async def test_two_contacts_of_that_name_create_nothing_until_a_person_decides(world) -> None:
    h, accounts, rates, company, ids = await _world_with_books(
        world,
        _supplier("Northwind Paper Ltd", "Bristol", "5 Quay Street", "BS1 4DJ"),
        _supplier("Northwind Paper Ltd", "York", "9 Stonegate", "YO1 8AS"),
    )
    before = len(await _all_suppliers(world, company))
    vendor = await _vendor(world, h, "Northwind Paper Ltd")
    bill = await _approved_bill(world, h, vendor, accounts, rates)

    supplier_record = await _record(world, h, "vendor", vendor, "error")
    await _record(world, h, "bill", bill, "error")
    assert {d["provider_object_id"] for d in supplier_record["errors"]["details"]} == set(ids)
    assert len(await _all_suppliers(world, company)) == before

    # A retry of the bill alone changes nothing: still no contact created.
    bill_record = await _record(world, h, "bill", bill, "error")
    r = await world.client.post(
        f"/v1/accounting_synced_records/{bill_record['id']}/push", headers=h
    )
    assert r.status_code == 200, r.text
    # "pending" when a background job held the supplier's lease at that moment: it runs again
    # shortly, to the same end
    assert r.json()["sync_status"] in ("error", "pending"), r.json()
    await _record(world, h, "bill", bill, "error")
    assert len(await _all_suppliers(world, company)) == before

    # Neither is ours: the person asks for a new contact; the bill follows on its own.
    r = await world.client.patch(
        f"/v1/accounting_synced_records/{supplier_record['id']}",
        headers=h,
        json={"create_new": True},
    )
    assert r.status_code == 200, r.text
    done = await _record(world, h, "bill", bill, "done")
    created = await _record(world, h, "vendor", vendor, "done")
    assert created["provider_object_id"] not in ids
    pushed = await _sandbox_record(world, company, "bills", done["provider_object_id"])
    assert pushed["supplierRef"]["id"] == created["provider_object_id"]
    assert len(await _all_suppliers(world, company)) == before + 1


async def test_one_clear_contact_is_linked_without_creating(world) -> None:
    h, accounts, rates, company, [leeds] = await _world_with_books(
        world, _supplier("Globex Supplies", "Leeds", "2 Mill Road", "LS1 1AA")
    )
    before = len(await _all_suppliers(world, company))
    vendor = await _vendor(world, h)  # "Globex Supplies Ltd", 2 Mill Rd, Leeds, LS1 1AA
    bill = await _approved_bill(world, h, vendor, accounts, rates)
    done = await _record(world, h, "bill", bill, "done")
    pushed = await _sandbox_record(world, company, "bills", done["provider_object_id"])
    assert pushed["supplierRef"]["id"] == leeds
    assert len(await _all_suppliers(world, company)) == before


async def test_a_resolution_needs_exactly_one_choice(world) -> None:
    h, accounts, rates, _company_id, [bristol] = await _world_with_books(
        world, _supplier("Northwind Paper Ltd", "Bristol", "5 Quay Street", "BS1 4DJ")
    )
    vendor = await _vendor(world, h, "Northwind Paper Ltd")
    await _approved_bill(world, h, vendor, accounts, rates)
    record = await _record(world, h, "vendor", vendor, "error")
    url = f"/v1/accounting_synced_records/{record['id']}"
    for body in (
        {},
        {"provider_object_id": bristol, "create_new": True},
        {"provider_object_id": "no-such-contact"},
        {"object_id": vendor},
    ):
        r = await world.client.patch(url, headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
    again = await world.client.get(url, headers=h)
    assert again.json()["sync_status"] == "error"  # nothing changed


async def test_a_contact_deleted_in_the_books_is_not_used_again(world) -> None:
    _entity, h, accounts, rates = await _setup(world)
    connection_id, company = await _company(world, h)
    vendor = await _vendor(world, h)  # "Globex Supplies Ltd", 2 Mill Rd, Leeds, LS1 1AA
    [leeds] = await _books_suppliers(
        world, company, _supplier("Globex Supplies", "Leeds", "2 Mill Road", "LS1 1AA")
    )
    await _pull_now(world, connection_id)
    linked = await _record(world, h, "vendor", vendor, "done")
    assert linked["provider_object_id"] == leeds

    r = await world.sandbox_http.delete(
        f"/_admin/companies/{company}/data/suppliers/{leeds}", headers=KEY
    )
    assert r.status_code == 200, r.text
    await _pull_now(world, connection_id)
    gone = await _record(world, h, "vendor", vendor, "error")
    assert gone["errors"]["code"] == "deleted_upstream"

    # The next bill does not go to the deleted contact: nothing else is plausible, so the
    # supplier is created again and the bill points at the new one.
    bill = await _approved_bill(world, h, vendor, accounts, rates)
    done = await _record(world, h, "bill", bill, "done")
    again = await _record(world, h, "vendor", vendor, "done")
    assert again["provider_object_id"] not in (None, leeds)
    pushed = await _sandbox_record(world, company, "bills", done["provider_object_id"])
    assert pushed["supplierRef"]["id"] == again["provider_object_id"]
