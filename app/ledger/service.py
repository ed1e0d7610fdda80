"""Whether a pulled ledger account or tax rate may be used to code a document.

A row is unusable when the accounting system deleted it (``metadata.isDeleted``), archived
it (status ``Archived``; ``Deleted``/``Inactive`` read the same) or when it belongs to a
connection that is no longer the entity's (disconnected): a document coded with it would be
refused at push, so it is refused when coded, with a 422 naming the field.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AccountingConnection, AccountingTaxRate, LedgerAccount
from app.errors import Unprocessable
from app.ledger import queries

#: Provider statuses (lower case) that mean "not to be used any more".
RETIRED_STATUSES = ("archived", "deleted", "inactive")


def display_status(row: LedgerAccount | AccountingTaxRate) -> str | None:
    """The status the API shows: ``Deleted`` for a row deleted in the accounting system,
    else the status as pulled (``Active``, ``Archived``, ...)."""
    return "Deleted" if row.is_deleted else row.status


def is_usable(row: LedgerAccount | AccountingTaxRate) -> bool:
    """Neither deleted nor archived in the accounting system."""
    return not row.is_deleted and (row.status or "").lower() not in RETIRED_STATUSES


async def _problem(
    session: AsyncSession, row: LedgerAccount | AccountingTaxRate, what: str
) -> str | None:
    if row.is_deleted:
        return f"{what} was deleted in the accounting system"
    if not is_usable(row):
        return f"{what} is {row.status} in the accounting system"
    connection = await session.get(AccountingConnection, row.connection_id)
    if connection is None or connection.status == "disconnected":
        return f"{what} belongs to a disconnected accounting connection"
    return None


async def usable_ledger_account(
    session: AsyncSession, entity_id: uuid.UUID, account_id: uuid.UUID, loc: list[str | int]
) -> LedgerAccount:
    """The entity's ledger account ``account_id`` if a document may be coded with it.

    Raises:
        Unprocessable: at ``loc``: not pulled for this entity, deleted or archived in the
            accounting system, or of a disconnected connection.
    """
    account = await queries.ledger_account_of_entity(session, entity_id, account_id)
    if account is None:
        raise Unprocessable.field(
            loc, f"ledger account {account_id} was not pulled from this entity's accounting system"
        )
    problem = await _problem(session, account, f"ledger account {account_id} ({account.name})")
    if problem is not None:
        raise Unprocessable.field(loc, problem)
    return account


async def usable_tax_rate(
    session: AsyncSession, entity_id: uuid.UUID, rate_id: uuid.UUID, loc: list[str | int]
) -> AccountingTaxRate:
    """The entity's tax rate ``rate_id`` if a document may be coded with it.

    Raises:
        Unprocessable: at ``loc``: not pulled for this entity, deleted or archived in the
            accounting system, or of a disconnected connection.
    """
    rate = await queries.tax_rate_of_entity(session, entity_id, rate_id)
    if rate is None:
        raise Unprocessable.field(
            loc, f"tax rate {rate_id} was not pulled from this entity's accounting system"
        )
    name = rate.name or rate.code or rate.provider_id
    problem = await _problem(session, rate, f"tax rate {rate_id} ({name})")
    if problem is not None:
        raise Unprocessable.field(loc, problem)
    return rate
