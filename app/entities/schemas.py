"""Entity bodies, in Monite's shape."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from app.schemas import (
    AddressLine,
    City,
    CountryCode,
    CurrencyCode,
    Email,
    LegalName,
    Name,
    PostalCode,
    Request,
    Response,
)

EntityType = Literal["organization", "individual"]
Phone = Annotated[str, msgspec.Meta(max_length=100)]
Website = Annotated[str, msgspec.Meta(min_length=1, max_length=2083)]
TaxId = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]


class Address(Request):
    """An address; ``country`` is ISO 3166-1 alpha-2."""

    country: CountryCode
    city: City
    postal_code: PostalCode | None = None
    line1: AddressLine | None = None
    line2: AddressLine | None = None
    state: City | None = None


class Organization(Request):
    legal_name: LegalName


class Individual(Request):
    first_name: Name
    last_name: Name


class EntityCreate(Request):
    """Monite's create-entity body plus an optional ``currency`` (ISO 4217, default EUR).

    ``phone``, ``website`` and ``tax_id`` are kept, returned, and shown as the issuer on the
    entity's receivables; they are not pushed to the accounting system."""

    type: EntityType
    email: Email | None = None
    address: Address | None = None
    organization: Organization | None = None
    individual: Individual | None = None
    currency: CurrencyCode | None = None
    phone: Phone | None = None
    website: Website | None = None
    tax_id: TaxId | None = None


class EntityUpdate(Request):
    """Partial update; omitted fields keep their value."""

    email: Email | None = None
    address: Address | None = None
    organization: Organization | None = None
    individual: Individual | None = None
    currency: CurrencyCode | None = None
    phone: Phone | None = None
    website: Website | None = None
    tax_id: TaxId | None = None


class AddressOut(Response):
    country: str
    city: str
    postal_code: str | None = None
    line1: str | None = None
    line2: str | None = None
    state: str | None = None


class OrganizationOut(Response):
    legal_name: str


class IndividualOut(Response):
    first_name: str
    last_name: str


class EntityOut(Response):
    id: uuid.UUID
    type: EntityType
    status: str
    currency: str
    created_at: dt.datetime
    updated_at: dt.datetime
    email: str | None = None
    address: AddressOut | None = None
    organization: OrganizationOut | None = None
    individual: IndividualOut | None = None
    phone: str | None = None
    website: str | None = None
    tax_id: str | None = None


class LedgerAccountIds(Request):
    products: uuid.UUID | None = None


class TaxIds(Request):
    deductions: uuid.UUID | None = None


class AccountingSettings(Request):
    """Entity defaults used by push validation (Monite ``accounting`` settings)."""

    ledger_account_ids: LedgerAccountIds | None = None
    tax_ids: TaxIds | None = None


class EntitySettings(Request):
    accounting: AccountingSettings | None = None


class LedgerAccountIdsOut(Response):
    products: uuid.UUID | None


class TaxIdsOut(Response):
    deductions: uuid.UUID | None


class AccountingSettingsOut(Response):
    ledger_account_ids: LedgerAccountIdsOut
    tax_ids: TaxIdsOut


class EntitySettingsOut(Response):
    accounting: AccountingSettingsOut


UNSET = msgspec.UNSET
