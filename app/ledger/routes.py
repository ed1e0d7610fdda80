"""``/v1/ledger_accounts`` and ``/v1/accounting_tax_rates``: what was pulled for the entity's
current connection (read-only; Monite: tax rates and ledger accounts are never created here)."""

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


def account_out(a: LedgerAccount) -> LedgerAccountOut:
    return LedgerAccountOut(
        id=a.id,
        name=a.name,
        status=service.display_status(a) or "Unknown",
        is_usable=service.is_usable(a),
        is_bank_account=a.is_bank_account,
        type=a.type,
        subtype=a.subtype,
        nominal_code=a.nominal_code,
        description=a.description,
        currency=a.currency,
        current_balance=a.current_balance,
    )


def tax_rate_out(t: AccountingTaxRate) -> TaxRateOut:
    return TaxRateOut(
        id=t.id,
        name=t.name,
        code=t.code,
        status=service.display_status(t),
        is_usable=service.is_usable(t),
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
        """The chart of accounts pulled from the accounting system, by name."""
        connection = await current_connection(db_session, entity)
        return await paginate(
            db_session,
            state.paginator,
            queries.accounts_stmt(connection.id),
            list_name="ledger_accounts",
            scope=entity.id,
            model=LedgerAccount,
            query={"order": order, "sort": sort},
            limit=limit,
            token=pagination_token,
            out=account_out,
        )

    @get("/{ledger_account_id:uuid}", operation_id="get_ledger_accounts_id")
    async def get_account(
        self, ledger_account_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> LedgerAccountOut:
        """One ledger account."""
        account = await queries.ledger_account_of_entity(db_session, entity.id, ledger_account_id)
        if account is None:
            raise NotFound(f"Ledger account {ledger_account_id} was not found")
        return account_out(account)


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
        """Tax rates pulled from the accounting system."""
        connection = await current_connection(db_session, entity)
        return await paginate(
            db_session,
            state.paginator,
            queries.tax_rates_stmt(connection.id),
            list_name="tax_rates",
            scope=entity.id,
            model=AccountingTaxRate,
            query={"order": order},
            limit=limit,
            token=pagination_token,
            out=tax_rate_out,
        )

    @get("/{tax_rate_id:uuid}", operation_id="get_accounting_tax_rates_id")
    async def get_rate(
        self, tax_rate_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> TaxRateOut:
        """One tax rate."""
        rate = await queries.tax_rate_of_entity(db_session, entity.id, tax_rate_id)
        if rate is None:
            raise NotFound(f"Tax rate {tax_rate_id} was not found")
        return tax_rate_out(rate)
