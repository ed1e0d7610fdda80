"""``GET /companies/{id}/data/info``: Codat's company info, its base currency read from the
example company's own documents."""

from __future__ import annotations

from sandbox.info import base_currency
from tests.sandbox.conftest import Sandbox, basic


async def test_info_of_example_companies_names_their_base_currency(sb: Sandbox) -> None:
    expected = {
        "xero": "GBP",
        "exact-netherlands": "EUR",
        # KashFlow's example invoices are in EUR at 0.84: the bills at par say GBP
        "kashflow": "GBP",
        # QuickBooks Online Sandbox: HKD bills at 0.08, GBP invoices at 1
        "quickbooks-online-sandbox": "GBP",
    }
    for platform, currency in expected.items():
        seeded = await sb.client.post(
            "/_admin/companies/seed", json={"platform": platform}, headers=basic()
        )
        company = seeded.json()
        info = await sb.client.get(f"/companies/{company['id']}/data/info", headers=basic())
        assert info.status_code == 200, info.text
        body = info.json()
        assert body["baseCurrency"] == currency, platform
        assert body["companyName"] == company["name"]
        assert body["createdDate"] == company["created"]
        assert {"companyLegalName", "addresses", "financialYearStartDate"} <= body.keys()


async def test_info_needs_a_connection_that_brought_data(sb: Sandbox) -> None:
    company, _ = await sb.company_with_connection()
    response = await sb.client.get(f"/companies/{company['id']}/data/info", headers=basic())
    assert response.status_code == 404
    assert "error" in response.json() or "message" in response.json()
    unknown = await sb.client.get("/companies/nope/data/info", headers=basic())
    assert unknown.status_code == 404
    assert (await sb.client.get("/companies/nope/data/info")).status_code == 401


def test_base_currency_rule() -> None:
    # documents at par first, then accounts, then any document; None when nothing says
    assert base_currency({"invoices": [{"currency": "USD", "currencyRate": 0.8}]}) == "USD"
    assert (
        base_currency(
            {
                "invoices": [{"currency": "USD", "currencyRate": 0.8}],
                "accounts": [{"currency": "CAD"}],
            }
        )
        == "CAD"
    )
    assert base_currency({"bills": [{"currency": "JPY", "currencyRate": 1}]}) == "JPY"
    assert base_currency({"accounts": [{"currency": ""}]}) is None
