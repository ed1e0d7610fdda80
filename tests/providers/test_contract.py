"""One provider contract, two providers: Codat's client against the Codat sandbox and Smarty
Accounting's adapter against its emulator both keep the :class:`AccountingProvider` protocol
the sync engine relies on (pages of every read data type with ids and decoded records, one
record, creates and updates that settle into a record id, the document found by the marker in
its note, a contact or item by name, errors as the protocol's exceptions)."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.providers import (
    READ_DATA_TYPES,
    AccountingProvider,
    Page,
    ProviderNotFound,
    ProviderRejected,
    PushOperation,
)
from app.providers.codat import CodatClient
from app.providers.smarty import MemoryTokenStore, SmartyClient, SmartyProvider, TokenSet
from sandbox.app import create_sandbox_app
from sandbox.config import SandboxConfig
from smarty_sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SmartyConfig,
    create_smarty_app,
)


@dataclass
class Harness:
    name: str
    provider: Any
    company_id: str
    connection_id: str
    account_id: str
    tax_rate_id: str

    async def settle(self, op: PushOperation) -> PushOperation:
        deadline = time.monotonic() + 10
        while not op.is_final and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            op = await self.provider.get_push_operation(self.company_id, op.push_operation_key)
        assert op.is_final, op
        return op


async def _first(provider: Any, company: str, data_type: str, pick: Any = None) -> Any:
    async for page in provider.iter_pages(company, data_type):
        for record in page.records:
            if pick is None or pick(record):
                return record
    raise AssertionError(f"no {data_type}")


@pytest.fixture(scope="module", params=["codat", "smarty"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "codat":
        app = create_sandbox_app(SandboxConfig(public_url="http://codat.test", push_delay_s=0))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        auth = {"Authorization": "Basic " + base64.b64encode(b"sandbox").decode()}
        made = await http.post(
            "http://codat.test/_admin/companies/generate",
            json={"customers": 5, "suppliers": 5, "items": 3, "invoices": 5, "bills": 5},
            headers=auth,
        )
        company = made.json()
        client = CodatClient("http://codat.test", "sandbox", client=http,
                             backoff_base=0.01, backoff_cap=0.02)  # fmt: skip
        provider: Any = client
        company_id, connection_id = company["id"], company["dataConnections"][0]["id"]
        yield await _harness("codat", provider, company_id, connection_id)
        await http.aclose()
        await app.state.sandbox_runtime.stop()
        return
    app = create_smarty_app(SmartyConfig())
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    answer = await http.post(
        "http://smarty.test/oauth/authenticate/accesstoken",
        json={"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
              "username": "owner@harbour.example", "password": "harbour-owner"},
    )  # fmt: skip
    tokens = answer.json()
    store = MemoryTokenStore(TokenSet(access_token=tokens["access_token"],
                                  refresh_token=tokens["refresh_token"],
                                  expires_at=time.time() + 3600))  # fmt: skip
    client = SmartyClient("http://smarty.test/api/v1", "http://smarty.test/oauth",
                          DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, store, http=http,
                          backoff_base=0.01, backoff_cap=0.02)  # fmt: skip
    bootstrap = SmartyProvider(client)
    org = str((await bootstrap.list_organisations())[0]["organisation_id"])
    yield await _harness("smarty", SmartyProvider(client, org), org, org)
    await http.aclose()


async def _harness(name: str, provider: Any, company: str, connection: str) -> Harness:
    account = await _first(provider, company, "accounts",
                           lambda a: not a.is_bank_account and (a.type or "") in (
                               "Income", "Revenue"))  # fmt: skip
    rate = await _first(
        provider,
        company,
        "taxRates",
        lambda t: t.effective_tax_rate is not None and t.effective_tax_rate > 0,
    )
    return Harness(name, provider, company, connection, account.id, rate.id)


async def test_is_an_accounting_provider(harness: Harness) -> None:
    assert isinstance(harness.provider, AccountingProvider)
    company = await harness.provider.get_company(harness.company_id)
    assert company.id == harness.company_id
    connections = await harness.provider.list_connections(harness.company_id)
    assert any(c.status == "Linked" for c in connections)


@pytest.mark.parametrize("data_type", READ_DATA_TYPES)
async def test_pages_of_every_read_data_type(harness: Harness, data_type: str) -> None:
    pages = [p async for p in harness.provider.iter_pages(harness.company_id, data_type,
                                                          page_size=2)]  # fmt: skip
    assert pages and all(isinstance(p, Page) for p in pages)
    records = [r for p in pages for r in p.records]
    assert records, data_type
    assert pages[-1].has_next is False and all(p.has_next for p in pages[:-1])
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) and all(ids)
    for page in pages:
        assert len(page.raw) == len(page.records) and not page.invalid
    one = await harness.provider.get_record(harness.company_id, data_type, ids[0])
    assert one.id == ids[0]


async def test_missing_record_and_company(harness: Harness) -> None:
    with pytest.raises(ProviderNotFound):
        await harness.provider.get_record(harness.company_id, "customers", "999999999")
    with pytest.raises((ProviderNotFound, ProviderRejected)):
        await harness.provider.get_page(str(uuid.uuid4()) if harness.name == "codat"
                                        else "424242", "accounts")  # fmt: skip


async def test_create_contact_item_and_find_them_by_name(harness: Harness) -> None:
    p, company = harness.provider, harness.company_id
    name = f"Contract Supplier {uuid.uuid4().hex[:6]}"
    op = await harness.settle(await p.push_create(company, harness.connection_id, "suppliers", {
        "supplierName": name, "emailAddress": "ap@contract.example", "status": "Active",
        "addresses": [{"type": "Billing", "line1": "1 Test St", "city": "Leeds",
                       "country": "GB", "postalCode": "LS1 1AA"}]}))  # fmt: skip
    assert op.status == "Success" and op.record_id
    found = await p.get_page(company, "suppliers", page_size=50, query=f'supplierName="{name}"')
    assert [r.id for r in found.records] == [op.record_id]
    assert found.records[0].supplier_name == name
    item = await harness.settle(await p.push_create(company, harness.connection_id, "items", {
        "name": f"Contract item {name}", "itemStatus": "Active", "type": "Service",
        "isBillItem": False, "isInvoiceItem": True,
        "invoiceItem": {"unitPrice": Decimal("12.50"), "accountRef": {"id": harness.account_id}},
    }))  # fmt: skip
    assert item.status == "Success" and item.record_id
    got = await p.get_record(company, "items", item.record_id)
    assert got.name == f"Contract item {name}"


async def test_document_created_found_by_marker_updated_and_voided(harness: Harness) -> None:
    p, company = harness.provider, harness.company_id
    customer = await _first(p, company, "customers")
    marker = f"acctsync:{uuid.uuid4()}"
    payload = {
        "invoiceNumber": f"CT-{uuid.uuid4().hex[:6]}",
        "customerRef": {"id": customer.id},
        "issueDate": "2026-11-02T00:00:00", "dueDate": "2026-12-02T00:00:00",
        "currency": "GBP", "status": "Submitted", "note": f"Thanks [{marker}]",
        "lineItems": [{"description": "Consulting", "unitAmount": Decimal("100.00"),
                       "quantity": Decimal(2), "subTotal": Decimal("200.00"),
                       "taxAmount": Decimal("40.00"), "totalAmount": Decimal("240.00"),
                       "accountRef": {"id": harness.account_id},
                       "taxRateRef": {"id": harness.tax_rate_id}}],
        "subTotal": Decimal("200.00"), "totalTaxAmount": Decimal("40.00"),
        "totalAmount": Decimal("240.00"), "amountDue": Decimal("240.00"),
    }  # fmt: skip
    op = await harness.settle(await p.push_create(company, harness.connection_id, "invoices",
                                                  payload))  # fmt: skip
    assert op.status == "Success" and op.record_id, (op.error_message, op.validation)
    found = await p.get_page(company, "invoices", page_size=10, query=f"note~{marker}")
    assert [r.id for r in found.records] == [op.record_id]
    invoice = await p.get_record(company, "invoices", op.record_id)
    assert invoice.customer_ref.id == customer.id
    assert invoice.status in ("Submitted", "Open")
    assert invoice.line_items[0].quantity == 2
    voided = await harness.settle(
        await p.push_update(
            company, harness.connection_id, "invoices", op.record_id, {**payload, "status": "Void"}
        )
    )
    assert voided.status == "Success", (voided.error_message, voided.validation)
    assert (await p.get_record(company, "invoices", op.record_id)).status == "Void"


async def test_refused_create(harness: Harness) -> None:
    p, company = harness.provider, harness.company_id
    payload = {
        "invoiceNumber": "BAD-1", "customerRef": {"id": "987654321"},
        "issueDate": "2026-11-02T00:00:00", "dueDate": "2026-12-02T00:00:00",
        "currency": "GBP", "status": "Draft",
        "lineItems": [{"unitAmount": Decimal(1), "quantity": Decimal(1),
                       "accountRef": {"id": harness.account_id}}],
    }  # fmt: skip
    try:
        op = await p.push_create(company, harness.connection_id, "invoices", payload)
    except ProviderRejected as exc:  # refused at once (Smarty)
        assert exc.validation_errors or exc.error
        return
    op = await harness.settle(op)  # or a failed operation (Codat)
    assert op.status == "Failed"
