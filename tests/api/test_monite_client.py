"""The partner API through Monite's official Python client (``monite`` 0.5.4).

A partner points the client at ``/v1``: every call below must succeed and parse into the
client's own models, with the values the service holds. The client's httpx transport goes to
the Litestar app in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from monite import AsyncMonite
from monite.core.api_error import ApiError
from monite.types import (
    CounterpartAddress,
    CounterpartCreatePayload_Organization,
    CounterpartOrganizationCreatePayload,
    Price,
)

from tests.conftest import PartnerCtx

pytestmark = pytest.mark.asyncio


def _client(app, partner: PartnerCtx, entity_id: str | None = None) -> AsyncMonite:
    transport = httpx.ASGITransport(app=app)
    return AsyncMonite(
        base_url="http://acctsync.test/v1",
        token=partner.token,
        monite_version="2024-05-25",
        monite_entity_id=entity_id,
        httpx_client=httpx.AsyncClient(transport=transport, timeout=30),
    )


@pytest.fixture
async def monite(app, partner: PartnerCtx) -> AsyncIterator[AsyncMonite]:
    """Monite's client as the partner, for one entity (GBP, London)."""
    entity_id = await partner.create_entity("Acme Ltd", "GBP")
    yield _client(app, partner, entity_id)


async def _vendor(monite: AsyncMonite, name: str = "Paper Supplies Ltd") -> str:
    created = await monite.counterparts.create(
        request=CounterpartCreatePayload_Organization(
            organization=CounterpartOrganizationCreatePayload(
                legal_name=name,
                is_customer=True,
                is_vendor=True,
                address=CounterpartAddress(
                    country="GB", city="Leeds", postal_code="LS1 4AP", line1="2 Park Row"
                ),
            )
        )
    )
    return created.id


# --- products ---------------------------------------------------------------------------


async def test_products_create_list_and_read(monite: AsyncMonite) -> None:
    created = await monite.products.create(
        name="A4 paper", type="product", price=Price(currency="GBP", value=1250)
    )
    assert created.name == "A4 paper"
    assert created.price is not None
    assert (created.price.currency, created.price.value) == ("GBP", 1250)
    entity_id = monite._client_wrapper._monite_entity_id
    assert str(created.entity_id) == entity_id

    page = await monite.products.get()
    assert [p.id for p in page.data] == [created.id]

    one = await monite.products.get_by_id(created.id)
    assert (one.id, one.name, one.entity_id) == (created.id, "A4 paper", created.entity_id)


# --- payables ---------------------------------------------------------------------------


async def test_payable_lifecycle_parses_at_every_step(monite: AsyncMonite) -> None:
    vendor = await _vendor(monite)
    created = await monite.payables.create(
        currency="GBP", counterpart_id=vendor, issued_at="2026-11-01", document_id="INV-7"
    )
    assert created.status == "draft"
    assert created.counterpart_id == vendor
    assert created.document_id == "INV-7"
    assert created.issued_at == "2026-11-01"  # the client keeps dates as strings
    assert str(created.entity_id) == monite._client_wrapper._monite_entity_id
    assert created.credit_notes == []
    assert created.payable_origin == "upload"
    assert created.source_of_payable_data == "user_specified"

    line = await monite.payables.line_items.create(
        created.id, name="Paper", quantity=3, unit_price=1250, tax=2000
    )
    assert (line.payable_id, line.subtotal, line.tax_amount, line.total) == (
        created.id,
        3750,
        750,
        4500,
    )

    page = await monite.payables.get()
    assert [p.id for p in page.data] == [created.id]
    one = await monite.payables.get_by_id(created.id)
    assert (one.total_amount, one.amount_due, one.subtotal) == (4500, 4500, 3750)

    submitted = await monite.payables.submit_for_approval_by_id(created.id)
    assert submitted.status == "approve_in_progress"
    approved = await monite.payables.approve_payment_by_id(created.id)
    assert approved.status == "waiting_to_be_paid"
    assert (await monite.payables.get_by_id(created.id)).status == "waiting_to_be_paid"


async def test_payable_of_another_entity_is_not_found(app, monite, partner) -> None:
    vendor = await _vendor(monite)
    created = await monite.payables.create(currency="GBP", counterpart_id=vendor)
    other = _client(app, partner, await partner.create_entity("Other Ltd", "GBP"))
    with pytest.raises(ApiError) as caught:
        await other.payables.get_by_id(created.id)
    assert caught.value.status_code == 404
