"""Input shapes: what the engine hands to `sync_rules` (plain msgspec structs, no I/O).

Money is integer minor units plus an ISO 4217 code, rates are percent x 100 (12.5% is 1250),
as in Monite. Ids named `*_id` are the service's own ids; `provider_id` is the id of the same
record in the accounting system (Codat's `id`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import msgspec

ActiveStatus = Literal["active", "archived"]


class Address(msgspec.Struct, kw_only=True):
    """A counterpart's address (Monite's `CounterpartAddress`; `country` is ISO 3166 alpha-2)."""

    country: str | None = None
    city: str | None = None
    postal_code: str | None = None
    line1: str | None = None
    line2: str | None = None


class Counterpart(msgspec.Struct, kw_only=True):
    """The supplier of a payable or the customer of a receivable.

    `name` is the organisation's legal name or the individual's full name; `provider_id` is the
    Codat supplier/customer id when the counterpart is already linked (None: push it first).
    """

    id: str
    name: str
    provider_id: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None


class Product(msgspec.Struct, kw_only=True):
    """A product or service of the entity's catalogue (Monite's product).

    `price` is in minor units of `currency` (both None when the product has no price);
    `provider_id` is the Codat item id when the product is linked to an item.
    """

    id: str
    name: str
    description: str | None = None
    type: Literal["product", "service"] = "service"
    price: int | None = None
    currency: str | None = None
    ledger_account_id: str | None = None
    provider_id: str | None = None


class Discount(msgspec.Struct, kw_only=True):
    """Monite's discount: `amount` is minor units when `type` is "amount", else percent x 100."""

    amount: int
    type: Literal["amount", "percentage"] = "amount"


class LineItem(msgspec.Struct, kw_only=True):
    """One line of a payable or receivable.

    - `quantity`: a Decimal (a float is accepted and read through its shortest repr).
    - `unit_price`: minor units of the document's currency.
    - `tax_rate`: percent x 100 (Monite's payable line `tax`, receivable `tax_rate_value`).
    - `ledger_account_id`, `accounting_tax_rate_id`: the service's ids of pulled records.
    - `discount`: a line discount (receivables); `product`: the catalogue product, if any.
    """

    quantity: Decimal
    unit_price: int
    name: str = ""
    description: str | None = None
    tax_rate: int | None = None
    ledger_account_id: str | None = None
    accounting_tax_rate_id: str | None = None
    discount: Discount | None = None
    product: Product | None = None
    id: str | None = None


class PayableDoc(msgspec.Struct, kw_only=True):
    """A payable (bill) to push. `status` is one of Monite's payable statuses."""

    id: str
    status: str
    currency: str
    counterpart: Counterpart | None = None
    line_items: list[LineItem] = msgspec.field(default_factory=list)
    document_id: str | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    memo: str | None = None


class ReceivableDoc(msgspec.Struct, kw_only=True):
    """A receivable (invoice) to push. `status` is one of Monite's invoice statuses.

    `discount` is the invoice-level discount, which cannot be pushed (see `validate_receivable`).
    """

    id: str
    status: str
    currency: str
    counterpart: Counterpart | None = None
    line_items: list[LineItem] = msgspec.field(default_factory=list)
    document_id: str | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    memo: str | None = None
    discount: Discount | None = None


class LedgerAccountRef(msgspec.Struct, kw_only=True, frozen=True):
    """A pulled ledger account: the service's `id`, Codat's `provider_id`, name and status."""

    id: str
    provider_id: str
    name: str
    status: ActiveStatus = "active"


class TaxRateRef(msgspec.Struct, kw_only=True, frozen=True):
    """A pulled tax rate; `rate` is the effective rate in percent x 100 (20% is 2000)."""

    id: str
    provider_id: str
    name: str
    rate: int
    status: ActiveStatus = "active"


class PushContext(msgspec.Struct, kw_only=True):
    """What a push is checked against: the connection's pulled ledger accounts and tax rates
    and the entity's accounting settings (Monite: `ledger_account_ids.products` is
    `default_products_ledger_account_id`, `tax_ids.deductions` is `default_tax_rate_id`).
    """

    ledger_accounts: list[LedgerAccountRef] = msgspec.field(default_factory=list)
    tax_rates: list[TaxRateRef] = msgspec.field(default_factory=list)
    default_products_ledger_account_id: str | None = None
    default_tax_rate_id: str | None = None
