"""Validation of a payable or receivable before any provider call.

Every problem is returned at once, each with the 1-based line it is on, so a person can fix the
document in one go. The validator also resolves each line's ledger account and tax rate to the
accounting system's ids, so the mapper does not resolve them again.

Monite: the checks are those of Monite's accounting push (a ledger account and a tax rate on
every line that exist in the accounting system, tax rates matched on their numeric value when
none is chosen, no invoice-level discount on a receivable, the entity's default ledger account
for products).
"""

from __future__ import annotations

import msgspec
from babel.numbers import is_currency

from ._documents import (
    LedgerAccountRef,
    LineItem,
    PayableDoc,
    Product,
    PushContext,
    ReceivableDoc,
    TaxRateRef,
)
from ._money import as_decimal, discount_amount


class Problem(msgspec.Struct, kw_only=True, frozen=True):
    """One reason a document cannot be pushed.

    `code` is machine-readable (see the table in the package docstring), `message` tells a
    person what to fix, `line` is the 1-based line number (None for the document itself) and
    `field` the offending field (of the line when `line` is set).
    """

    code: str
    message: str
    line: int | None = None
    field: str | None = None


class ResolvedLine(msgspec.Struct, kw_only=True, frozen=True):
    """A line's references in the accounting system (None where they did not resolve).

    `account_id` / `tax_rate_id` are Codat ids (`accountRef.id`, `taxRateRef.id`); `tax_rate`
    is the rate used for the line's tax (percent x 100): the line's own, else the resolved
    tax rate's.
    """

    line: int
    account_id: str | None = None
    tax_rate_id: str | None = None
    tax_rate: int | None = None


class Validation(msgspec.Struct, kw_only=True, frozen=True):
    """The outcome of validating a document: `problems` (empty when it can be pushed) and one
    `ResolvedLine` per line item, in order.
    """

    problems: list[Problem]
    lines: list[ResolvedLine]

    @property
    def ok(self) -> bool:
        return not self.problems


class ProductValidation(msgspec.Struct, kw_only=True, frozen=True):
    """The outcome of validating a product for a push as a Codat item: `problems` and the
    Codat id of its ledger account (its own, else the entity's default for products).
    """

    problems: list[Problem]
    account_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def format_rate(rate: int) -> str:
    """Percent x 100 as a person reads it: 2000 -> "20%", 1250 -> "12.5%", 5 -> "0.05%"."""
    whole, cents = divmod(rate, 100)
    return f"{whole}%" if cents == 0 else f"{whole}.{cents:02d}".rstrip("0") + "%"


class _Resolver:
    """Lookups over the pulled ledger accounts and tax rates of one push context."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx
        self.accounts = {a.id: a for a in ctx.ledger_accounts}
        self.rates = {r.id: r for r in ctx.tax_rates}
        self.active_by_value: dict[int, list[TaxRateRef]] = {}
        for rate in ctx.tax_rates:
            if rate.status == "active":
                self.active_by_value.setdefault(rate.rate, []).append(rate)

    def account(
        self, account_id: str | None, n: int | None, what: str, field: str, problems: list[Problem]
    ) -> LedgerAccountRef | None:
        """The active pulled account `account_id`, or None with a problem appended."""
        where = f"line {n}: " if n is not None else ""
        if account_id is None:
            problems.append(
                Problem(
                    code="ledger_account_missing",
                    message=f"{where}{what} has no ledger account; set {field}",
                    line=n,
                    field=field,
                )
            )
            return None
        account = self.accounts.get(account_id)
        if account is None:
            problems.append(
                Problem(
                    code="ledger_account_not_found",
                    message=f"{where}ledger account {account_id} is not in the accounting "
                    "system's chart of accounts; choose one from GET /v1/ledger_accounts",
                    line=n,
                    field=field,
                )
            )
            return None
        if account.status != "active":
            problems.append(
                Problem(
                    code="ledger_account_archived",
                    message=f"{where}ledger account '{account.name}' is archived in the "
                    "accounting system; choose an active one",
                    line=n,
                    field=field,
                )
            )
            return None
        return account

    def tax_rate(
        self, line: LineItem, n: int, default_id: str | None, problems: list[Problem]
    ) -> TaxRateRef | None:
        """The line's tax rate: its `accounting_tax_rate_id`, else the one active pulled rate
        whose value is the line's `tax_rate`, else the pulled rate `default_id`. Where the
        accounting system has no active tax rates, an untaxed line needs none (None, no problem).

        A line that gives both a `tax_rate` and an `accounting_tax_rate_id` must agree with
        itself: 20% of tax coded to a 0% rate would be booked at the rate's value by the
        accounting system (Xero and QuickBooks compute a line's tax from its tax code), so the
        totals here and there would differ (`tax_rate_mismatch`).
        """
        if line.accounting_tax_rate_id is not None:
            rate = self._by_id(line.accounting_tax_rate_id, n, "accounting_tax_rate_id", problems)
            if rate is not None and line.tax_rate is not None and line.tax_rate != rate.rate:
                problems.append(
                    Problem(
                        code="tax_rate_mismatch",
                        message=f"line {n}: the line's tax is {format_rate(line.tax_rate)} but "
                        f"tax rate '{rate.name}' is {format_rate(rate.rate)}; make them agree",
                        line=n,
                        field="tax_rate",
                    )
                )
            return rate
        if not self.active_by_value and not line.tax_rate and default_id is None:
            # The platform keeps no (active) tax rates (KashFlow's and QuickBooks Online's
            # example companies, US books without sales tax): an untaxed line is pushed
            # without a tax rate reference.
            return None
        if line.tax_rate is not None:
            matches = self.active_by_value.get(line.tax_rate, [])
            if len(matches) == 1:
                return matches[0]
            rate = format_rate(line.tax_rate)
            if not matches:
                message = (
                    f"line {n}: the accounting system has no active tax rate of {rate}; "
                    "set accounting_tax_rate_id"
                )
                code = "tax_rate_no_match"
            else:
                names = ", ".join(f"'{m.name}'" for m in matches)
                message = (
                    f"line {n}: the accounting system has {len(matches)} tax rates of {rate} "
                    f"({names}); set accounting_tax_rate_id to choose one"
                )
                code = "tax_rate_ambiguous"
            problems.append(Problem(code=code, message=message, line=n, field="tax_rate"))
            return None
        if default_id is not None:
            return self._by_id(default_id, n, "default_tax_rate_id", problems)
        problems.append(
            Problem(
                code="tax_rate_missing",
                message=f"line {n}: no tax rate; set accounting_tax_rate_id or the line's tax",
                line=n,
                field="accounting_tax_rate_id",
            )
        )
        return None

    def _by_id(
        self, rate_id: str, n: int, field: str, problems: list[Problem]
    ) -> TaxRateRef | None:
        rate = self.rates.get(rate_id)
        source = "the entity's default tax rate" if field == "default_tax_rate_id" else "tax rate"
        if rate is None:
            problems.append(
                Problem(
                    code="tax_rate_not_found",
                    message=f"line {n}: {source} {rate_id} is not in the accounting system; "
                    "choose one from GET /v1/accounting_tax_rates",
                    line=n,
                    field=field,
                )
            )
            return None
        if rate.status != "active":
            problems.append(
                Problem(
                    code="tax_rate_archived",
                    message=f"line {n}: {source} '{rate.name}' is archived in the accounting "
                    "system; choose an active one",
                    line=n,
                    field=field,
                )
            )
            return None
        return rate


def _document_problems(doc: PayableDoc | ReceivableDoc, kind: str) -> list[Problem]:
    problems: list[Problem] = []
    if not is_currency(doc.currency):
        problems.append(
            Problem(
                code="currency_unknown",
                message=f"currency {doc.currency!r} is not an ISO 4217 code",
                field="currency",
            )
        )
    if doc.counterpart is None:
        problems.append(
            Problem(
                code="counterpart_missing",
                message=f"the {kind} has no counterpart; set counterpart_id",
                field="counterpart_id",
            )
        )
    elif doc.counterpart.provider_id is None and not doc.counterpart.name.strip():
        problems.append(
            Problem(
                code="counterpart_name_missing",
                message="the counterpart has no name, so it cannot be created in the "
                "accounting system; give it a name",
                field="counterpart_id",
            )
        )
    if doc.issue_date is None:
        problems.append(
            Problem(
                code="issue_date_missing",
                message=f"the {kind} has no issue date; set it",
                field="issue_date",
            )
        )
    if not doc.line_items:
        problems.append(
            Problem(
                code="line_items_missing",
                message=f"the {kind} has no line items; add at least one",
                field="line_items",
            )
        )
    return problems


def _discount_problem(line: LineItem, n: int) -> Problem | None:
    discount = line.discount
    if discount is None:
        return None
    gross = as_decimal(line.quantity) * line.unit_price
    too_big = discount.amount < 0 or discount_amount(gross, discount) > gross
    if discount.type == "percentage":
        too_big = too_big or discount.amount > 10000
    if not too_big:
        return None
    return Problem(
        code="discount_invalid",
        message=f"line {n}: the discount is negative or larger than the line amount",
        line=n,
        field="discount",
    )


def validate_payable(doc: PayableDoc, ctx: PushContext) -> Validation:
    """Check a payable before it is pushed as a Codat bill; returns every problem at once and
    the resolved references of each line (Monite: the checks of its accounting push).

    A payable needs a known currency, a counterpart (linked, or with a name to create it),
    an issue date and at least one line; every line needs a `ledger_account_id` among the
    connection's active pulled ledger accounts and a tax rate: its `accounting_tax_rate_id`
    among the active pulled tax rates, else exactly one active pulled rate whose value equals
    the line's `tax_rate`; a line discount may not exceed its line.
    """
    resolver = _Resolver(ctx)
    problems = _document_problems(doc, "payable")
    lines: list[ResolvedLine] = []
    for n, line in enumerate(doc.line_items, start=1):
        account = resolver.account(
            line.ledger_account_id, n, "the line", "ledger_account_id", problems
        )
        rate = resolver.tax_rate(line, n, None, problems)
        discount_problem = _discount_problem(line, n)
        if discount_problem is not None:
            problems.append(discount_problem)
        lines.append(_resolved(line, n, account, rate))
    return Validation(problems=problems, lines=lines)


def validate_receivable(doc: ReceivableDoc, ctx: PushContext) -> Validation:
    """Check a receivable before it is pushed as a Codat invoice; returns every problem at once
    and the resolved references of each line (Monite: the checks of its accounting push).

    As `validate_payable`, and: no invoice-level discount (a zero discount is ignored; line
    discounts are fine but may not exceed the line); each line's ledger account is its
    product's, else the line's `ledger_account_id` when it has no product, else the entity's
    default ledger account for products; the tax rate falls back to the entity's default tax
    rate when the line gives neither an `accounting_tax_rate_id` nor a `tax_rate`.
    """
    resolver = _Resolver(ctx)
    problems = _document_problems(doc, "receivable")
    if doc.discount is not None and doc.discount.amount != 0:
        problems.append(
            Problem(
                code="invoice_discount_not_supported",
                message="an invoice-level discount cannot be pushed to the accounting system; "
                "remove it and give the discount on the lines instead",
                field="discount",
            )
        )
    lines: list[ResolvedLine] = []
    for n, line in enumerate(doc.line_items, start=1):
        account = _product_account(resolver, line.product, line.ledger_account_id, n, problems)
        rate = resolver.tax_rate(line, n, ctx.default_tax_rate_id, problems)
        discount_problem = _discount_problem(line, n)
        if discount_problem is not None:
            problems.append(discount_problem)
        lines.append(_resolved(line, n, account, rate))
    return Validation(problems=problems, lines=lines)


def validate_product(product: Product, ctx: PushContext) -> ProductValidation:
    """Check a product before it is pushed as a Codat item: it needs a ledger account (its own,
    else the entity's default for products, as in Monite) among the active pulled ledger accounts.
    """
    problems: list[Problem] = []
    account = _product_account(_Resolver(ctx), product, None, None, problems)
    return ProductValidation(problems=problems, account_id=account.provider_id if account else None)


def _product_account(
    resolver: _Resolver,
    product: Product | None,
    line_account_id: str | None,
    n: int | None,
    problems: list[Problem],
) -> LedgerAccountRef | None:
    own = product.ledger_account_id if product is not None else line_account_id
    account_id = own or resolver.ctx.default_products_ledger_account_id
    what = f"product '{product.name}'" if product is not None else "the line"
    field = "product.ledger_account_id" if product is not None else "ledger_account_id"
    if own is None and account_id is not None:
        field = "default_products_ledger_account_id"
    if account_id is None:
        problems.append(
            Problem(
                code="ledger_account_missing",
                message=(f"line {n}: " if n is not None else "")
                + f"{what} has no ledger account and the entity has no default ledger "
                "account for products; set one",
                line=n,
                field=field,
            )
        )
        return None
    return resolver.account(account_id, n, what, field, problems)


def _resolved(
    line: LineItem, n: int, account: LedgerAccountRef | None, rate: TaxRateRef | None
) -> ResolvedLine:
    if line.tax_rate is not None:
        value = line.tax_rate
    else:
        value = rate.rate if rate is not None else None
    return ResolvedLine(
        line=n,
        account_id=account.provider_id if account else None,
        tax_rate_id=rate.provider_id if rate else None,
        tax_rate=value,
    )
