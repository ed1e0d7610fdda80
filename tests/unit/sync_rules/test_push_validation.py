"""Validation of payables, receivables and products before a push: every problem at once."""

import datetime as dt
from decimal import Decimal

import msgspec

from sync_rules import (
    Counterpart,
    Discount,
    LineItem,
    PayableDoc,
    Product,
    ReceivableDoc,
    ResolvedLine,
    format_rate,
    map_bill,
    validate_payable,
    validate_product,
    validate_receivable,
)

ACME = Counterpart(id="c1", name="Acme Ltd", provider_id="sup-1")


def bill_line(**kw) -> LineItem:
    values = {"quantity": Decimal(1), "unit_price": 10000, "ledger_account_id": "la-consulting"}
    values.update(kw)
    return LineItem(**values)


def payable(*lines: LineItem, **kw) -> PayableDoc:
    values = {
        "id": "p1",
        "status": "waiting_to_be_paid",
        "currency": "GBP",
        "counterpart": ACME,
        "issue_date": dt.date(2024, 5, 1),
        "line_items": list(lines),
    }
    values.update(kw)
    return PayableDoc(**values)


def product(**kw) -> Product:
    values = {"id": "prod-1", "name": "Consulting day", "ledger_account_id": "la-sales"}
    values.update(kw)
    return Product(**values)


def receivable(*lines: LineItem, **kw) -> ReceivableDoc:
    values = {
        "id": "r1",
        "status": "issued",
        "currency": "GBP",
        "counterpart": ACME,
        "issue_date": dt.date(2024, 5, 1),
        "line_items": list(lines),
    }
    values.update(kw)
    return ReceivableDoc(**values)


def invoice_line(**kw) -> LineItem:
    values = {"quantity": Decimal(2), "unit_price": 50000, "product": product()}
    values.update(kw)
    return LineItem(**values)


def codes(validation) -> list[tuple[str, int | None, str | None]]:
    return [(p.code, p.line, p.field) for p in validation.problems]


# --- payables -------------------------------------------------------------------------------


def test_valid_payable_resolves_each_line_to_provider_ids(ctx):
    validation = validate_payable(
        payable(
            bill_line(accounting_tax_rate_id="tr-in20", tax_rate=2000),
            bill_line(tax_rate=500),
        ),
        ctx,
    )
    assert validation.ok
    assert validation.lines == [
        ResolvedLine(line=1, account_id="acc-consulting", tax_rate_id="INPUT2", tax_rate=2000),
        ResolvedLine(line=2, account_id="acc-consulting", tax_rate_id="RRINPUT", tax_rate=500),
    ]


def test_payable_reports_every_problem_with_its_line(ctx):
    doc = payable(
        bill_line(ledger_account_id="la-office", accounting_tax_rate_id="tr-in20"),
        bill_line(ledger_account_id=None, tax_rate=2000),
        bill_line(ledger_account_id="la-gone", accounting_tax_rate_id="tr-gone"),
        bill_line(tax_rate=None),
        counterpart=None,
        issue_date=None,
    )
    validation = validate_payable(doc, ctx)
    assert codes(validation) == [
        ("counterpart_missing", None, "counterpart_id"),
        ("issue_date_missing", None, "issue_date"),
        ("ledger_account_archived", 1, "ledger_account_id"),
        ("ledger_account_missing", 2, "ledger_account_id"),
        ("tax_rate_ambiguous", 2, "tax_rate"),
        ("ledger_account_not_found", 3, "ledger_account_id"),
        ("tax_rate_not_found", 3, "accounting_tax_rate_id"),
        ("tax_rate_missing", 4, "accounting_tax_rate_id"),
    ]
    messages = [p.message for p in validation.problems]
    assert messages[2] == (
        "line 1: ledger account 'Office supplies' is archived in the accounting system; "
        "choose an active one"
    )
    assert messages[5].startswith("line 3: ledger account la-gone is not in the accounting")
    assert messages[6].startswith("line 3: tax rate tr-gone is not in the accounting system")
    # the lines that did resolve keep their ids for the mapper
    assert validation.lines[0] == ResolvedLine(line=1, tax_rate_id="INPUT2", tax_rate=2000)


def test_payable_without_lines(ctx):
    validation = validate_payable(payable(), ctx)
    assert codes(validation) == [("line_items_missing", None, "line_items")]
    assert validation.lines == []


def test_unknown_currency_is_a_problem(ctx):
    validation = validate_payable(payable(bill_line(tax_rate=500), currency="GBX"), ctx)
    assert codes(validation) == [("currency_unknown", None, "currency")]


def test_unlinked_counterpart_needs_a_name_to_be_created(ctx):
    nameless = Counterpart(id="c2", name=" ")
    validation = validate_payable(payable(bill_line(tax_rate=500), counterpart=nameless), ctx)
    assert codes(validation) == [("counterpart_name_missing", None, "counterpart_id")]
    linked = Counterpart(id="c2", name="", provider_id="sup-2")
    assert validate_payable(payable(bill_line(tax_rate=500), counterpart=linked), ctx).ok


def test_payables_have_no_default_tax_rate(ctx):
    validation = validate_payable(payable(bill_line()), ctx)
    assert codes(validation) == [("tax_rate_missing", 1, "accounting_tax_rate_id")]


# --- tax rate resolution by value -------------------------------------------------------------


def test_tax_rate_by_value_exactly_one(ctx):
    validation = validate_payable(payable(bill_line(tax_rate=0)), ctx)
    assert validation.ok
    assert validation.lines[0].tax_rate_id == "ZERORATED"


def test_tax_rate_by_value_zero_matches_names_the_rate(ctx):
    validation = validate_payable(payable(bill_line(tax_rate=750)), ctx)
    (problem,) = validation.problems
    assert (problem.code, problem.line, problem.field) == ("tax_rate_no_match", 1, "tax_rate")
    assert problem.message == (
        "line 1: the accounting system has no active tax rate of 7.5%; set accounting_tax_rate_id"
    )


def test_tax_rate_by_value_several_matches_names_them(ctx):
    validation = validate_payable(payable(bill_line(tax_rate=2000)), ctx)
    (problem,) = validation.problems
    assert problem.code == "tax_rate_ambiguous"
    assert problem.message == (
        "line 1: the accounting system has 2 tax rates of 20% ('20% (VAT on Expenses)', "
        "'20% (VAT on Income)'); set accounting_tax_rate_id to choose one"
    )
    assert validation.lines[0].tax_rate_id is None


def test_archived_rates_are_not_matched_by_value(ctx):
    validation = validate_payable(payable(bill_line(tax_rate=1250)), ctx)
    assert codes(validation) == [("tax_rate_no_match", 1, "tax_rate")]


def test_chosen_tax_rate_wins_over_value_matching(ctx):
    validation = validate_payable(
        payable(bill_line(tax_rate=2000, accounting_tax_rate_id="tr-out20")), ctx
    )
    assert validation.ok
    assert validation.lines[0].tax_rate_id == "OUTPUT2"


def test_line_tax_disagreeing_with_its_chosen_rate_is_a_problem(ctx):
    """20% of tax coded to the zero rate: the accounting system would book it at 0%."""
    validation = validate_payable(
        payable(
            bill_line(tax_rate=2000, accounting_tax_rate_id="tr-0"),
            bill_line(tax_rate=500, accounting_tax_rate_id="tr-5"),
        ),
        ctx,
    )
    assert codes(validation) == [("tax_rate_mismatch", 1, "tax_rate")]
    assert "20% but tax rate 'No VAT' is 0%" in validation.problems[0].message
    invoice = receivable(invoice_line(tax_rate=0, accounting_tax_rate_id="tr-out20"))
    assert codes(validate_receivable(invoice, ctx)) == [("tax_rate_mismatch", 1, "tax_rate")]


def test_chosen_archived_tax_rate_is_a_problem(ctx):
    validation = validate_payable(payable(bill_line(accounting_tax_rate_id="tr-old")), ctx)
    (problem,) = validation.problems
    assert (problem.code, problem.line) == ("tax_rate_archived", 1)
    assert "'12.5% (old)' is archived" in problem.message


def test_line_without_own_rate_takes_the_resolved_rates_value(ctx):
    validation = validate_payable(payable(bill_line(accounting_tax_rate_id="tr-5")), ctx)
    assert validation.lines[0].tax_rate == 500


def test_format_rate():
    assert [format_rate(r) for r in (2000, 1250, 5, 0, 775)] == [
        "20%",
        "12.5%",
        "0.05%",
        "0%",
        "7.75%",
    ]


# --- receivables ----------------------------------------------------------------------------


def test_valid_receivable_with_line_discount(ctx):
    doc = receivable(
        invoice_line(
            accounting_tax_rate_id="tr-out20", discount=Discount(amount=1000, type="percentage")
        ),
        invoice_line(tax_rate=0, discount=Discount(amount=500)),
    )
    validation = validate_receivable(doc, ctx)
    assert validation.ok
    assert [(r.account_id, r.tax_rate_id) for r in validation.lines] == [
        ("acc-sales", "OUTPUT2"),
        ("acc-sales", "ZERORATED"),
    ]


def test_invoice_level_discount_is_rejected(ctx):
    doc = receivable(invoice_line(tax_rate=0), discount=Discount(amount=1000, type="percentage"))
    (problem,) = validate_receivable(doc, ctx).problems
    assert (problem.code, problem.line, problem.field) == (
        "invoice_discount_not_supported",
        None,
        "discount",
    )
    assert "invoice-level discount" in problem.message


def test_zero_invoice_level_discount_is_ignored(ctx):
    doc = receivable(invoice_line(tax_rate=0), discount=Discount(amount=0))
    assert validate_receivable(doc, ctx).ok


def test_line_discount_larger_than_the_line_is_a_problem(ctx):
    doc = receivable(
        invoice_line(tax_rate=0, discount=Discount(amount=100001)),
        invoice_line(tax_rate=0, discount=Discount(amount=10001, type="percentage")),
        invoice_line(tax_rate=0, discount=Discount(amount=100000)),
    )
    assert codes(validate_receivable(doc, ctx)) == [
        ("discount_invalid", 1, "discount"),
        ("discount_invalid", 2, "discount"),
    ]


def test_product_without_ledger_account_uses_the_entitys_default(ctx):
    doc = receivable(invoice_line(tax_rate=0, product=product(ledger_account_id=None)))
    validation = validate_receivable(doc, ctx)
    assert validation.ok
    assert validation.lines[0].account_id == "acc-other"


def test_product_without_ledger_account_and_no_default(ctx):
    ctx.default_products_ledger_account_id = None
    doc = receivable(
        invoice_line(tax_rate=0),
        invoice_line(tax_rate=0, product=product(name="Widget", ledger_account_id=None)),
    )
    (problem,) = validate_receivable(doc, ctx).problems
    assert (problem.code, problem.line, problem.field) == (
        "ledger_account_missing",
        2,
        "product.ledger_account_id",
    )
    assert problem.message.startswith("line 2: product 'Widget' has no ledger account")


def test_archived_default_ledger_account_is_named(ctx):
    ctx.default_products_ledger_account_id = "la-office"
    doc = receivable(invoice_line(tax_rate=0, product=product(ledger_account_id=None)))
    (problem,) = validate_receivable(doc, ctx).problems
    assert (problem.code, problem.field) == (
        "ledger_account_archived",
        "default_products_ledger_account_id",
    )
    assert "'Office supplies' is archived" in problem.message


def test_entitys_default_tax_rate_when_the_line_gives_none(ctx):
    validation = validate_receivable(receivable(invoice_line()), ctx)
    assert validation.ok
    assert validation.lines[0].tax_rate_id == "OUTPUT2"
    assert validation.lines[0].tax_rate == 2000


def test_missing_default_tax_rate_is_a_problem(ctx):
    ctx.default_tax_rate_id = "tr-deleted"
    (problem,) = validate_receivable(receivable(invoice_line()), ctx).problems
    assert (problem.code, problem.line, problem.field) == (
        "tax_rate_not_found",
        1,
        "default_tax_rate_id",
    )
    assert "the entity's default tax rate tr-deleted" in problem.message


def test_receivable_reports_every_problem_at_once(ctx):
    doc = receivable(
        invoice_line(tax_rate=2000),
        invoice_line(tax_rate=300, product=product(ledger_account_id="la-office")),
        discount=Discount(amount=500),
        counterpart=None,
    )
    assert codes(validate_receivable(doc, ctx)) == [
        ("counterpart_missing", None, "counterpart_id"),
        ("invoice_discount_not_supported", None, "discount"),
        ("tax_rate_ambiguous", 1, "tax_rate"),
        ("ledger_account_archived", 2, "product.ledger_account_id"),
        ("tax_rate_no_match", 2, "tax_rate"),
    ]


# --- products -------------------------------------------------------------------------------


def test_validate_product(ctx):
    assert validate_product(product(), ctx).account_id == "acc-sales"
    assert validate_product(product(ledger_account_id=None), ctx).account_id == "acc-other"
    ctx.default_products_ledger_account_id = None
    result = validate_product(product(ledger_account_id=None), ctx)
    assert not result.ok
    assert result.problems[0].code == "ledger_account_missing"
    assert result.problems[0].line is None


def test_untaxed_line_needs_no_tax_rate_where_the_platform_keeps_none(ctx):
    untaxed_books = msgspec.structs.replace(ctx, tax_rates=[], default_tax_rate_id=None)
    validation = validate_payable(payable(bill_line()), untaxed_books)
    assert validation.ok
    bill = map_bill(payable(bill_line()), validation)
    assert "taxRateRef" not in bill["lineItems"][0]
    # a taxed line still needs a rate the platform knows
    taxed = validate_payable(payable(bill_line(tax_rate=2000)), untaxed_books)
    assert codes(taxed) == [("tax_rate_no_match", 1, "tax_rate")]


def test_untaxed_line_needs_no_tax_rate_where_every_rate_is_archived(ctx):
    archived = [msgspec.structs.replace(r, status="archived") for r in ctx.tax_rates]
    books = msgspec.structs.replace(ctx, tax_rates=archived, default_tax_rate_id=None)
    assert validate_payable(payable(bill_line()), books).ok
