"""The seeded company generator."""

from __future__ import annotations

from sandbox import GeneratorSpec, generate_company_data

from .conftest import Sandbox, basic


def test_same_seed_same_company_other_seed_other_company() -> None:
    spec = GeneratorSpec(customers=40, suppliers=30, items=10, invoices=25, bills=20, seed=11)
    first = generate_company_data(spec)
    assert first == generate_company_data(spec)
    other = generate_company_data(
        GeneratorSpec(customers=40, suppliers=30, items=10, invoices=25, bills=20, seed=12)
    )
    assert [c["customerName"] for c in first["customers"]] != [
        c["customerName"] for c in other["customers"]
    ]
    counts = {k: len(v) for k, v in first.items()}
    assert counts["customers"] == 40 and counts["suppliers"] == 30 and counts["items"] == 10
    assert counts["invoices"] == 25 and counts["bills"] == 20


def test_generated_records_are_consistent_and_varied() -> None:
    data = generate_company_data(
        GeneratorSpec(customers=300, suppliers=50, items=20, invoices=200, bills=50, seed=2)
    )
    customer_ids = {c["id"] for c in data["customers"]}
    item_ids = {i["id"] for i in data["items"]}
    account_ids = {a["id"] for a in data["accounts"]}
    tax_ids = {t["id"] for t in data["taxRates"]}
    names = [c["customerName"] for c in data["customers"]]
    assert len(set(names)) == len(names)
    countries = {c["addresses"][0]["country"] for c in data["customers"]}
    assert len(countries) >= 5
    for invoice in data["invoices"]:
        assert invoice["customerRef"]["id"] in customer_ids
        subtotal = round(sum(line["subTotal"] for line in invoice["lineItems"]), 2)
        assert abs(subtotal - invoice["subTotal"]) < 0.011
        for line in invoice["lineItems"]:
            assert line["accountRef"]["id"] in account_ids
            assert line["taxRateRef"]["id"] in tax_ids
            assert "itemRef" not in line or line["itemRef"]["id"] in item_ids


async def test_generate_endpoint_builds_a_linked_company(sb: Sandbox) -> None:
    body = {"customers": 120, "suppliers": 80, "items": 10, "invoices": 30, "bills": 20, "seed": 9}
    company = (
        await sb.client.post("/_admin/companies/generate", json=body, headers=basic())
    ).json()
    assert company["name"] == "Generated 9"
    assert company["dataConnections"][0]["status"] == "Linked"
    page = (
        await sb.client.get(f"/companies/{company['id']}/data/suppliers", headers=basic())
    ).json()
    assert page["totalResults"] == 80
    expected = generate_company_data(
        GeneratorSpec(customers=120, suppliers=80, items=10, invoices=30, bills=20, seed=9)
    )
    assert [s["id"] for s in page["results"]] == [s["id"] for s in expected["suppliers"]]
    bad = await sb.client.post(
        "/_admin/companies/generate", json={"customers": -1}, headers=basic()
    )
    assert bad.status_code == 400
