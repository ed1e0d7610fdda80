"""``/v1/ledger_accounts`` and ``/v1/accounting_tax_rates``: what was pulled for the entity's
current connection (read-only; Monite: tax rates and ledger accounts are never created here);
between two connections, the last one's, none usable (:func:`listed_connection`)."""

from __future__ import annotations

import uuid
from typing import Literal

from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.connections import queries as connection_queries
from app.db.models import AccountingConnection, AccountingTaxRate, Entity, LedgerAccount
from app.errors import NotFound
from app.ledger import queries, service
from app.ledger.schemas import LedgerAccountOut, TaxComponentOut, TaxRateOut
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate


def account_out(a: LedgerAccount, connected: bool = True) -> LedgerAccountOut:
    """The API shape; ``connected`` false for a row of a disconnected connection (shown, never
    usable)."""
    return LedgerAccountOut(
        id=a.id,
        name=a.name,
        status=service.display_status(a) or "Unknown",
        is_usable=connected and service.is_usable(a),
        is_bank_account=a.is_bank_account,
        type=a.type,
        subtype=a.subtype,
        nominal_code=a.nominal_code,
        description=a.description,
        currency=a.currency,
        current_balance=a.current_balance,
    )


def tax_rate_out(t: AccountingTaxRate, connected: bool = True) -> TaxRateOut:
    """The API shape; ``connected`` as for :func:`account_out`."""
    return TaxRateOut(
        id=t.id,
        name=t.name,
        code=t.code,
        status=service.display_status(t),
        is_usable=connected and service.is_usable(t),
        effective_tax_rate=t.effective_tax_rate,
        total_tax_rate=t.total_tax_rate,
        components=[TaxComponentOut(**c) for c in t.components] if t.components else None,
    )


async def current_connection(session: AsyncSession, entity: Entity) -> AccountingConnection:
    """The entity's connection that is not disconnected.

    Raises:
        NotFound: the entity has no accounting connection.
    """
    connection = await connection_queries.active_of_entity(session, entity.id)
    if connection is None:
        raise NotFound("The entity has no accounting connection")
    return connection


async def listed_connection(
    session: AsyncSession, entity: Entity
) -> tuple[AccountingConnection | None, bool]:
    """The connection whose ledger accounts and tax rates the lists show, and whether it is
    the entity's active one.

    Between two connections (the last one disconnected, none active yet) the lists show the
    last connection's rows, each ``is_usable: false``: the ids a partner coded with stay
    readable, and nothing can be coded with them until a connection is active again
    (reconnecting the same company keeps the ids and makes them usable). An entity that never
    connected gets an empty list.
    """
    active = await connection_queries.active_of_entity(session, entity.id)
    if active is not None:
        return active, True
    return await connection_queries.latest_of_entity(session, entity.id, "disconnected"), False


async def _connected(session: AsyncSession, connection_id: uuid.UUID) -> bool:
    connection = await session.get(AccountingConnection, connection_id)
    return connection is not None and connection.status != "disconnected"


class LedgerAccountController(Controller):
    path = "/v1/ledger_accounts"
    tags = ["ledger accounts"]

    @get("/", operation_id="get_ledger_accounts")
    async def list_accounts(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        sort: Literal["name", "created_at"] = "name",
        pagination_token: Token = None,
    ) -> Page[LedgerAccountOut]:
        """The chart of accounts pulled from the accounting system, by name. Between two
        connections: the last connection's accounts, none usable (``is_usable: false``); an
        entity never connected: an empty list."""
        connection, connected = await listed_connection(db_session, entity)
        return await paginate(
            db_session,
            state.paginator,
            queries.accounts_stmt(connection.id if connection else None),
            list_name="ledger_accounts",
            scope=entity.id,
            model=LedgerAccount,
            query={"order": order, "sort": sort},
            limit=limit,
            token=pagination_token,
            out=lambda a: account_out(a, connected),
        )

    @get("/{ledger_account_id:uuid}", operation_id="get_ledger_accounts_id")
    async def get_account(
        self, ledger_account_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> LedgerAccountOut:
        """One ledger account."""
        account = await queries.ledger_account_of_entity(db_session, entity.id, ledger_account_id)
        if account is None:
            raise NotFound(f"Ledger account {ledger_account_id} was not found")
        return account_out(account, await _connected(db_session, account.connection_id))


class TaxRateController(Controller):
    path = "/v1/accounting_tax_rates"
    tags = ["tax rates"]

    @get("/", operation_id="get_accounting_tax_rates")
    async def list_rates(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
    ) -> Page[TaxRateOut]:
        """Tax rates pulled from the accounting system; between two connections and without
        one, as ``GET /v1/ledger_accounts``."""
        connection, connected = await listed_connection(db_session, entity)
        return await paginate(
            db_session,
            state.paginator,
            queries.tax_rates_stmt(connection.id if connection else None),
            list_name="tax_rates",
            scope=entity.id,
            model=AccountingTaxRate,
            query={"order": order},
            limit=limit,
            token=pagination_token,
            out=lambda t: tax_rate_out(t, connected),
        )

    @get("/{tax_rate_id:uuid}", operation_id="get_accounting_tax_rates_id")
    async def get_rate(
        self, tax_rate_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> TaxRateOut:
        """One tax rate."""
        rate = await queries.tax_rate_of_entity(db_session, entity.id, tax_rate_id)
        if rate is None:
            raise NotFound(f"Tax rate {tax_rate_id} was not found")
        return tax_rate_out(rate, await _connected(db_session, rate.connection_id))
