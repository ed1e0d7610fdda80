"""``CodatClient.get_company_info``: Codat's ``GET /companies/{id}/data/info`` decoded, the
base currency normalised; and the same call against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.providers import CompanyInfo, ProviderNotFound
from tests.unit.providers.test_against_sandbox import Sandbox
from tests.unit.providers.test_codat_client import (
    COMPANY,
    EXPECTED_AUTH,
    Scripted,
    codat_error,
    make_client,
    ok,
)

INFO_JSON = {
    "companyName": "Toft stores",
    "accountingPlatformRef": "2d9c5b14",
    "companyLegalName": "Toft Stores Ltd",
    "addresses": [{"type": "Billing", "line1": "1 High St", "city": "Leeds"}],
    "phoneNumbers": [],
    "webLinks": [],
    "ledgerLockDate": None,
    "registrationNumber": "0123456",
    "taxNumber": "GB123456789",
    "financialYearStartDate": "2024-04-01T00:00:00",
    "baseCurrency": "GBP",
    "sourceUrls": {},
    "createdDate": "2024-05-01T10:00:05Z",
}


async def test_company_info_is_a_plain_get_with_the_base_currency() -> None:
    handler = Scripted(ok(INFO_JSON))
    info = await make_client(handler).get_company_info(COMPANY)
    (request,) = handler.requests
    assert (request.method, request.url.path) == ("GET", f"/base/companies/{COMPANY}/data/info")
    assert request.headers["Authorization"] == EXPECTED_AUTH
    assert isinstance(info, CompanyInfo)
    assert (info.company_name, info.company_legal_name, info.base_currency) == (
        "Toft stores",
        "Toft Stores Ltd",
        "GBP",
    )
    assert info.created_date == datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "read"), [("eur", "EUR"), (" usd ", "USD"), ("", None), (None, None), ("Euro", None)]
)
async def test_base_currency_is_an_iso_code_or_none(sent: str | None, read: str | None) -> None:
    info = await make_client(Scripted(ok({**INFO_JSON, "baseCurrency": sent}))).get_company_info(
        COMPANY
    )
    assert info.base_currency == read


async def test_company_info_of_an_unknown_company_is_not_found() -> None:
    client = make_client(Scripted(codat_error(404, "Company not found")))
    with pytest.raises(ProviderNotFound):
        await client.get_company_info(COMPANY)


async def test_company_info_from_the_sandbox() -> None:
    sandbox = Sandbox()
    try:
        seeded = (
            await sandbox.admin("POST", "/_admin/companies/seed", {"platform": "exact-netherlands"})
        ).json()
        info = await sandbox.client().get_company_info(seeded["id"])
        assert info.base_currency == "EUR"
        assert info.company_name == seeded["name"]
    finally:
        await sandbox.app.state.sandbox_runtime.stop()
