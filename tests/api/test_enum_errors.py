"""A refused enum value says which values are permitted (issue 16), wherever the route's
signature tells them: query parameters, body fields, nested and list fields; by one
mechanism (``app.errors``), never a 500."""

from __future__ import annotations

import pytest


def only_error(response) -> dict:
    assert response.status_code == 422, response.text
    (item,) = response.json()["detail"]
    return item


async def test_synced_records_object_type_lists_the_permitted_values(partner) -> None:
    entity = await partner.create_entity()
    response = await partner.client.get(
        "/v1/accounting_synced_records?object_type=invoice", headers=partner.entity_headers(entity)
    )
    item = only_error(response)
    assert item["loc"] == ["query", "object_type"]
    assert item["msg"] == (
        "Invalid enum value 'invoice'; permitted: 'bill', 'customer', 'payment_record',"
        " 'product', 'receivable', 'vendor'"
    )


@pytest.mark.parametrize(
    ("path", "loc", "permitted"),
    [
        (
            "/v1/accounting_synced_records?object_type=bill&sync_status=ok",
            ["query", "sync_status"],
            "'done', 'error', 'pending'",
        ),
        (
            "/v1/accounting_synced_records?object_type=bill&order=up",
            ["query", "order"],
            "'asc', 'desc'",
        ),
        ("/v1/payables?status=paid_twice", ["query", "status"], "'draft'"),
    ],
)
async def test_query_enums(partner, path: str, loc: list, permitted: str) -> None:
    entity = await partner.create_entity()
    item = only_error(await partner.client.get(path, headers=partner.entity_headers(entity)))
    assert item["loc"] == loc
    assert "; permitted: " in item["msg"] and permitted in item["msg"]


async def test_body_enums(partner) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    item = only_error(
        await partner.client.post("/v1/products", headers=h, json={"name": "Paper", "type": "good"})
    )
    assert item["loc"] == ["body", "type"]
    assert item["msg"] == "Invalid enum value 'good'; permitted: 'product', 'service'"
    item = only_error(
        await partner.client.post(
            "/v1/counterparts",
            headers=h,
            json={"type": "company", "organization": {"legal_name": "X"}},
        )
    )
    assert item["msg"].endswith("permitted: 'individual', 'organization'"), item


async def test_entity_type_on_create(partner) -> None:
    item = only_error(
        await partner.client.post(
            "/v1/entities",
            headers=partner.headers,
            json={
                "type": "company",
                "organization": {"legal_name": "Acme"},
                "address": {"country": "GB", "city": "London", "line1": "1 High St"},
                "currency": "GBP",
            },
        )
    )
    assert item["loc"] == ["body", "type"]
    assert item["msg"].endswith("permitted: 'individual', 'organization'"), item


async def test_a_nested_enum(partner) -> None:
    entity = await partner.create_entity()
    response = await partner.client.post(
        "/v1/receivables",
        headers=partner.entity_headers(entity),
        json={"discount": {"type": "fraction", "amount": 5}, "type": "invoice"},
    )
    item = only_error(response)
    assert item["loc"] == ["body", "discount", "type"]
    assert item["msg"] == "Invalid enum value 'fraction'; permitted: 'amount', 'percentage'"
