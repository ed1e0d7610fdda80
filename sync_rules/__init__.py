"""sync_rules: pure push rules, push validation and mapping to Codat payloads (no I/O).

The engine's flow for one document::

    if should_push(doc, rules):
        validation = validate_payable(doc, ctx)        # or validate_receivable
        if validation.problems: record them on the synced record (nothing is sent)
        else:
            payload = map_bill(doc, validation, supplier_id)   # or map_invoice
            send encode_payload(payload); if bill_status_plan(doc.status).void_after:
            PUT encode_payload(void_payload(payload)) once the push succeeded.

Units: money in the input is integer minor units plus an ISO 4217 code; rates are percent x 100
(20% is 2000); payloads carry Decimals in major units (`encode_payload` writes JSON numbers).

Problem codes (`Problem.code`): `currency_unknown`, `counterpart_missing`,
`counterpart_name_missing`, `issue_date_missing`, `line_items_missing`,
`invoice_discount_not_supported`, `discount_invalid`, `ledger_account_missing`,
`ledger_account_not_found`, `ledger_account_archived`, `tax_rate_missing`, `tax_rate_not_found`,
`tax_rate_archived`, `tax_rate_no_match`, `tax_rate_ambiguous`.
Rule-set problem codes (`RuleProblem.code`): `unknown_status`, `status_not_allowed`,
`duplicate_status`.

Sources: statuses, defaults and validation rules are Monite's; payload shapes and statuses are
Codat's.
"""

from ._documents import (
    Address,
    Counterpart,
    Discount,
    LedgerAccountRef,
    LineItem,
    PayableDoc,
    Product,
    PushContext,
    ReceivableDoc,
    TaxRateRef,
)
from ._mapping import (
    Payload,
    StatusPlan,
    bill_status_plan,
    encode_payload,
    invoice_status_plan,
    map_bill,
    map_customer,
    map_invoice,
    map_item,
    map_supplier,
    void_payload,
)
from ._money import (
    LineTotals,
    Totals,
    compute_totals,
    currency_precision,
    line_totals,
    to_major,
    to_minor,
)
from ._rules import (
    ALLOWED_PAYABLE_PUSH_STATUSES,
    ALLOWED_RECEIVABLE_PUSH_STATUSES,
    DEFAULT_PAYABLE_PUSH_STATUSES,
    DEFAULT_RECEIVABLE_PUSH_STATUSES,
    PAYABLE_STATUSES,
    RECEIVABLE_STATUSES,
    PushStatuses,
    RuleProblem,
    default_push_statuses,
    should_push,
    validate_push_statuses,
    validate_rules,
)
from ._validation import (
    Problem,
    ProductValidation,
    ResolvedLine,
    Validation,
    format_rate,
    validate_payable,
    validate_product,
    validate_receivable,
)

__all__ = [
    "ALLOWED_PAYABLE_PUSH_STATUSES",
    "ALLOWED_RECEIVABLE_PUSH_STATUSES",
    "DEFAULT_PAYABLE_PUSH_STATUSES",
    "DEFAULT_RECEIVABLE_PUSH_STATUSES",
    "PAYABLE_STATUSES",
    "RECEIVABLE_STATUSES",
    "Address",
    "Counterpart",
    "Discount",
    "LedgerAccountRef",
    "LineItem",
    "LineTotals",
    "PayableDoc",
    "Payload",
    "Problem",
    "Product",
    "ProductValidation",
    "PushContext",
    "PushStatuses",
    "ReceivableDoc",
    "ResolvedLine",
    "RuleProblem",
    "StatusPlan",
    "TaxRateRef",
    "Totals",
    "Validation",
    "bill_status_plan",
    "compute_totals",
    "currency_precision",
    "default_push_statuses",
    "encode_payload",
    "format_rate",
    "invoice_status_plan",
    "line_totals",
    "map_bill",
    "map_customer",
    "map_invoice",
    "map_item",
    "map_supplier",
    "should_push",
    "to_major",
    "to_minor",
    "validate_payable",
    "validate_product",
    "validate_push_statuses",
    "validate_receivable",
    "validate_rules",
    "void_payload",
]
