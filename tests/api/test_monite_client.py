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
    EntityAddressSchema,
    LineItem,
    OrganizationSchema,
    Price,
    ReceivableFacadeCreateInvoicePayload,
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


# --- counterparts and their addresses ----------------------------------------------------


async def test_counterpart_address_is_its_default_billing_address(monite: AsyncMonite) -> None:
    vendor = await _vendor(monite)
    counterpart = await monite.counterparts.get_by_id(vendor)
    listed = await monite.counterparts.addresses.get(vendor)
    assert len(listed.data) == 1
    default = listed.data[0]
    assert counterpart.default_billing_address_id == default.id
    assert (default.counterpart_id, default.country, default.city) == (vendor, "GB", "Leeds")
    assert (default.postal_code, default.line1) == ("LS1 4AP", "2 Park Row")
    again = await monite.counterparts.addresses.get_by_id(default.id, vendor)
    assert again == default

    second = await monite.counterparts.addresses.create(
        vendor, city="York", country="GB", line1="9 Stonegate", postal_code="YO1 8AS"
    )
    assert second.id != default.id
    listed = await monite.counterparts.addresses.get(vendor)
    assert [a.id for a in listed.data] == [default.id, second.id]
    changed = await monite.counterparts.addresses.update_by_id(second.id, vendor, line2="Flat 2")
    assert (changed.line1, changed.line2) == ("9 Stonegate", "Flat 2")

    # the default address is the counterpart's own: changing it changes the counterpart
    await monite.counterparts.addresses.update_by_id(default.id, vendor, city="Bradford")
    counterpart = await monite.counterparts.get_by_id(vendor)
    assert counterpart.organization.address["city"] == "Bradford"  # not in the client's model
    assert (await monite.counterparts.addresses.get_by_id(default.id, vendor)).city == "Bradford"

    with pytest.raises(ApiError) as caught:
        await monite.counterparts.addresses.delete_by_id(default.id, vendor)
    assert caught.value.status_code == 409
    await monite.counterparts.addresses.delete_by_id(second.id, vendor)
    assert [a.id for a in (await monite.counterparts.addresses.get(vendor)).data] == [default.id]


async def test_first_address_of_a_counterpart_without_one_becomes_its_default(
    monite: AsyncMonite, partner: PartnerCtx
) -> None:
    # The client always sends an address; a counterpart without one comes from a pull or a
    # plain HTTP call.
    response = await partner.client.post(
        "/v1/counterparts",
        headers=partner.entity_headers(monite._client_wrapper._monite_entity_id),
        json={"type": "organization", "organization": {"legal_name": "No Address Ltd"}},
    )
    assert response.status_code == 201, response.text
    bare = await monite.counterparts.get_by_id(response.json()["id"])
    assert bare.default_billing_address_id is None
    assert (await monite.counterparts.addresses.get(bare.id)).data == []
    created = await monite.counterparts.addresses.create(
        bare.id, city="Bath", country="GB", line1="1 Royal Cres", postal_code="BA1 2LR"
    )
    assert (await monite.counterparts.get_by_id(bare.id)).default_billing_address_id == created.id


async def test_address_errors_are_4xx(monite: AsyncMonite, partner: PartnerCtx) -> None:
    vendor = await _vendor(monite)
    headers = partner.entity_headers(monite._client_wrapper._monite_entity_id)
    missing = "00000000-0000-4000-8000-000000000000"
    response = await partner.client.get(
        f"/v1/counterparts/{vendor}/addresses/{missing}", headers=headers
    )
    assert response.status_code == 404
    response = await partner.client.get(f"/v1/counterparts/{missing}/addresses", headers=headers)
    assert response.status_code == 404
    response = await partner.client.post(
        f"/v1/counterparts/{vendor}/addresses",
        headers=headers,
        json={"country": "XX", "city": "Nowhere", "line1": "1 Road", "postal_code": "1"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "country"]
    response = await partner.client.post(
        f"/v1/counterparts/{vendor}/addresses",
        headers=headers,
        json={"country": "GB", "city": "Leeds"},
    )
    assert response.status_code == 422


# --- receivables ------------------------------------------------------------------------


async def test_receivable_created_and_read_as_monite_client_does(monite: AsyncMonite) -> None:
    customer = await _vendor(monite, "Buyer plc")
    billing = (await monite.counterparts.addresses.get(customer)).data[0]
    product = await monite.products.create(
        name="Consulting hour", type="service", price=Price(currency="GBP", value=10_000)
    )
    created = await monite.receivables.create(
        request=ReceivableFacadeCreateInvoicePayload(
            counterpart_id=customer,
            counterpart_billing_address_id=billing.id,
            currency="GBP",
            line_items=[LineItem(product_id=product.id, quantity=2, tax_rate_value=2000)],
            memo="November work",
        )
    )
    assert created.type == "invoice"
    assert created.status == "draft"
    assert (created.counterpart_id, created.counterpart_type) == (customer, "organization")
    assert created.counterpart_name == "Buyer plc"
    assert created.counterpart_billing_address.id == billing.id
    assert created.counterpart_billing_address.city == "Leeds"
    assert created.entity.type == "organization"
    assert created.entity.name == "Acme Ltd"
    assert created.entity_address.city == "London"
    assert (created.subtotal, created.total_vat_amount, created.total_amount) == (
        20_000,
        4_000,
        24_000,
    )
    assert created.total_amount_with_credit_notes == 24_000
    assert created.amount_due == 24_000
    (line,) = created.line_items
    assert (line.product.id, line.product.name, line.quantity) == (
        product.id,
        "Consulting hour",
        2,
    )
    assert (line.product.price.value, line.product.price_after_vat.value) == (10_000, 12_000)
    assert (line.product.vat_rate.value, line.product.vat_rate.country) == (2000, "GB")
    assert (line.total_before_vat, line.total_after_vat) == (20_000, 24_000)

    page = await monite.receivables.get()
    assert [r.id for r in page.data] == [created.id]
    one = await monite.receivables.get_by_id(created.id)
    assert one.total_amount == 24_000
    assert one.counterpart_billing_address.line1 == "2 Park Row"

    issued = await monite.receivables.issue_by_id(created.id)
    assert issued.status == "issued"


async def test_receivable_billing_address_of_another_counterpart_is_422(
    monite: AsyncMonite,
) -> None:
    customer = await _vendor(monite, "Buyer plc")
    other = await _vendor(monite, "Someone Else Ltd")
    foreign = (await monite.counterparts.addresses.get(other)).data[0]
    product = await monite.products.create(name="Pen", price=Price(currency="GBP", value=100))
    with pytest.raises(ApiError) as caught:
        await monite.receivables.create(
            request=ReceivableFacadeCreateInvoicePayload(
                counterpart_id=customer,
                counterpart_billing_address_id=foreign.id,
                currency="GBP",
                line_items=[LineItem(product_id=product.id, quantity=1)],
            )
        )
    assert caught.value.status_code == 422
    assert caught.value.body["detail"][0]["loc"] == ["body", "counterpart_billing_address_id"]
    assert (await monite.receivables.get()).data == []


# --- Monite's ordinary optional fields ---------------------------------------------------


async def test_entity_phone_website_tax_id_are_kept(app, partner: PartnerCtx) -> None:
    monite = _client(app, partner)
    created = await monite.entities.create(
        type="organization",
        email="ops@acme.example",
        address=EntityAddressSchema(
            country="GB", city="London", postal_code="EC1A 1BB", line1="1 High St"
        ),
        organization=OrganizationSchema(legal_name="Acme Ltd"),
        phone="+44 20 7946 0000",
        website="https://acme.example",
        tax_id="GB123456789",
    )
    assert created.type == "organization"
    assert created.organization.legal_name == "Acme Ltd"
    read = await monite.entities.get_by_id(created.id)
    assert (read.phone, read.website, read.tax_id) == (
        "+44 20 7946 0000",
        "https://acme.example",
        "GB123456789",
    )
    assert (read.address.city, read.address.postal_code) == ("London", "EC1A 1BB")

    # ... and the entity's invoices show them as the issuer's
    scoped = _client(app, partner, created.id)
    customer = await _vendor(scoped, "Buyer plc")
    product = await scoped.products.create(name="Pen", price=Price(currency="EUR", value=100))
    invoice = await scoped.receivables.create(
        request=ReceivableFacadeCreateInvoicePayload(
            counterpart_id=customer,
            counterpart_billing_address_id=(
                await scoped.counterparts.get_by_id(customer)
            ).default_billing_address_id,
            currency="EUR",
            line_items=[LineItem(product_id=product.id, quantity=1)],
        )
    )
    assert (invoice.entity.phone, invoice.entity.tax_id) == ("+44 20 7946 0000", "GB123456789")
    assert invoice.entity_address.postal_code == "EC1A 1BB"


async def test_counterpart_language_tax_id_reminders_are_kept(monite: AsyncMonite) -> None:
    created = await monite.counterparts.create(
        request=CounterpartCreatePayload_Organization(
            organization=CounterpartOrganizationCreatePayload(
                legal_name="Käufer GmbH",
                is_customer=True,
                is_vendor=False,
                address=CounterpartAddress(
                    country="DE", city="Berlin", postal_code="10115", line1="Invalidenstr. 1"
                ),
            ),
            language="de",
            tax_id="DE123456789",
            reminders_enabled=False,
        )
    )
    read = await monite.counterparts.get_by_id(created.id)
    assert (read.language, read.tax_id, read.reminders_enabled) == ("de", "DE123456789", False)
    # the invoice's customer-facing language follows the counterpart's
    product = await monite.products.create(name="Pen", price=Price(currency="GBP", value=100))
    invoice = await monite.receivables.create(
        request=ReceivableFacadeCreateInvoicePayload(
            counterpart_id=created.id,
            counterpart_billing_address_id=read.default_billing_address_id,
            currency="GBP",
            line_items=[LineItem(product_id=product.id, quantity=1)],
        )
    )
    assert (invoice.file_language, invoice.counterpart_tax_id) == ("de", "DE123456789")


async def test_bad_counterpart_language_is_422(monite: AsyncMonite, partner: PartnerCtx) -> None:
    response = await partner.client.post(
        "/v1/counterparts",
        headers=partner.entity_headers(monite._client_wrapper._monite_entity_id),
        json={
            "type": "organization",
            "organization": {"legal_name": "X"},
            "language": "German",
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "language"]


async def test_product_smallest_amount_and_measure_unit_are_kept(monite: AsyncMonite) -> None:
    unit = await monite.measure_units.create(name="m", description="metre")
    created = await monite.products.create(
        name="Cable",
        price=Price(currency="GBP", value=250),
        smallest_amount=0.5,
        measure_unit_id=unit.id,
    )
    assert created.smallest_amount == 0.5
    assert created.measure_unit_id == unit.id
    one = await monite.products.get_by_id(created.id)
    assert (one.smallest_amount, one.measure_unit_id) == (0.5, unit.id)
    with pytest.raises(ApiError) as refused:  # a unit the entity does not have
        await monite.products.create(
            name="Rope", measure_unit_id="5f0b8f7e-2c1d-4a57-9d1e-6a7c3b2e0d14"
        )
    assert refused.value.status_code == 422


# --- measure units ------------------------------------------------------------------------


async def test_measure_units_through_the_client(monite: AsyncMonite) -> None:
    kg = await monite.measure_units.create(name="kg")
    hour = await monite.measure_units.create(name="hour", description="Labour hours")
    assert (kg.name, kg.description) == ("kg", None)
    assert kg.created_at is not None and kg.updated_at is not None

    listed = await monite.measure_units.get()
    assert [(u.id, u.name) for u in listed.data] == [(kg.id, "kg"), (hour.id, "hour")]
    assert (await monite.measure_units.get_by_id(hour.id)).description == "Labour hours"

    renamed = await monite.measure_units.update_by_id(kg.id, name="kilogram")
    assert (renamed.id, renamed.name) == (kg.id, "kilogram")

    product = await monite.products.create(name="Flour", measure_unit_id=kg.id)
    with pytest.raises(ApiError) as in_use:
        await monite.measure_units.delete_by_id(kg.id)
    assert in_use.value.status_code == 409
    await monite.products.update_by_id(product.id, measure_unit_id=hour.id)
    await monite.measure_units.delete_by_id(kg.id)
    with pytest.raises(ApiError) as gone:
        await monite.measure_units.get_by_id(kg.id)
    assert gone.value.status_code == 404
    assert [u.id for u in (await monite.measure_units.get()).data] == [hour.id]

    # An invoice line's product carries its unit, as the client's LineItemProduct reads it.
    customer = await _vendor(monite, "Buyer plc")
    billing = (await monite.counterparts.addresses.get(customer)).data[0]
    priced = await monite.products.update_by_id(product.id, price=Price(currency="GBP", value=300))
    invoice = await monite.receivables.create(
        request=ReceivableFacadeCreateInvoicePayload(
            counterpart_id=customer,
            counterpart_billing_address_id=billing.id,
            currency="GBP",
            line_items=[LineItem(product_id=priced.id, quantity=4, tax_rate_value=0)],
        )
    )
    (line,) = invoice.line_items
    assert line.product.measure_unit is not None
    assert (line.product.measure_unit.id, line.product.measure_unit.name) == (hour.id, "hour")
    assert line.product.measure_unit.description == "Labour hours"


async def test_payable_partner_metadata_is_kept(monite: AsyncMonite, partner) -> None:
    vendor = await _vendor(monite)
    created = await monite.payables.create(
        currency="GBP", counterpart_id=vendor, partner_metadata={"erp_id": "B-17", "n": [1, 2]}
    )
    assert created.partner_metadata == {"erp_id": "B-17", "n": [1, 2]}
    assert (await monite.payables.get_by_id(created.id)).partner_metadata == {
        "erp_id": "B-17",
        "n": [1, 2],
    }
    headers = partner.entity_headers(monite._client_wrapper._monite_entity_id)
    response = await partner.client.post(
        "/v1/payables",
        headers=headers,
        json={"currency": "GBP", "partner_metadata": {"blob": "x" * 20_000}},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "partner_metadata"]
    response = await partner.client.post(
        "/v1/payables", headers=headers, json={"currency": "GBP", "partner_metadata": [1]}
    )
    assert response.status_code == 422


# --- synced records ---------------------------------------------------------------------


async def test_synced_records_of_payment_records_are_an_empty_list(
    monite: AsyncMonite, partner: PartnerCtx
) -> None:
    page = await monite.accounting.synced_records.get(object_type="payment_record")
    assert page.data == []
    assert page.next_pagination_token is None
    response = await partner.client.get(
        "/v1/accounting_synced_records?object_type=payment",
        headers=partner.entity_headers(monite._client_wrapper._monite_entity_id),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "object_type"]


async def test_receivable_billing_address_changes_and_protects_the_address(
    monite: AsyncMonite, partner: PartnerCtx
) -> None:
    customer = await _vendor(monite, "Buyer plc")
    default = (await monite.counterparts.get_by_id(customer)).default_billing_address_id
    second = await monite.counterparts.addresses.create(
        customer, city="York", country="GB", line1="9 Stonegate", postal_code="YO1 8AS"
    )
    product = await monite.products.create(name="Pen", price=Price(currency="GBP", value=100))
    invoice = await monite.receivables.create(
        request=ReceivableFacadeCreateInvoicePayload(
            counterpart_id=customer,
            counterpart_billing_address_id=default,
            currency="GBP",
            line_items=[LineItem(product_id=product.id, quantity=1)],
        )
    )
    headers = partner.entity_headers(monite._client_wrapper._monite_entity_id)
    url = f"/v1/receivables/{invoice.id}"
    changed = await partner.client.patch(
        url, headers=headers, json={"counterpart_billing_address_id": second.id}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["counterpart_billing_address"]["city"] == "York"

    # an address an invoice bills to cannot be deleted
    with pytest.raises(ApiError) as caught:
        await monite.counterparts.addresses.delete_by_id(second.id, customer)
    assert caught.value.status_code == 409

    # another counterpart: the old counterpart's address no longer applies
    other = await _vendor(monite, "Other Buyer Ltd")
    moved = await partner.client.patch(url, headers=headers, json={"counterpart_id": other})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["counterpart_billing_address_id"], body["counterpart_billing_address"]) == (
        None,
        None,
    )
    await monite.counterparts.addresses.delete_by_id(second.id, customer)
