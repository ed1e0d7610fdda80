"""Connect an entity to the Xero example company through the link page, and pull it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app.db.models import LedgerAccount, PulledRecord
from sandbox.supplement import is_generated

FIXTURES = Path(__file__).parents[1] / "fixtures" / "codat"


def fixture(platform: str, data_type: str) -> list[dict]:
    return json.loads((FIXTURES / platform / f"{data_type}.json").read_text())["results"]


async def test_connect_authorize_and_first_pull(world, sessionmaker) -> None:
    entity = await world.partner.create_entity("Demo Ltd", currency="GBP")
    conn = await world.connect(entity, "xero")
    assert conn["platform"] == "xero"
    accounts = fixture("xero", "accounts")
    async with sessionmaker() as session:
        stored = list(await session.scalars(select(LedgerAccount.provider_id)))
        invoices = await session.scalar(
            select(func.count())
            .select_from(PulledRecord)
            .where(PulledRecord.data_type == "invoices")
        )
    # Codat's published accounts, and the generated chart the example company also serves
    assert {p for p in stored if not is_generated(p)} == {a["id"] for a in accounts}
    assert any(is_generated(p) for p in stored)
    assert invoices == len({i["id"] for i in fixture("xero", "invoices")})
