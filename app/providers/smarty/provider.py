"""Smarty Accounting as an :class:`~app.providers.AccountingProvider`: an adapter.

The sync engine speaks Codat's model; Smarty is translated to it at this seam and nowhere
else (Smarty: ``../shared/reference/smarty-accounting-api.txt``):

- the provider company is the Smarty organisation (``company_id`` = ``organisation_id``);
  there is one "connection" per organisation, ``Linked`` while the tokens work;
- reads: ``accounts`` <- ``GET /accounts``, ``taxRates`` <- ``/vatrates``, ``customers`` and
  ``suppliers`` <- ``/contacts?contact_type=Customer|Supplier``, ``items`` <- ``/items``,
  ``invoices`` / ``bills`` <- ``/invoices`` / ``/bills``; each record becomes Codat's JSON
  (``raw``) and struct, so the pull, matching and the accounting routes need nothing
  Smarty-specific. Smarty has no modified date: records carry no ``modifiedDate`` and every
  pull reads every page (sorted by id ascending, at most ``MAX_PAGE_SIZE`` a page);
- queries: only the two the push engine asks: ``note~{text}`` (a document by the marker
  written in its reference: Smarty's ``search_text``) and ``{name field}="{name}"`` (a contact
  or item by exact name); anything else is refused;
- writes settle at once: a create or update answers a final :class:`PushOperation`
  (``Success`` with the record, the push key ``smarty:{data type}:{id}``); Smarty's 400 is
  raised as :class:`~app.providers.ProviderRejected` with its message as a validation error;
- documents are created idempotently by their marker (``acctsync:{synced record id}``, from
  the note into Smarty's ``reference``): a create first looks the marker up, and a document
  an earlier create of unknown outcome left behind is completed (its state) and answered;
  an invoice or bill pushed ``Submitted``/``Open``/``Paid``... is marked sent
  (``/state/sent``), a ``Void`` update is ``/state/void``, other updates a full ``PUT``.

Money stays in major units (Smarty's decimal strings); VAT rates are percent.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from app.providers.base import (
    Company,
    CompanyInfo,
    Connection,
    ConnectionStatus,
    DataStatus,
    Page,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
    PullOperation,
    PushChange,
    PushOperation,
    PushRecordRef,
)
from app.providers.codat.records import decode_object, record_type_for
from app.providers.smarty.client import SmartyClient

log = logging.getLogger("acctsync.providers.smarty")

#: Smarty's largest page (the emulator's; the reference names none).
MAX_PAGE_SIZE = 200
PLATFORM = "smarty_accounting"
MARKER = re.compile(r"acctsync:[0-9a-fA-F-]{36}")
_NAME_QUERY = re.compile(r'^(customerName|supplierName|name)="(.*)"$', re.S)
_PATHS = {
    "accounts": ("/accounts", "accounts", "account_id"),
    "taxRates": ("/vatrates", "vat_rates", "vat_id"),
    "customers": ("/contacts", "contacts", "contact_id"),
    "suppliers": ("/contacts", "contacts", "contact_id"),
    "items": ("/items", "items", "item_id"),
    "invoices": ("/invoices", "invoices", "invoice_id"),
    "bills": ("/bills", "bills", "bill_id"),
}
_NODE = {
    "customers": "contact",
    "suppliers": "contact",
    "items": "item",
    "invoices": "invoice",
    "bills": "bill",
    "accounts": "account",
    "taxRates": "vat_rate",
}
_COUNTRIES = {
    "uk": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "england": "GB",
    "ireland": "IE",
    "united states": "US",
    "usa": "US",
    "australia": "AU",
    "germany": "DE",
    "france": "FR",
    "netherlands": "NL",
}
_INVOICE_STATUS = {
    "Draft": "Draft",
    "Sent": "Submitted",
    "Overdue": "Submitted",
    "Partialpaid": "PartiallyPaid",
    "Paid": "Paid",
    "Void": "Void",
}
_BILL_STATUS = {
    "Draft": "Draft",
    "Sent": "Open",
    "Overdue": "Open",
    "Partialpaid": "PartiallyPaid",
    "Paid": "Paid",
    "Void": "Void",
}
_ACCOUNT_TYPE = {
    "REVENUE": "Income",
    "OTHER INCOME": "Income",
    "DIRECT COSTS": "Expense",
    "EXPENSE": "Expense",
    "BANK": "Asset",
    "CURRENT ASSET": "Asset",
    "FIXED ASSET": "Asset",
    "CURRENT LIABILITY": "Liability",
    "LIABILITY": "Liability",
    "EQUITY": "Equity",
}


def country_code(value: str | None) -> str | None:
    """ISO 3166 alpha-2 for Smarty's country text (``UK``, ``United Kingdom`` -> ``GB``)."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 2 and text.upper() != "UK":
        return text.upper()
    return _COUNTRIES.get(text.lower(), text)


def _dec(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _day(value: Any) -> str | None:
    return f"{value}T00:00:00Z" if value else None


def _str_id(value: Any) -> str | None:
    return None if value in (None, "", 0) else str(value)


# ---- Smarty -> Codat ----------------------------------------------------------------------


def to_codat(data_type: str, r: Mapping[str, Any], vat_ids: Mapping[str, str]) -> dict[str, Any]:
    """A Smarty record as Codat's JSON for ``data_type`` (``vat_ids``: VAT name -> id)."""
    meta = {"isDeleted": False}
    if data_type == "accounts":
        status = "Active" if r.get("account_status", "Valid") == "Valid" else "Archived"
        parent = str(r.get("parent_account_type") or "").upper()
        return {
            "id": str(r["account_id"]),
            "nominalCode": r.get("account_code"),
            "name": r.get("account_name"),
            "description": r.get("account_description") or None,
            "fullyQualifiedCategory": f"{r.get('parent_account_type')}.{r.get('account_type')}",
            "fullyQualifiedName": r.get("account_name_formatted"),
            "currency": r.get("currency"),
            "currentBalance": _dec(r.get("ytd")),
            "type": _ACCOUNT_TYPE.get(parent, "Unknown"),
            "status": status,
            "isBankAccount": parent == "BANK",
            "metadata": meta,
        }
    if data_type == "taxRates":
        rate = _dec(r.get("vat_rate"))
        return {
            "id": str(r["vat_id"]),
            "code": r.get("vat_name"),
            "name": r.get("vat_name"),
            "effectiveTaxRate": rate,
            "totalTaxRate": rate,
            "status": "Active",
            "components": [{"name": r.get("vat_name"), "rate": rate, "isCompound": False}],
            "metadata": meta,
        }
    if data_type in ("customers", "suppliers"):
        person = f"{r.get('first_name') or ''} {r.get('last_name') or ''}".strip()
        name_field = "customerName" if data_type == "customers" else "supplierName"
        address = {
            "type": "Billing",
            "line1": r.get("address_line1") or None,
            "line2": r.get("address_line2") or None,
            "city": r.get("contact_city") or None,
            "region": r.get("contact_state") or None,
            "country": country_code(r.get("contact_country")),
            "postalCode": r.get("contact_postcode") or None,
        }
        return {
            "id": str(r["contact_id"]),
            name_field: r.get("display_name"),
            "contactName": person or None,
            "emailAddress": r.get("email") or None,
            "phone": r.get("business_phone") or r.get("mobile") or r.get("home_phone") or None,
            "addresses": [address] if any(v for k, v in address.items() if k != "type") else [],
            "status": "Active",
            "defaultCurrency": r.get("contact_currency") or None,
            "metadata": meta,
        }
    if data_type == "items":

        def side(prefix: str) -> dict[str, Any]:
            vat = r.get(f"{prefix}_vat")
            return {
                "description": r.get(f"{prefix}_description") or None,
                "unitPrice": _dec(r.get(f"{prefix}_price")),
                "accountRef": {"id": _str_id(r.get(f"{prefix}_account_id"))},
                "taxRateRef": {"id": vat_ids.get(vat), "name": vat} if vat else None,
            }

        item_type = r.get("item_type")
        return {
            "id": str(r["item_id"]),
            "name": r.get("item_name"),
            "itemStatus": "Active",
            "type": "Service"
            if item_type in ("Service", "Labour (CIS)")
            else ("Inventory" if r.get("track_inventory") else "NonInventory"),
            "isBillItem": bool(r.get("purchase_account_id")),
            "billItem": side("purchase"),
            "isInvoiceItem": bool(r.get("sale_account_id")),
            "invoiceItem": side("sale"),
            "metadata": meta,
        }
    lines = []
    for line in r.get("items") or []:
        quantity, price = _dec(line.get("quantity")) or Decimal(1), _dec(line.get("price"))
        vat = line.get("vat")
        lines.append(
            {
                "description": line.get("description") or None,
                "unitAmount": price,
                "quantity": quantity,
                "discountAmount": _dec(line.get("discount")),
                "subTotal": quantity * price if price is not None else None,
                "accountRef": {"id": _str_id(line.get("account_id"))},
                "taxRateRef": {"id": vat_ids.get(vat), "name": vat} if vat else None,
                "itemRef": {"id": _str_id(line.get("item_id"))} if line.get("item_id") else None,
            }
        )
    common = {
        "issueDate": _day(r.get("date")),
        "dueDate": _day(r.get("due_date")),
        "currency": r.get("currency"),
        "currencyRate": _dec(r.get("exchange_rate")),
        "lineItems": lines,
        "subTotal": _dec(r.get("subtotal")),
        "totalAmount": _dec(r.get("total")),
        "amountDue": _dec(r.get("balance")),
        "note": " ".join(x for x in (r.get("customer_note"), r.get("reference")) if x) or None,
        "metadata": meta,
    }
    holder = r.get("display_name") or r.get("contact_name")
    if data_type == "invoices":
        return {
            "id": str(r["invoice_id"]),
            "invoiceNumber": r.get("invoice_number"),
            "customerRef": {"id": str(r["contact_id"]), "companyName": holder},
            "status": _INVOICE_STATUS.get(r.get("state") or "", "Unknown"),
            "totalTaxAmount": _dec(r.get("tax")),
            **common,
        }
    return {
        "id": str(r["bill_id"]),
        "reference": r.get("bill_number"),
        "supplierRef": {"id": str(r["contact_id"]), "supplierName": holder},
        "status": _BILL_STATUS.get(r.get("state") or "", "Unknown"),
        "taxAmount": _dec(r.get("tax")),
        **common,
    }


_ENCODER = msgspec.json.Encoder(decimal_format="number")


# ---- Codat -> Smarty ----------------------------------------------------------------------


def _contact_body(data_type: str, p: Mapping[str, Any]) -> dict[str, Any]:
    name = p.get("customerName" if data_type == "customers" else "supplierName") or ""
    address = (p.get("addresses") or [{}])[0] or {}
    return {
        "display_name": str(name)[:200],
        "contact_type": "Customer" if data_type == "customers" else "Supplier",
        "company_name": name,
        "email": p.get("emailAddress") or "",
        "business_phone": p.get("phone") or "",
        "contact_currency": p.get("defaultCurrency") or "",
        "address_line1": address.get("line1") or "",
        "address_line2": address.get("line2") or "",
        "contact_city": address.get("city") or "",
        "contact_state": address.get("region") or "",
        "contact_postcode": address.get("postalCode") or "",
        "contact_country": address.get("country") or "",
    }


def _item_body(p: Mapping[str, Any], vat_names: Mapping[str, str]) -> dict[str, Any]:
    sale = p.get("invoiceItem") or {}
    purchase = p.get("billItem") or {}
    body: dict[str, Any] = {
        "item_name": p.get("name") or "",
        "item_type": "Service" if p.get("type") == "Service" else "Goods",
    }
    for prefix, side in (("sale", sale), ("purchase", purchase)):
        if not side:
            continue
        body[f"{prefix}_description"] = side.get("description") or ""
        if side.get("unitPrice") is not None:
            body[f"{prefix}_price"] = str(side["unitPrice"])
        body[f"{prefix}_account_id"] = (side.get("accountRef") or {}).get("id")
        tax_id = (side.get("taxRateRef") or {}).get("id")
        if tax_id:
            body[f"{prefix}_vat"] = vat_names.get(str(tax_id), "")
    return body


def _date_only(value: Any) -> str:
    return str(value or "")[:10]


def _document_body(
    data_type: str, p: Mapping[str, Any], vat_names: Mapping[str, str]
) -> dict[str, Any]:
    note = str(p.get("note") or "")
    found = MARKER.search(note)
    marker = found.group(0) if found else ""
    customer_note = MARKER.sub("", note).replace("[]", "").strip()
    ref = p.get("customerRef" if data_type == "invoices" else "supplierRef") or {}
    lines = []
    for line in p.get("lineItems") or []:
        tax_id = (line.get("taxRateRef") or {}).get("id")
        lines.append(
            {
                "item_id": (line.get("itemRef") or {}).get("id"),
                "description": line.get("description") or "",
                "account_id": (line.get("accountRef") or {}).get("id"),
                "quantity": str(line.get("quantity") if line.get("quantity") is not None else 1),
                "price": str(line.get("unitAmount") if line.get("unitAmount") is not None else 0),
                "discount": str(line["discountAmount"]) if line.get("discountAmount") else "",
                "discount_type": "",
                "vat": vat_names.get(str(tax_id), "") if tax_id else "",
            }
        )
    issued = _date_only(p.get("issueDate"))
    body: dict[str, Any] = {
        "date": issued,
        "due_date": _date_only(p.get("dueDate")) or issued,
        "contact_id": ref.get("id"),
        "reference": marker,
        "currency": p.get("currency"),
        "exchange_rate": str(p.get("currencyRate") or "1"),
        "tax_mode": "Exclusive",
        "customer_note": customer_note,
        "items": lines,
    }
    number = p.get("invoiceNumber" if data_type == "invoices" else "reference")
    if data_type == "invoices":
        body["invoice_number"] = number or ""
        body["auto_number_creation"] = not number
    else:
        body["bill_number"] = number or ""
    return body


def _wants_sent(status: str | None) -> bool:
    return status not in (None, "", "Draft", "Void")


class SmartyProvider:
    """Smarty Accounting behind the :class:`~app.providers.AccountingProvider` protocol for
    one connection (see the module doc). ``client`` makes the calls with the connection's
    tokens. Flags the sync engine reads: ``supports_webhooks``, ``supports_modified_since``,
    ``idempotency_keys`` (all False) and :meth:`finds_own_creates`."""

    platform = PLATFORM
    supports_webhooks = False
    supports_modified_since = False
    idempotency_keys = False

    def __init__(self, client: SmartyClient, organisation_id: str | None = None) -> None:
        self.client = client
        self.organisation_id = organisation_id
        self._vat_ids: dict[str, str] | None = None  # VAT name -> id

    def __repr__(self) -> str:
        return f"SmartyProvider(organisation {self.organisation_id})"

    @staticmethod
    def finds_own_creates(data_type: str) -> bool:
        """True where a create is idempotent by itself (documents, by their marker): the
        engine need not look before repeating it."""
        return data_type in ("invoices", "bills")

    # ---- organisations (companies) and the connection -------------------------------------

    async def list_organisations(self) -> list[dict[str, Any]]:
        """The organisations the user is in (``GET /organisations``)."""
        body = await self.client.request("GET", "/organisations", None)
        return list(body.get("organisations") or [])

    async def create_company(
        self, name: str, *, description: str | None = None, idempotency_key: str | None = None
    ) -> Company:
        """Smarty organisations are the user's; the service creates none."""
        raise ProviderRejected("Smarty Accounting: organisations are not created by the service")

    async def get_company(self, company_id: str) -> Company:
        """The organisation ``company_id``; ProviderNotFound when the user is not in it."""
        for org in await self.list_organisations():
            if str(org.get("organisation_id")) == str(company_id):
                return Company(
                    id=str(company_id),
                    name=org.get("name"),
                    platform=PLATFORM,
                    data_connections=[self._connection(str(company_id))],
                )
        raise ProviderNotFound(
            f"Smarty organisation {company_id} is not the user's", status_code=404
        )

    async def get_company_info(self, company_id: str) -> CompanyInfo:
        """The organisation's name and base currency (``GET /organisations/{id}``, falling
        back to the list when the single read is refused)."""
        try:
            body = await self.client.request("GET", f"/organisations/{company_id}", company_id)
            org = body.get("organisation") or {}
        except ProviderNotFound:
            org = {}
        if not org:
            listed = [
                o
                for o in await self.list_organisations()
                if str(o.get("organisation_id")) == str(company_id)
            ]
            if not listed:
                raise ProviderNotFound(
                    f"Smarty organisation {company_id} is not the user's", status_code=404
                )
            org = listed[0]
        return CompanyInfo(
            company_name=org.get("name"),
            base_currency=org.get("currency") or None,
            registration_number=org.get("register_number") or None,
            tax_number=org.get("vat_number") or None,
        )

    def _connection(self, company_id: str, status: str = ConnectionStatus.LINKED) -> Connection:
        return Connection(
            id=company_id,
            integration_key=PLATFORM,
            platform_name="Smarty Accounting",
            status=status,
            source_type="Accounting",
        )

    async def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> Connection:
        """Connections are made with the user's credentials (``app.providers.smarty.connect``)."""
        raise ProviderRejected("Smarty Accounting connections are made with the user's credentials")

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        await self.get_company(company_id)
        return self._connection(company_id)

    async def list_connections(self, company_id: str) -> list[Connection]:
        await self.get_company(company_id)
        return [self._connection(company_id)]

    async def unlink_connection(
        self, company_id: str, connection_id: str, *, idempotency_key: str | None = None
    ) -> Connection:
        """Smarty has no unlink call: the service forgets the tokens."""
        return self._connection(company_id, ConnectionStatus.UNLINKED)

    async def queue_refresh(
        self,
        company_id: str,
        data_type: str,
        *,
        connection_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> PullOperation:
        """Nothing to queue: reads are live. A completed operation."""
        now = datetime.now(UTC)
        return PullOperation(
            id=str(uuid.uuid4()),
            company_id=company_id,
            data_type=data_type,
            status="Complete",
            requested=now,
            completed=now,
            progress=100,
            is_completed=True,
            is_errored=False,
        )

    async def get_data_status(self, company_id: str) -> dict[str, DataStatus]:
        """Every data type is live (``Complete``)."""
        return {d: DataStatus(data_type=d, current_status="Complete") for d in _PATHS}

    # ---- reads ---------------------------------------------------------------------------

    async def _vat(self, company_id: str, refresh: bool = False) -> dict[str, str]:
        if self._vat_ids is None or refresh:
            ids: dict[str, str] = {}
            page = 1
            while True:
                body = await self.client.request(
                    "GET",
                    "/vatrates",
                    company_id,
                    params={
                        "page_number": page,
                        "page_size": MAX_PAGE_SIZE,
                        "sort_column": "vat_id",
                        "sort_type": "asc",
                    },
                )
                for rate in body.get("vat_rates") or []:
                    ids[str(rate.get("vat_name"))] = str(rate.get("vat_id"))
                setting = body.get("page_setting") or {}
                if page * MAX_PAGE_SIZE >= int(setting.get("total") or 0):
                    break
                page += 1
            self._vat_ids = ids
        return self._vat_ids

    async def _vat_names(self, company_id: str, ids: set[str]) -> dict[str, str]:
        found = await self._vat(company_id)
        if not ids <= set(found.values()):
            found = await self._vat(company_id, refresh=True)
        missing = ids - set(found.values())
        if missing:
            raise ProviderRejected(
                f"Smarty has no VAT rate {', '.join(sorted(missing))}", status_code=400
            )
        return {v: k for k, v in found.items()}

    async def get_page(
        self,
        company_id: str,
        data_type: str,
        *,
        page: int = 1,
        page_size: int | None = None,
        modified_since: datetime | None = None,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[Any]:
        """A page of a data type in Codat's shape. ``modified_since`` cannot be asked of
        Smarty: every record is returned (a superset; the caller's content hash skips the
        unchanged). ``query``: see the module doc; others raise ProviderRejected."""
        if data_type not in _PATHS:
            raise ProviderNotFound(f"Smarty has no data type {data_type}", status_code=404)
        path, node, id_field = _PATHS[data_type]
        size = max(1, min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE))
        params: dict[str, Any] = {
            "page_number": page,
            "page_size": size,
            "sort_column": id_field,
            "sort_type": "asc",
        }
        if data_type in ("customers", "suppliers"):
            params["contact_type"] = "Customer" if data_type == "customers" else "Supplier"
        keep = None
        if query:
            params["page_number"], params["page_size"] = 1, MAX_PAGE_SIZE
            keep = self._query_filter(data_type, query, params)
        body = await self.client.request("GET", path, company_id, params=params)
        rows = [r for r in body.get(node) or [] if isinstance(r, dict)]
        if data_type == "taxRates" and self._vat_ids is not None:
            # the pull reads VAT rates before items and documents: keep the names current
            self._vat_ids.update({str(r.get("vat_name")): str(r.get("vat_id")) for r in rows})
        if keep is not None:
            rows = [r for r in rows if keep(r)]
        setting = body.get("page_setting") or {}
        total = int(setting.get("total") or len(rows))
        vat_ids = await self._vat(company_id) if data_type in ("items", "invoices", "bills") else {}
        tp = record_type_for(data_type)
        records, raws = [], []
        for row in rows:
            raw = msgspec.Raw(_ENCODER.encode(to_codat(data_type, row, vat_ids)))
            records.append(decode_object(tp, raw))
            raws.append(raw)
        has_next = keep is None and page * size < total
        return Page(
            data_type=data_type,
            records=records,
            raw=raws,
            page_number=page,
            page_size=size,
            total_results=total if keep is None else len(records),
            has_next=has_next,
        )

    @staticmethod
    def _query_filter(data_type: str, query: str, params: dict[str, Any]) -> Any:
        if query.startswith("note~") and data_type in ("invoices", "bills"):
            text = query[len("note~") :].strip()
            params["search_text"] = text
            return lambda r: text in str(r.get("reference") or "")
        match = _NAME_QUERY.match(query)
        if match:
            name = match.group(2)
            params["search_text"] = name
            field = "item_name" if data_type == "items" else "display_name"
            return lambda r: r.get(field) == name
        raise ProviderRejected(f"Smarty Accounting cannot filter by {query!r}", status_code=400)

    async def iter_pages(
        self,
        company_id: str,
        data_type: str,
        *,
        modified_since: datetime | None = None,
        query: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        start_page: int = 1,
    ) -> AsyncIterator[Page[Any]]:
        """Pages from ``start_page`` until one has no next."""
        page_no = start_page
        while True:
            page = await self.get_page(
                company_id,
                data_type,
                page=page_no,
                page_size=page_size,
                modified_since=modified_since,
                query=query,
            )
            yield page
            if not page.has_next:
                return
            page_no += 1

    async def get_record(self, company_id: str, data_type: str, record_id: str) -> Any:
        """One record in Codat's shape; ProviderNotFound when Smarty has none."""
        if data_type not in _PATHS:
            raise ProviderNotFound(f"Smarty has no data type {data_type}", status_code=404)
        body = await self.client.request("GET", f"{_PATHS[data_type][0]}/{record_id}", company_id)
        row = body.get(_NODE[data_type])
        if not isinstance(row, dict):
            raise ProviderNotFound(f"{data_type} {record_id} was not found", status_code=404)
        vat_ids = await self._vat(company_id) if data_type in ("items", "invoices", "bills") else {}
        return decode_object(
            record_type_for(data_type), _ENCODER.encode(to_codat(data_type, row, vat_ids))
        )

    # ---- writes --------------------------------------------------------------------------

    def _done(
        self,
        company_id: str,
        data_type: str,
        row: Mapping[str, Any],
        kind: str,
        vat_ids: Mapping[str, str],
    ) -> PushOperation:
        data = msgspec.json.decode(_ENCODER.encode(to_codat(data_type, row, vat_ids)))
        now = datetime.now(UTC)
        return PushOperation(
            push_operation_key=f"smarty:{data_type}:{data['id']}",
            company_id=company_id,
            data_connection_key=company_id,
            data_type=data_type,
            status="Success",
            requested_on_utc=now,
            completed_on_utc=now,
            status_code=200,
            changes=[
                PushChange(type=kind, record_ref=PushRecordRef(id=data["id"], data_type=data_type))
            ],
            data=data,
        )

    async def _body(self, company_id: str, data_type: str, payload: Any) -> dict[str, Any]:
        p = msgspec.to_builtins(payload) if isinstance(payload, msgspec.Struct) else dict(payload)
        p = msgspec.json.decode(_ENCODER.encode(p))  # Decimals and dates as JSON values
        if data_type in ("customers", "suppliers"):
            return _contact_body(data_type, p)
        tax_ids = {
            str((side.get("taxRateRef") or {}).get("id"))
            for side in (
                p.get("invoiceItem") or {},
                p.get("billItem") or {},
                *(p.get("lineItems") or []),
            )
            if (side.get("taxRateRef") or {}).get("id")
        }
        names = await self._vat_names(company_id, tax_ids) if tax_ids else {}
        if data_type == "items":
            return _item_body(p, names)
        body = _document_body(data_type, p, names)
        body["_status"] = p.get("status")
        return body

    async def _ensure_state(
        self, company_id: str, data_type: str, row: dict[str, Any], status: str | None
    ) -> dict[str, Any]:
        """Mark a document sent (or void) when the pushed status asks for it. A state change
        is idempotent here (the state is read again before it is repeated), so a lost answer
        is retried in place."""
        path, _, id_field = _PATHS[data_type]
        target = "void" if status == "Void" else ("sent" if _wants_sent(status) else None)
        if target is None:
            return row
        done = {"sent": ("Sent", "Overdue", "Partialpaid", "Paid"), "void": ("Void",)}[target]
        attempt = 0
        while row.get("state") not in done:
            attempt += 1
            try:
                body = await self.client.request(
                    "GET", f"{path}/{row[id_field]}/state/{target}", company_id, write=True
                )
                return body.get(_NODE[data_type]) or row
            except (ProviderRejected, ProviderUnavailable) as exc:
                if isinstance(exc, ProviderNotFound) or attempt >= self.client.max_attempts:
                    raise
                if isinstance(exc, ProviderUnavailable):
                    await self.client.pause(attempt, exc.retry_after)
                # a change whose answer was lost may have landed: read the state again
                fresh = await self.client.request("GET", f"{path}/{row[id_field]}", company_id)
                row = fresh.get(_NODE[data_type]) or row
                if isinstance(exc, ProviderRejected) and row.get("state") not in done:
                    raise
        return row

    async def _put(self, company_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A full replace (``PUT``): repeating it is harmless, so a lost answer is retried."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.client.request("PUT", path, company_id, json=body)
            except ProviderUnavailable as exc:
                if attempt >= self.client.max_attempts:
                    raise
                await self.client.pause(attempt, exc.retry_after)

    async def _create_document(
        self, company_id: str, data_type: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Create an invoice or bill at most once: look its marker up first, and after a
        create whose outcome is unknown (5xx, 504, a lost connection) look again before
        repeating it."""
        path, _, id_field = _PATHS[data_type]
        marker = body.get("reference") or ""
        attempt = 0
        while True:
            attempt += 1
            try:
                if marker:
                    found = await self._by_marker(company_id, data_type, marker)
                    if found is not None:
                        log.info("smarty: %s %s found by its marker", data_type, found[id_field])
                        return found
                answer = await self.client.request("POST", path, company_id, json=body)
            except ProviderUnavailable as exc:
                if not marker or attempt >= self.client.max_attempts:
                    raise
                await self.client.pause(attempt, exc.retry_after)
                continue
            row = answer.get(_NODE[data_type])
            if not isinstance(row, dict):
                raise ProviderRejected("Smarty answered a create without the record")
            return row

    async def _by_marker(self, company_id: str, data_type: str, marker: str) -> dict | None:
        path, node, _ = _PATHS[data_type]
        body = await self.client.request(
            "GET",
            path,
            company_id,
            params={
                "page_number": 1,
                "page_size": MAX_PAGE_SIZE,
                "search_text": marker,
                "sort_column": _PATHS[data_type][2],
                "sort_type": "asc",
            },
        )
        found = [r for r in body.get(node) or [] if marker in str(r.get("reference") or "")]
        return found[0] if found else None

    async def push_create(
        self,
        company_id: str,
        connection_id: str,
        data_type: str,
        payload: Mapping[str, Any] | msgspec.Struct,
        *,
        idempotency_key: str | None = None,
        timeout_in_minutes: int | None = None,
    ) -> PushOperation:
        """Create a record; a final operation (see the module doc). Raises ProviderRejected
        (Smarty's 400, with its message), ProviderUnavailable (the outcome of the create is
        unknown: look before repeating it; documents do so themselves)."""
        if data_type not in ("customers", "suppliers", "items", "invoices", "bills"):
            raise ProviderNotFound(f"Smarty cannot create {data_type}", status_code=404)
        body = await self._body(company_id, data_type, payload)
        status = body.pop("_status", None)
        path, _, _ = _PATHS[data_type]
        if data_type in ("invoices", "bills"):
            row = await self._create_document(company_id, data_type, body)
            row = await self._ensure_state(company_id, data_type, row, status)
        else:
            answer = await self.client.request("POST", path, company_id, json=body)
            row = answer.get(_NODE[data_type])
            if not isinstance(row, dict):
                raise ProviderRejected("Smarty answered a create without the record")
        vat_ids = (
            await self._vat(company_id)
            if data_type != "customers" and data_type != "suppliers"
            else {}
        )
        return self._done(company_id, data_type, row, "Created", vat_ids)

    async def push_update(
        self,
        company_id: str,
        connection_id: str,
        data_type: str,
        record_id: str,
        payload: Mapping[str, Any] | msgspec.Struct,
        *,
        idempotency_key: str | None = None,
        timeout_in_minutes: int | None = None,
        force_update: bool = False,
    ) -> PushOperation:
        """Replace a record (``PUT``); a document pushed ``Void`` is voided
        (``/state/void``) instead. Safe to repeat."""
        if data_type not in ("customers", "suppliers", "items", "invoices", "bills"):
            raise ProviderNotFound(f"Smarty cannot update {data_type}", status_code=404)
        body = await self._body(company_id, data_type, payload)
        status = body.pop("_status", None)
        path, _, _ = _PATHS[data_type]
        if data_type in ("invoices", "bills"):
            current = (await self.client.request("GET", f"{path}/{record_id}", company_id)).get(
                _NODE[data_type]
            ) or {}
            if status == "Void" or current.get("state") == "Void":
                row = await self._ensure_state(company_id, data_type, current, "Void")
                return self._done(
                    company_id, data_type, row, "Modified", await self._vat(company_id)
                )
            if current.get("state") not in ("Void", "Paid"):
                answer = await self._put(company_id, f"{path}/{record_id}", body)
                current = answer.get(_NODE[data_type]) or current
            row = await self._ensure_state(company_id, data_type, current, status)
            return self._done(company_id, data_type, row, "Modified", await self._vat(company_id))
        answer = await self._put(company_id, f"{path}/{record_id}", body)
        row = answer.get(_NODE[data_type])
        if not isinstance(row, dict):
            raise ProviderRejected("Smarty answered an update without the record")
        vat_ids = await self._vat(company_id) if data_type == "items" else {}
        return self._done(company_id, data_type, row, "Modified", vat_ids)

    async def get_push_operation(self, company_id: str, push_operation_key: str) -> PushOperation:
        """Writes settle at once: the key names the record it wrote (``smarty:{type}:{id}``).
        ProviderNotFound for any other key."""
        parts = push_operation_key.split(":")
        if len(parts) != 3 or parts[0] != "smarty" or parts[1] not in _PATHS:
            raise ProviderNotFound(f"no push operation {push_operation_key}", status_code=404)
        now = datetime.now(UTC)
        return PushOperation(
            push_operation_key=push_operation_key,
            company_id=company_id,
            data_type=parts[1],
            status="Success",
            completed_on_utc=now,
            status_code=200,
            changes=[
                PushChange(
                    type="Created", record_ref=PushRecordRef(id=parts[2], data_type=parts[1])
                )
            ],
        )
