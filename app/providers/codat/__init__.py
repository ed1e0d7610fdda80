"""The Codat provider: :class:`CodatClient` (the :class:`~app.providers.AccountingProvider`
over Codat's REST API, ``client``) and Codat's data records with the decoder every page goes
through (``records``).

Public surface::

    from app.providers.codat import CodatClient, make_http_client, Customer, decode_object, ...
"""

from app.providers.codat.client import (
    DEFAULT_TIMEOUT,
    MAX_PAGE_SIZE,
    CodatClient,
    format_cursor,
    make_http_client,
)
from app.providers.codat.records import (
    RECORD_TYPES,
    Account,
    Address,
    Bill,
    BillCreditNote,
    BillPayment,
    Contact,
    CreditNote,
    Customer,
    CustomerRef,
    GenericRecord,
    Invoice,
    Item,
    ItemDetails,
    LineItem,
    Metadata,
    Payment,
    PaymentLine,
    PaymentLineLink,
    Record,
    Ref,
    Supplier,
    SupplierRef,
    TaxRate,
    TaxRateComponent,
    TaxRateRef,
    decode_object,
    decode_page,
    record_type_for,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "RECORD_TYPES",
    "Account",
    "Address",
    "Bill",
    "BillCreditNote",
    "BillPayment",
    "CodatClient",
    "Contact",
    "CreditNote",
    "Customer",
    "CustomerRef",
    "GenericRecord",
    "Invoice",
    "Item",
    "ItemDetails",
    "LineItem",
    "Metadata",
    "Payment",
    "PaymentLine",
    "PaymentLineLink",
    "Record",
    "Ref",
    "Supplier",
    "SupplierRef",
    "TaxRate",
    "TaxRateComponent",
    "TaxRateRef",
    "decode_object",
    "decode_page",
    "format_cursor",
    "make_http_client",
    "record_type_for",
]
