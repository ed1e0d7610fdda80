"""Measure units (``/v1/measure_units``) and a product's ``measure_unit_id``: CRUD in Monite's
shape, bad input changes nothing, tenant isolation, a unit in use cannot be deleted."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db.models import MeasureUnit, Product


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_measure_unit_crud_and_product_link(partner) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    c = partner.client
    created = await c.post("/v1/measure_units", headers=h, json={"name": "kg"})
    assert created.status_code == 201, created.text
    kg = created.json()
    assert kg["name"] == "kg" and kg["description"] is None
    assert {"id", "created_at", "updated_at"} <= kg.keys()
    hours = (
        await c.post(
            "/v1/measure_units", headers=h, json={"name": "hour", "description": "Labour hours"}
        )
    ).json()
    listed = (await c.get("/v1/measure_units", headers=h)).json()
    assert [u["name"] for u in listed["data"]] == ["kg", "hour"]
    assert listed["data"][1]["description"] == "Labour hours"

    patched = await c.patch(
        f"/v1/measure_units/{kg['id']}", headers=h, json={"description": "Kilograms"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() | {"updated_at": None} == kg | {
        "description": "Kilograms",
        "updated_at": None,
    }
    assert (await c.get(f"/v1/measure_units/{kg['id']}", headers=h)).json()["description"] == (
        "Kilograms"
    )

    product = await c.post(
        "/v1/products",
        headers=h,
        json={
            "name": "Flour",
            "measure_unit_id": kg["id"],
            "price": {"currency": "GBP", "value": 150},
        },
    )
    assert product.status_code == 201, product.text
    assert product.json()["measure_unit_id"] == kg["id"]
    moved = await c.patch(
        f"/v1/products/{product.json()['id']}", headers=h, json={"measure_unit_id": hours["id"]}
    )
    assert moved.json()["measure_unit_id"] == hours["id"]
    read = await c.get(f"/v1/products/{product.json()['id']}", headers=h)
    assert read.json()["measure_unit_id"] == hours["id"]

    # A unit a product uses stays; a free one goes.
    in_use = await c.delete(f"/v1/measure_units/{hours['id']}", headers=h)
    assert in_use.status_code == 409, in_use.text
    assert "1 product" in in_use.json()["error"]["message"]
    assert (await c.delete(f"/v1/measure_units/{kg['id']}", headers=h)).status_code == 204
    assert (await c.get(f"/v1/measure_units/{kg['id']}", headers=h)).status_code == 404
    assert [u["name"] for u in (await c.get("/v1/measure_units", headers=h)).json()["data"]] == [
        "hour"
    ]


async def test_measure_unit_bad_input_changes_nothing(partner, other_partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    c = partner.client
    for body, field in [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "kg", "description": "d" * 201}, "description"),
        ({"name": "kg", "symbol": "kg"}, "symbol"),
    ]:
        response = await c.post("/v1/measure_units", headers=h, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in str(response.json()["detail"]), response.json()
    assert await _count(sessionmaker, MeasureUnit) == 0

    unit = (await c.post("/v1/measure_units", headers=h, json={"name": "kg"})).json()
    bad_patch = await c.patch(f"/v1/measure_units/{unit['id']}", headers=h, json={"name": ""})
    assert bad_patch.status_code == 422
    assert (await c.get(f"/v1/measure_units/{unit['id']}", headers=h)).json()["name"] == "kg"

    # A product naming a unit that does not exist (or another entity's) is refused, unwritten.
    other_entity = await partner.create_entity("Other Ltd")
    for unit_id in ("00000000-0000-0000-0000-000000000001", unit["id"]):
        refused = await c.post(
            "/v1/products",
            headers=partner.entity_headers(other_entity),
            json={"name": "Flour", "measure_unit_id": unit_id},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "measure_unit_id"]
    assert await _count(sessionmaker, Product) == 0

    # Another partner sees nothing of this entity's units.
    theirs = await other_partner.create_entity()
    th = other_partner.entity_headers(theirs)
    assert (await other_partner.client.get("/v1/measure_units", headers=th)).json()["data"] == []
    for method in ("get", "delete"):
        response = await other_partner.client.request(
            method.upper(), f"/v1/measure_units/{unit['id']}", headers=th
        )
        assert response.status_code == 404
    assert (await c.get(f"/v1/measure_units/{unit['id']}", headers=h)).status_code == 200
