"""Counterparts and products: happy paths, bad input, tenant isolation."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db.models import Counterpart, Product

ORG = {
    "type": "organization",
    "organization": {
        "legal_name": "Northwind Traders Ltd",
        "is_customer": True,
        "is_vendor": False,
        "email": "ap@northwind.example",
        "address": {
            "country": "GB",
            "city": "London",
            "postal_code": "EC1A 1BB",
            "line1": "1 Long Lane",
        },
    },
}


async def test_counterpart_crud(partner) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    created = await partner.client.post("/v1/counterparts", headers=h, json=ORG)
    assert created.status_code == 201, created.text
    cp = created.json()
    assert cp["organization"]["legal_name"] == "Northwind Traders Ltd"
    assert cp["organization"]["address"]["city"] == "London"
    person = await partner.client.post(
        "/v1/counterparts",
        headers=h,
        json={
            "type": "individual",
            "individual": {"first_name": "Ada", "last_name": "Lovelace", "is_vendor": True},
        },
    )
    assert person.status_code == 201
    vendors = (await partner.client.get("/v1/counterparts?is_vendor=true", headers=h)).json()
    assert [c["individual"]["last_name"] for c in vendors["data"]] == ["Lovelace"]
    patched = await partner.client.patch(
        f"/v1/counterparts/{cp['id']}",
        headers=h,
        json={"organization": {"is_vendor": True, "legal_name": "Northwind Traders Limited"}},
    )
    assert patched.status_code == 200
    assert patched.json()["organization"]["is_vendor"] is True
    assert patched.json()["organization"]["legal_name"] == "Northwind Traders Limited"
    by_name = (
        await partner.client.get("/v1/counterparts?name__icontains=northwind", headers=h)
    ).json()
    assert len(by_name["data"]) == 1
    assert (
        await partner.client.delete(f"/v1/counterparts/{cp['id']}", headers=h)
    ).status_code == 204
    assert (await partner.client.get(f"/v1/counterparts/{cp['id']}", headers=h)).status_code == 404


async def test_counterpart_bad_input(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    bad_country = {
        **ORG,
        "organization": {**ORG["organization"], "address": {"country": "XX", "city": "Nowhere"}},
    }
    cases = [
        ({"type": "organization"}, "organization"),
        ({"type": "robot", "organization": ORG["organization"]}, "type"),
        (bad_country, "country"),
        ({**ORG, "nickname": "NW"}, "nickname"),
        ({"type": "organization", "organization": {"is_customer": True}}, "legal_name"),
    ]
    for body, field in cases:
        response = await partner.client.post("/v1/counterparts", headers=h, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in [p for d in response.json()["detail"] for p in d["loc"]], response.json()
    missing_header = await partner.client.post(
        "/v1/counterparts", headers=partner.headers, json=ORG
    )
    assert missing_header.status_code == 422
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Counterpart)) == 0


async def test_counterparts_are_isolated(partner, other_partner) -> None:
    entity = await partner.create_entity()
    sibling = await partner.create_entity("Sibling Ltd")
    cp = (
        await partner.client.post(
            "/v1/counterparts", headers=partner.entity_headers(entity), json=ORG
        )
    ).json()
    # another entity of the same partner
    h2 = partner.entity_headers(sibling)
    assert (await partner.client.get(f"/v1/counterparts/{cp['id']}", headers=h2)).status_code == 404
    assert (await partner.client.get("/v1/counterparts", headers=h2)).json()["data"] == []
    # another partner cannot even name the entity
    h3 = other_partner.entity_headers(entity)
    assert (await other_partner.client.get("/v1/counterparts", headers=h3)).status_code == 404
    deleted = await other_partner.client.delete(f"/v1/counterparts/{cp['id']}", headers=h3)
    assert deleted.status_code == 404


async def test_product_crud_and_bad_input(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    created = await partner.client.post(
        "/v1/products",
        headers=h,
        json={
            "name": "Consulting hour",
            "type": "service",
            "price": {"currency": "GBP", "value": 15000},
        },
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["price"] == {"currency": "GBP", "value": 15000}
    patched = await partner.client.patch(
        f"/v1/products/{product['id']}",
        headers=h,
        json={"price": {"currency": "GBP", "value": 16000}},
    )
    assert patched.json()["price"]["value"] == 16000
    cases = [
        ({"name": ""}, "name"),
        ({"name": "X", "price": {"currency": "GBP", "value": -1}}, "value"),
        ({"name": "X", "price": {"currency": "ABC", "value": 1}}, "currency"),
        (
            {"name": "X", "ledger_account_id": "00000000-0000-4000-8000-000000000001"},
            "ledger_account_id",
        ),
        ({"name": "X", "type": "gift"}, "type"),
    ]
    for body, field in cases:
        response = await partner.client.post("/v1/products", headers=h, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in [p for d in response.json()["detail"] for p in d["loc"]], response.json()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 1
    other = await partner.create_entity("Other Ltd")
    h2 = partner.entity_headers(other)
    assert (
        await partner.client.get(f"/v1/products/{product['id']}", headers=h2)
    ).status_code == 404
    assert (
        await partner.client.delete(f"/v1/products/{product['id']}", headers=h2)
    ).status_code == 404
    assert (
        await partner.client.delete(f"/v1/products/{product['id']}", headers=h)
    ).status_code == 204
