"""Matching in the pull, against every example platform company and against contacts the way
real books differ from the platform (legal form, case, a moved city, duplicate names).

Monite: customers match counterparts with ``is_customer``, suppliers those with ``is_vendor``;
a match writes a ``customer`` / ``vendor`` synced record with the provider's and platform's
ids; several candidates give a synced record in ``error`` with the candidates and their scores;
no match creates nothing. Items match products by name; an unmatched item creates a product
priced in the accounting company's base currency (with the item's ledger account when it
carries one that was pulled, in the pull's stub measure unit);
several matching products give an ``error`` record and link nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import AccountingConnection, LedgerAccount
from app.sync.pull import pull
from matching import country_code
from sandbox.examples import load_examples

FIXTURES = Path(__file__).parents[1] / "fixtures" / "codat"
FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
NAME_KEY = {"customers": "customerName", "suppliers": "supplierName"}
LEGAL_FORMS = {"ltd", "limited", "llc", "inc", "plc", "gmbh", "bv", "corporation"}
ADMIN = {"Authorization": "Basic c2FuZGJveA=="}


def fixture(folder: str, data_type: str) -> list[dict[str, Any]]:
    path = FIXTURES / folder / f"{data_type}.json"
    return json.loads(path.read_text())["results"] if path.exists() else []


def deleted(record: dict[str, Any]) -> bool:
    return bool((record.get("metadata") or {}).get("isDeleted"))


def as_in_our_books(name: str) -> str:
    """How a partner's own books often spell the same company: upper case, with the legal form
    dropped where the platform has one and added where it has none."""
    words = name.split()
    if words and re.sub(r"\W", "", words[-1].lower()) in LEGAL_FORMS:
        return " ".join(words[:-1]).upper()
    return f"{name} Ltd".upper()


def matchable(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Contacts a person would expect to be matched: a name with 4+ letters, unique (any case)
    among the platform's contacts of that type."""
    names = [(r.get(key) or "").strip().lower() for r in records]
    return [
        r
        for r, n in zip(records, names, strict=True)
        if len(re.findall(r"[a-z]", n)) >= 4 and names.count(n) == 1
    ]


def address_of(contact: dict[str, Any]) -> dict[str, Any] | None:
    a = (contact.get("addresses") or [None])[0] or {}
    country = (country_code(a.get("country")) or "").upper()
    if not re.fullmatch(r"[A-Z]{2}", country) or not a.get("city"):
        return None
    return {
        "country": country,
        "city": a["city"],
        "line1": a.get("line1") or None,
        "postal_code": a.get("postalCode") or None,
    }


async def counterpart(world, entity: str, name: str, *, customer: bool, **address: Any) -> str:
    body: dict[str, Any] = {
        "legal_name": name,
        "is_customer": customer,
        "is_vendor": not customer,
    }
    if address:
        body["address"] = {k: v for k, v in address.items() if v is not None}
    r = await world.client.post(
        "/v1/counterparts",
        headers=world.partner.entity_headers(entity),
        json={"type": "organization", "organization": body},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def product(world, entity: str, name: str) -> str:
    r = await world.client.post(
        "/v1/products",
        headers=world.partner.entity_headers(entity),
        json={"name": name, "price": {"currency": "GBP", "value": 100}},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def synced(world, entity: str, object_type: str) -> dict[str, dict[str, Any]]:
    """Synced records of a type by provider id."""
    r = await world.client.get(
        "/v1/accounting_synced_records",
        headers=world.partner.entity_headers(entity),
        params={"object_type": object_type, "limit": 250},
    )
    assert r.status_code == 200, r.text
    return {s["provider_object_id"]: s for s in r.json()["data"]}


async def products(world, entity: str) -> dict[str, dict[str, Any]]:
    r = await world.client.get(
        "/v1/products", headers=world.partner.entity_headers(entity), params={"limit": 250}
    )
    assert r.status_code == 200, r.text
    return {p["id"]: p for p in r.json()["data"]}


@pytest.mark.parametrize("folder", FOLDERS)
async def test_pull_of_each_example_company_writes_the_expected_synced_records(
    world, sessionmaker, folder: str
) -> None:
    entity = await world.partner.create_entity(f"{folder} Ltd", currency="GBP")
    expected: dict[str, dict[str, str]] = {"customer": {}, "vendor": {}}
    for data_type, object_type in (("customers", "customer"), ("suppliers", "vendor")):
        contacts = fixture(folder, data_type)
        for c in matchable(contacts, NAME_KEY[data_type]):
            address = address_of(c) or {}
            ours = await counterpart(
                world,
                entity,
                as_in_our_books(c[NAME_KEY[data_type]]),
                customer=data_type == "customers",
                **address,
            )
            if not deleted(c):
                expected[object_type][c["id"]] = ours
    # Half the items already exist as products (in other case); the rest get created.
    items = load_examples(folder)["items"]
    existing = {i["id"]: await product(world, entity, i["name"].upper()) for i in items[::2]}

    conn = await world.connect(entity, folder.replace("-", "_"))
    platform = folder.replace("-", "_")
    for object_type, want in expected.items():
        got = await synced(world, entity, object_type)
        assert {k: v["object_id"] for k, v in got.items()} == want, object_type
        for provider_id, record in got.items():
            assert record["sync_status"] == "done" and record["errors"] is None
            assert (record["platform"], record["platform_object_id"]) == (platform, provider_id)
            assert record["provider"] == "codat"

    async with sessionmaker() as session:
        accounts = {
            a.provider_id: str(a.id)
            for a in await session.scalars(
                select(LedgerAccount).where(LedgerAccount.connection_id == conn["id"])
            )
        }
    got = await synced(world, entity, "product")
    assert set(got) == {i["id"] for i in items}
    ours = await products(world, entity)
    assert len(ours) == len(items)  # one product per item: linked or created, never two
    for item in items:
        record = got[item["id"]]
        assert record["sync_status"] == "done"
        if item["id"] in existing:
            assert record["object_id"] == existing[item["id"]]
            continue
        made = ours[record["object_id"]]
        details = item.get("invoiceItem") or item.get("billItem") or {}
        assert made["name"] == item["name"][:100].strip() or made["name"] == item["name"][:100]
        assert made["price"]["currency"] == "GBP"
        account = (details.get("accountRef") or {}).get("id")
        assert made["ledger_account_id"] == accounts.get(account)


async def test_contacts_as_real_books_differ(world, sessionmaker) -> None:
    """Sage 50 (UK): ABS Garages Ltd (Whitley Bay), A1 Design Services (Blackpool),
    Concept Stationery Supplies (Newcastle), McNally Computer Supplies (Chester le Street)."""
    entity = await world.partner.create_entity("Books Ltd", currency="GBP")
    # Legal form and case differ, the same town: matched.
    abs_garages = await counterpart(
        world, entity, "abs garages limited", customer=True, country="GB", city="WHITLEY BAY"
    )
    # The same company in our books as a vendor only: customers never match it.
    await counterpart(world, entity, "A1 Design Services", customer=False)
    # In Leeds in our books, Newcastle in the platform, nothing else to go by: maybe a move,
    # maybe another company. Not linked, nothing created: left for a person with the candidate.
    moved = await counterpart(
        world, entity, "Concept Stationery Supplies Ltd", customer=False, country="GB", city="Leeds"
    )
    # Two McNallys in our books, neither told apart by town or address: ambiguous.
    mc1 = await counterpart(world, entity, "McNally Computer Supplies", customer=False)
    mc2 = await counterpart(world, entity, "MCNALLY COMPUTER SUPPLIES LTD", customer=False)

    await world.connect(entity, "sage_50_uk")
    customers = await synced(world, entity, "customer")
    assert {k: v["object_id"] for k, v in customers.items()} == {"ABS001": abs_garages}
    vendors = await synced(world, entity, "vendor")
    con = vendors["CON001"]
    assert (con["sync_status"], con["object_id"]) == ("error", None)
    assert con["errors"]["details"][0]["object_id"] == moved
    assert "another city" in con["errors"]["reason"]
    assert moved not in {v["object_id"] for v in vendors.values()}
    mc = vendors["MCN001"]
    assert mc["sync_status"] == "error" and mc["object_id"] is None
    details = mc["errors"]["details"]
    assert {d["object_id"] for d in details} == {mc1, mc2}
    assert all(
        d["fields"][0] == {"field": "name", "level": "exact", "weight": d["fields"][0]["weight"]}
        for d in details
    )
    assert details[0]["weight"] == details[1]["weight"]
    assert "MCN001" in mc["errors"]["message"]
    # Support resolves it: the record links to the chosen counterpart.
    r = await world.client.patch(
        f"/v1/accounting_synced_records/{mc['id']}",
        headers=world.partner.entity_headers(entity),
        json={"object_id": mc2},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["sync_status"], r.json()["object_id"]) == ("done", mc2)


async def test_duplicate_contacts_in_the_platform(world) -> None:
    """QuickBooks Online Sandbox has two customers "Abercrombie International Group" (one in
    New York, one without an address): one counterpart in our books in New York is claimed
    by the one in New York; without a town in our books neither wins."""
    entity = await world.partner.create_entity("Dup Ltd", currency="GBP")
    ny = await counterpart(
        world,
        entity,
        "Abercrombie International Group Inc",
        customer=True,
        country="US",
        city="New York, NY",
        line1="123 Main St",
    )
    await world.connect(entity, "quickbooks_online_sandbox")
    customers = await synced(world, entity, "customer")
    assert customers["66"]["object_id"] == ny and customers["66"]["sync_status"] == "done"
    assert customers.get("67") is None or customers["67"]["object_id"] is None

    other = await world.partner.create_entity("Dup Two Ltd", currency="GBP")
    await counterpart(world, other, "Abercrombie International Group", customer=True)
    await world.connect(other, "quickbooks_online_sandbox")
    both = await synced(world, other, "customer")
    assert {both["66"]["sync_status"], both["67"]["sync_status"]} == {"error"}
    assert both["66"]["object_id"] is None and both["67"]["object_id"] is None


async def test_items_ambiguous_products_and_an_item_with_its_ledger_account(
    world, sessionmaker
) -> None:
    entity = await world.partner.create_entity("Items Ltd", currency="EUR")
    # Xero items: "Project management - daily rate", "Half day training - Microsoft Office",
    # "Desktop/network support via email & phone".
    pm = await product(world, entity, "project management - DAILY RATE")
    h1 = await product(world, entity, "Half day training - Microsoft Office")
    h2 = await product(world, entity, "Half-day training, Microsoft Office")
    conn = await world.connect(entity, "xero")
    got = await synced(world, entity, "product")
    assert got["aa1c5f84-4453-42fa-9c92-69d4085607c9"]["object_id"] == pm
    training = got["489558f5-27b7-4f37-ad9f-d84611c2e2ab"]
    assert training["sync_status"] == "error" and training["object_id"] is None
    assert {d["object_id"] for d in training["errors"]["details"]} == {h1, h2}
    support = got["f8fb7e00-5e5d-466c-aef0-15861f73d04f"]
    made = (await products(world, entity))[support["object_id"]]
    assert made["name"] == "Desktop/network support via email & phone"
    # Its bill line's unit price, 4000, in minor units of the Xero company's base currency
    # (GBP, from its company info), not relabelled with the entity's EUR.
    assert made["price"] == {"currency": "GBP", "value": 400000}
    assert len(await products(world, entity)) == 4  # three of ours and the created one

    # A new item whose ledger account is in the chart of accounts: created with that account.
    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, uuid.UUID(conn["id"]))
        company = row.provider_company_id
    base = f"/_admin/companies/{company}/data"
    r = await world.sandbox_http.put(
        f"{base}/accounts",
        headers=ADMIN,
        json={
            "id": "acc-200",
            "name": "Sales",
            "nominalCode": "200",
            "currency": "GBP",
            "currentBalance": 0,
            "status": "Active",
            "type": "Income",
        },
    )
    assert r.status_code == 200, r.text
    r = await world.sandbox_http.put(
        f"{base}/items",
        headers=ADMIN,
        json={
            "id": "item-new",
            "name": "Onsite support (hourly)",
            "code": "OS-1",
            "type": "Service",
            "isInvoiceItem": True,
            "invoiceItem": {"unitPrice": 95.5, "accountRef": {"id": "acc-200"}},
        },
    )
    assert r.status_code == 200, r.text
    # (a pull the connection's webhooks queued may hold the lease: wait for it)
    for _ in range(200):
        if await pull(world.service.state.jobs.context, uuid.UUID(conn["id"])):
            break
        await asyncio.sleep(0.05)
    got = await synced(world, entity, "product")
    new = (await products(world, entity))[got["item-new"]["object_id"]]
    async with sessionmaker() as session:
        account = await session.scalar(
            select(LedgerAccount).where(LedgerAccount.provider_id == "acc-200")
        )
    assert new["ledger_account_id"] == str(account.id)
    assert new["price"] == {"currency": "GBP", "value": 9550}
    assert new["measure_unit_id"] == made["measure_unit_id"] is not None  # the pull's stub
    assert new["type"] == "service"
    # The earlier decisions stand: nothing re-created, the ambiguous item still links nothing.
    assert len(await products(world, entity)) == 5
    assert got["489558f5-27b7-4f37-ad9f-d84611c2e2ab"]["object_id"] is None
