"""Pulled ledger accounts and tax rates, in Monite's shapes."""

from __future__ import annotations

import uuid

from app.schemas import Response


class LedgerAccountOut(Response):
    """Monite ``LedgerAccountResponse``; ``current_balance`` in minor units of ``currency``;
    ``status`` ``Deleted`` when deleted in the accounting system; ``is_usable`` false when
    deleted or archived there (a line coded with it is refused)."""

    id: uuid.UUID
    name: str
    status: str
    is_bank_account: bool
    is_usable: bool = True
    type: str | None = None
    subtype: str | None = None
    nominal_code: str | None = None
    description: str | None = None
    currency: str | None = None
    current_balance: int | None = None


class TaxComponentOut(Response):
    name: str | None
    rate: int | None
    is_compound: bool


class TaxRateOut(Response):
    """Monite ``AccountingTaxRateResponse``: rates in percent x 100 (12.5% is 1250);
    ``status`` and ``is_usable`` as for ledger accounts."""

    id: uuid.UUID
    name: str | None = None
    code: str | None = None
    status: str | None = None
    is_usable: bool = True
    effective_tax_rate: int | None = None
    total_tax_rate: int | None = None
    components: list[TaxComponentOut] | None = None
