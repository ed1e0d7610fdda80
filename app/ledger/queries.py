"""Queries of the ledger domain: pulled ledger accounts and tax rates."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, false, select
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


async def by_provider_ids(
    session: AsyncSession, connection_id: uuid.UUID, provider_ids: list[str]
) -> dict[str, uuid.UUID]:
    """Our ledger account ids by the provider's account id, for one connection."""
    if not provider_ids:
        return {}
    rows = await session.execute(
        select(LedgerAccount.provider_id, LedgerAccount.id).where(
            LedgerAccount.connection_id == connection_id,
            LedgerAccount.provider_id.in_(provider_ids),
        )
    )
    return {p: i for p, i in rows}


async def of_connection(
    session: AsyncSession, connection_id: uuid.UUID
) -> tuple[list[LedgerAccount], list[AccountingTaxRate]]:
    """Every pulled ledger account and tax rate of a connection."""
    accounts = await session.scalars(
        select(LedgerAccount).where(LedgerAccount.connection_id == connection_id)
    )
    rates = await session.scalars(
        select(AccountingTaxRate).where(AccountingTaxRate.connection_id == connection_id)
    )
    return list(accounts), list(rates)


def accounts_stmt(connection_id: uuid.UUID | None) -> Select[tuple[LedgerAccount]]:
    """Live (not deleted) ledger accounts of a connection (none without one)."""
    if connection_id is None:
        return select(LedgerAccount).where(false())
    return select(LedgerAccount).where(
        LedgerAccount.connection_id == connection_id, LedgerAccount.is_deleted.is_(False)
    )


def tax_rates_stmt(connection_id: uuid.UUID | None) -> Select[tuple[AccountingTaxRate]]:
    """Live tax rates of a connection (none without one)."""
    if connection_id is None:
        return select(AccountingTaxRate).where(false())
    return select(AccountingTaxRate).where(
        AccountingTaxRate.connection_id == connection_id, AccountingTaxRate.is_deleted.is_(False)
    )
