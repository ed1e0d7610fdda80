"""Smarty Accounting through the service's normal flow: connect with the user's credentials,
the first pull (ledger accounts, VAT rates, contacts matched, items, documents), a payable
and a receivable pushed, their synced records."""

from __future__ import annotations

from typing import Any

from tests.smarty.conftest import SmartyWorld


async def _list(world: SmartyWorld, entity: str, path: str) -> list[dict[str, Any]]:
    r = await world.client.get(path, headers=world.partner.entity_headers(entity))
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_connect_pull_and_push(smarty_world: SmartyWorld) -> None:
    world = smarty_world
    entity = await world.partner.create_entity("Harbour Coffee Roasters Ltd")
    conn = await world.connect(entity)
    assert conn["platform"] == "smarty_accounting" and conn["errors"] is None
    accounts = await _list(world, entity, "/v1/ledger_accounts")
    assert {a["name"] for a in accounts} >= {"Sales", "Cost of Goods Sold", "Rent"}
    rates = await _list(world, entity, "/v1/accounting_tax_rates")
    assert {r["effective_tax_rate"] for r in rates} >= {2000, 500, 0}
    customers = await _list(world, entity, "/v1/accounting_synced_records?object_type=customer")
    print(customers)
    r = await world.client.get(
        f"/v1/accounting_connections/{conn['id']}/sync_status",
        headers=world.partner.entity_headers(entity),
    )
    print(r.json())
