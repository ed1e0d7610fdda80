"""``/v1/accounting/payables`` and ``/v1/accounting/receivables``: bills and invoices as the
accounting system holds them (Monite's ``AccountingPayable`` / ``AccountingReceivable``),
from the last pull. Ids are the provider's; amounts are minor units of the document currency.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import get_currency_precision
from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity, PulledRecord
from app.errors import NotFound
from app.ledger import queries as ledger_queries
from app.ledger.routes import current_connection
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate
from app.providers.codat import Bill, Invoice, decode_object
from app.schemas import Response
from app.sync import queries as sync_queries


class RefOut(Response):
    """A reference to a record in the accounting system (Monite ``AccountingRefObject``)."""

    id: str | None
    name: str | None = None


class CustomerRefOut(Response):
    """Monite ``AccountingCustomerRefObject``: the customer's id and name in the platform."""

    id: str | None
    company_name: str | None = None


class LineOut(Response):
    """Monite ``AccountingLineItem``; amounts in minor units of the document currency;
    ``ledger_account_id`` is our ledger account's id (``GET /v1/ledger_accounts/{id}``), null
    when the line has no account or it was not pulled."""

    description: str | None
    quantity: float | None
    unit_amount: int | None
    discount_amount: int | None
    discount_percentage: float | None
    ledger_account_id: str | None
    tax_rate_ref: RefOut | None
    total_amount: int | None = None


class AccountingDocumentOut(Response):
    """A pulled bill (Monite ``AccountingPayable``, with ``vendor_ref``) or invoice
    (``AccountingReceivable``, with ``customer_ref``). Amounts are integer minor units of
    ``currency`` (API.md), not Monite's decimals; ``status`` is Codat's status in snake case
    (``open | draft | partially_paid | paid | void | unknown``, invoices ``submitted``)."""

    id: str
    invoice_number: str | None
    currency: str | None
    currency_rate: float | None
    status: str | None
    posted_date: str | None
    due_date: str | None
    subtotal: int | None
    tax_amount: int | None
    total_amount: int | None
    amount_due: int | None
    memo: str | None
    lines: list[LineOut]
    vendor_ref: RefOut | None = None
    customer_ref: CustomerRefOut | None = None
    is_deleted: bool = False


def _minor(amount: Decimal | None, currency: str | None) -> int | None:
    if amount is None:
        return None
    try:
        exponent = get_currency_precision(currency or "")
    except Exception:
        exponent = 2
    return int((amount * 10**exponent).quantize(Decimal(1), ROUND_HALF_UP))


def _date(value: Any) -> str | None:
    return value.date().isoformat() if value is not None else None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _status(value: str | None) -> str | None:
    """Codat ``PartiallyPaid`` -> Monite ``partially_paid``."""
    return _CAMEL.sub("_", value).lower() if value else None


def _decode(row: PulledRecord) -> Any:
    return decode_object(Bill if row.data_type == "bills" else Invoice, row.raw)


def account_refs(docs: Sequence[Any]) -> list[str]:
    """The provider account ids the documents' lines refer to."""
    return sorted(
        {line.account_ref.id for d in docs for line in d.line_items if line.account_ref}
        - {None, ""}
    )


def document_out(
    row: PulledRecord, doc: Any = None, accounts: dict[str, uuid.UUID] | None = None
) -> AccountingDocumentOut:
    """Present a stored bill or invoice (``doc``: its decoded record, decoded here when None)
    in Monite's shape; ``accounts`` maps provider account ids to our ledger account ids."""
    is_bill = row.data_type == "bills"
    if doc is None:
        doc = _decode(row)
    accounts = accounts or {}
    cur = doc.currency
    lines = [
        LineOut(
            description=line.description,
            quantity=float(line.quantity) if line.quantity is not None else None,
            unit_amount=_minor(line.unit_amount, cur),
            discount_amount=_minor(line.discount_amount, cur),
            discount_percentage=float(line.discount_percentage)
            if line.discount_percentage is not None
            else None,
            ledger_account_id=str(accounts[line.account_ref.id])
            if line.account_ref and line.account_ref.id in accounts
            else None,
            tax_rate_ref=RefOut(id=line.tax_rate_ref.id, name=line.tax_rate_ref.name)
            if line.tax_rate_ref
            else None,
            total_amount=_minor(line.total_amount, cur),
        )
        for line in doc.line_items
    ]
    common = {
        "id": doc.id,
        "currency": cur,
        "currency_rate": float(doc.currency_rate) if doc.currency_rate is not None else None,
        "status": _status(doc.status),
        "posted_date": _date(doc.issue_date),
        "due_date": _date(doc.due_date),
        "subtotal": _minor(doc.sub_total, cur),
        "total_amount": _minor(doc.total_amount, cur),
        "amount_due": _minor(doc.amount_due, cur),
        "memo": doc.note,
        "lines": lines,
        "is_deleted": row.is_deleted,
    }
    if is_bill:
        ref = doc.supplier_ref
        return AccountingDocumentOut(
            invoice_number=doc.reference or None,
            tax_amount=_minor(doc.tax_amount, cur),
            vendor_ref=RefOut(id=ref.id, name=ref.supplier_name) if ref else None,
            **common,
        )
    ref = doc.customer_ref
    return AccountingDocumentOut(
        invoice_number=doc.invoice_number or None,
        tax_amount=_minor(doc.total_tax_amount, cur),
        customer_ref=CustomerRefOut(id=ref.id, company_name=ref.company_name) if ref else None,
        **common,
    )


async def _list(
    session: AsyncSession,
    entity: Entity,
    state: State,
    data_type: str,
    limit: int,
    order: str,
    token: str | None,
) -> Page[AccountingDocumentOut]:
    connection = await current_connection(session, entity)
    page = await paginate(
        session,
        state.paginator,
        sync_queries.pulled_stmt(connection.id, data_type),
        list_name=f"accounting_{data_type}",
        scope=entity.id,
        model=PulledRecord,
        query={"order": order},
        limit=limit,
        token=token,
    )
    rows = page.data
    docs = [_decode(r) for r in rows]
    accounts = await ledger_queries.by_provider_ids(session, connection.id, account_refs(docs))
    page.data = [document_out(r, d, accounts) for r, d in zip(rows, docs, strict=True)]
    return page


async def _one(
    session: AsyncSession, entity: Entity, data_type: str, provider_id: str
) -> AccountingDocumentOut:
    connection = await current_connection(session, entity)
    rows = await sync_queries.pulled_of_type(session, connection.id, data_type, [provider_id])
    if not rows:
        raise NotFound(
            f"{data_type[:-1].capitalize()} {provider_id} was not found in the accounting system"
        )
    doc = _decode(rows[0])
    accounts = await ledger_queries.by_provider_ids(session, connection.id, account_refs([doc]))
    return document_out(rows[0], doc, accounts)


class AccountingDocumentsController(Controller):
    path = "/v1/accounting"
    tags = ["accounting data"]

    @get("/payables", operation_id="get_accounting_payables")
    async def payables(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
    ) -> Page[AccountingDocumentOut]:
        """Bills in the accounting system (as of the last pull)."""
        return await _list(db_session, entity, state, "bills", limit, order, pagination_token)

    @get("/payables/{payable_id:str}", operation_id="get_accounting_payables_id")
    async def payable(
        self, payable_id: str, db_session: AsyncSession, entity: Entity
    ) -> AccountingDocumentOut:
        """One bill, by its id in the accounting system."""
        return await _one(db_session, entity, "bills", payable_id)

    @get("/receivables", operation_id="get_accounting_receivables")
    async def receivables(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
    ) -> Page[AccountingDocumentOut]:
        """Invoices in the accounting system (as of the last pull)."""
        return await _list(db_session, entity, state, "invoices", limit, order, pagination_token)

    @get("/receivables/{invoice_id:str}", operation_id="get_accounting_receivables_id")
    async def receivable(
        self, invoice_id: str, db_session: AsyncSession, entity: Entity
    ) -> AccountingDocumentOut:
        """One invoice, by its id in the accounting system."""
        return await _one(db_session, entity, "invoices", invoice_id)
