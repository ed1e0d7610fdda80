"""Shared data for the sync_rules unit tests: a Xero-like chart of accounts and tax rates."""

import pytest

from sync_rules import LedgerAccountRef, PushContext, TaxRateRef


@pytest.fixture
def ctx() -> PushContext:
    """A connection with Xero's usual pair of 20% rates (expenses and income), one 5% rate,
    a zero rate, an archived 12.5% rate and one archived ledger account.
    """
    return PushContext(
        ledger_accounts=[
            LedgerAccountRef(id="la-consulting", provider_id="acc-consulting", name="Consulting"),
            LedgerAccountRef(
                id="la-office", provider_id="acc-office", name="Office supplies", status="archived"
            ),
            LedgerAccountRef(id="la-sales", provider_id="acc-sales", name="Sales"),
            LedgerAccountRef(id="la-other", provider_id="acc-other", name="Other Revenue"),
        ],
        tax_rates=[
            TaxRateRef(id="tr-in20", provider_id="INPUT2", name="20% (VAT on Expenses)", rate=2000),
            TaxRateRef(id="tr-out20", provider_id="OUTPUT2", name="20% (VAT on Income)", rate=2000),
            TaxRateRef(id="tr-5", provider_id="RRINPUT", name="5% (VAT on Expenses)", rate=500),
            TaxRateRef(id="tr-0", provider_id="ZERORATED", name="No VAT", rate=0),
            TaxRateRef(
                id="tr-old", provider_id="OLD125", name="12.5% (old)", rate=1250, status="archived"
            ),
        ],
        default_products_ledger_account_id="la-other",
        default_tax_rate_id="tr-out20",
    )
