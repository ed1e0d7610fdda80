"""Queries of the ledger domain: pulled ledger accounts and tax rates."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AccountingConnection, AccountingTaxRate, LedgerAccount


async def ledger_account_of_entity(
    session: AsyncSession, entity_id: uuid.UUID, ledger_account_id: uuid.UUID
) -> LedgerAccount | None:
    return await session.scalar(
        select(LedgerAccount)
        .join(AccountingConnection, AccountingConnection.id == LedgerAccount.connection_id)
        .where(LedgerAccount.id == ledger_account_id, AccountingConnection.entity_id == entity_id)
    )


async def tax_rate_of_entity(
    session: AsyncSession, entity_id: uuid.UUID, tax_rate_id: uuid.UUID
) -> AccountingTaxRate | None:
    return await session.scalar(
        select(AccountingTaxRate)
        .join(AccountingConnection, AccountingConnection.id == AccountingTaxRate.connection_id)
        .where(AccountingTaxRate.id == tax_rate_id, AccountingConnection.entity_id == entity_id)
    )
