"""Ledger accounts and tax rates between two connections (issue 15).

A partner holding ledger account ids keeps reading them when the entity's connection is
disconnected and no other is active: the last connection's accounts and tax rates are listed,
each ``is_usable: false`` (coding a line with one is refused, naming the field), until a
connection is active again; an entity that never connected lists nothing (200, not 404).
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World


async def _all(world: World, h: dict[str, str], path: str) -> list[dict[str, Any]]:
    out, token = [], None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if token:
            params["pagination_token"] = token
        r = await world.client.get(path, headers=h, params=params)
        assert r.status_code == 200, r.text
        out += r.json()["data"]
        token = r.json().get("next_pagination_token")
        if not token:
            return out


async def test_lists_between_connections_show_the_last_one_not_usable(world: World) -> None:
    never = await world.partner.create_entity("Never Connected Ltd")
    hn = world.partner.entity_headers(never)
    for path in ("/v1/ledger_accounts", "/v1/accounting_tax_rates"):
        r = await world.client.get(path, headers=hn)
        assert r.status_code == 200, r.text
        assert r.json()["data"] == []

    entity = await world.partner.create_entity("Acme Ltd")
    h = world.partner.entity_headers(entity)
    conn = await world.connect(entity, "xero")
    accounts = await _all(world, h, "/v1/ledger_accounts")
    rates = await _all(world, h, "/v1/accounting_tax_rates")
    usable = next(a for a in accounts if a["is_usable"])
    assert accounts and rates and any(t["is_usable"] for t in rates)

    gone = await world.client.post(f"/v1/accounting_connections/{conn['id']}/disconnect", headers=h)
    assert gone.status_code == 200, gone.text
    between = await _all(world, h, "/v1/ledger_accounts")
    assert [a["id"] for a in between] == [a["id"] for a in accounts]
    assert not any(a["is_usable"] for a in between)
    assert [{**a, "is_usable": True} for a in between] == [
        {**a, "is_usable": True} for a in accounts
    ]  # the rest as it was
    between_rates = await _all(world, h, "/v1/accounting_tax_rates")
    assert [t["id"] for t in between_rates] == [t["id"] for t in rates]
    assert not any(t["is_usable"] for t in between_rates)
    one = await world.client.get(f"/v1/ledger_accounts/{usable['id']}", headers=h)
    assert one.status_code == 200 and one.json()["is_usable"] is False
    rate = await world.client.get(f"/v1/accounting_tax_rates/{rates[0]['id']}", headers=h)
    assert rate.status_code == 200 and rate.json()["is_usable"] is False

    # What is_usable false means: a product coded with it is refused, naming the field.
    refused = await world.client.post(
        "/v1/products", headers=h, json={"name": "Paper", "ledger_account_id": usable["id"]}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "ledger_account_id"]
    assert "disconnected" in refused.json()["detail"][0]["msg"]

    # Another entity of the partner sees none of them.
    assert (await world.client.get("/v1/ledger_accounts", headers=hn)).json()["data"] == []
    assert (
        await world.client.get(f"/v1/ledger_accounts/{usable['id']}", headers=hn)
    ).status_code == 404
