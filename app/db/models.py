"""All tables, in one module (DESIGN.md "Data model").

Conventions: UUID primary keys and ``created_at``/``updated_at`` (UTC) from advanced-alchemy's
``UUIDAuditBase``; every entity-scoped row carries ``entity_id`` and every query filters on it;
money is integer minor units beside an ISO 4217 ``currency``; rates are percent x 100.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import JsonB
from advanced_alchemy.types.datetime import DateTimeUTC
from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

Base = UUIDAuditBase
JSON = JsonB
TS = DateTimeUTC(timezone=True)


# --- partners ------------------------------------------------------------------------------


class Partner(Base):
    """A partner platform: owns entities; has its provider settings."""

    __tablename__ = "partners"
    name: Mapped[str] = mapped_column(String(200))


class PartnerClient(Base):
    """Client credentials of a partner (OAuth2 client_credentials)."""

    __tablename__ = "partner_clients"
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))


class RevokedToken(Base):
    """A revoked access token's ``jti``, kept until the token would have expired."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(TS)


class PartnerSettings(Base):
    """Provider settings of a partner; secrets are Fernet-encrypted (never returned)."""

    __tablename__ = "partner_settings"
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(20), default="codat")
    provider_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    webhook_authorization_encrypted: Mapped[bytes | None] = mapped_column(
        LargeBinary, nullable=True
    )


# --- entities and the partner's own objects -------------------------------------------------


class Entity(Base):
    """A partner's customer (an SMB), with its accounting settings and sync rules."""

    __tablename__ = "entities"
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    legal_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    default_products_ledger_account_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    default_deductions_tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    push_statuses: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(100), nullable=True)
    website: Mapped[str | None] = mapped_column(String(2083), nullable=True)
    tax_id: Mapped[str | None] = mapped_column(String(30), nullable=True)


class Counterpart(Base):
    """A customer and/or vendor of an entity (organization or individual)."""

    __tablename__ = "counterparts"
    __table_args__ = (Index("ix_counterparts_entity_created", "entity_id", "created_at", "id"),)
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))  # legal name, or "first last"
    legal_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_vendor: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    city: Mapped[str | None] = mapped_column(String(200), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    line1: Mapped[str | None] = mapped_column(String(300), nullable=True)
    line2: Mapped[str | None] = mapped_column(String(300), nullable=True)
    state: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: Monite's ``language`` (ISO 639-1), ``tax_id`` and ``reminders_enabled``: kept and
    #: returned (no PDFs or reminders here).
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    tax_id: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reminders_enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class CounterpartAddress(Base):
    """An address of a counterpart besides its default one (which is the counterpart's own
    address columns, see :func:`app.counterparts.addresses.default_address_id`)."""

    __tablename__ = "counterpart_addresses"
    counterpart_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("counterparts.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(32))
    line1: Mapped[str] = mapped_column(String(300))
    line2: Mapped[str | None] = mapped_column(String(300), nullable=True)
    state: Mapped[str | None] = mapped_column(String(200), nullable=True)


class MeasureUnit(Base):
    """A unit an entity measures product quantities in (Monite ``UnitResponse``: items,
    meters, kilograms). ``origin`` is ``api`` for a unit a partner created and ``pull`` for the
    stub unit a pull creates for the products it makes from accounting items
    (:func:`app.measure_units.service.stub_unit`)."""

    __tablename__ = "measure_units"
    __table_args__ = (Index("ix_measure_units_entity_created", "entity_id", "created_at", "id"),)
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    origin: Mapped[str] = mapped_column(String(10), default="api", server_default="api")


class Product(Base):
    """A product or service the entity sells; ``price`` in minor units of ``currency``."""

    __tablename__ = "products"
    __table_args__ = (Index("ix_products_entity_created", "entity_id", "created_at", "id"),)
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    type: Mapped[str] = mapped_column(String(20), default="product")
    price_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    price_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    external_reference: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ledger_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_accounts.id", ondelete="SET NULL"), nullable=True
    )
    smallest_amount: Mapped[float | None] = mapped_column(nullable=True)
    measure_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("measure_units.id", ondelete="SET NULL"), nullable=True
    )


class Payable(Base):
    """A bill the entity received; amounts in minor units of ``currency``."""

    __tablename__ = "payables"
    __table_args__ = (Index("ix_payables_entity_created", "entity_id", "created_at", "id"),)
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(30), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    counterpart_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("counterparts.id", ondelete="RESTRICT"), nullable=True
    )
    document_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    issued_at: Mapped[dt.date | None] = mapped_column(nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(nullable=True)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_due: Mapped[int] = mapped_column(BigInteger, default=0)
    partner_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    line_items: Mapped[list[PayableLineItem]] = relationship(
        back_populates="payable",
        order_by="PayableLineItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class PayableLineItem(Base):
    """A line of a payable: ``unit_price`` minor units; ``tax`` percent x 100."""

    __tablename__ = "payable_line_items"
    payable_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payables.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    quantity: Mapped[float] = mapped_column(Numeric(18, 6, asdecimal=False))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ledger_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_accounts.id", ondelete="SET NULL"), nullable=True
    )
    accounting_tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounting_tax_rates.id", ondelete="SET NULL"), nullable=True
    )
    payable: Mapped[Payable] = relationship(back_populates="line_items")


class Receivable(Base):
    """An invoice the entity issues; amounts in minor units of ``currency``."""

    __tablename__ = "receivables"
    __table_args__ = (Index("ix_receivables_entity_created", "entity_id", "created_at", "id"),)
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20), default="invoice")
    status: Mapped[str] = mapped_column(String(30), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    counterpart_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("counterparts.id", ondelete="RESTRICT"), nullable=True
    )
    document_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    memo: Mapped[str | None] = mapped_column(Text, nullable=True)
    issue_date: Mapped[dt.date | None] = mapped_column(nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(nullable=True)
    discount: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_due: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The counterpart's default address or one of its ``counterpart_addresses`` (no foreign
    #: key: the default address is not a row of that table).
    counterpart_billing_address_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    line_items: Mapped[list[ReceivableLineItem]] = relationship(
        back_populates="receivable",
        order_by="ReceivableLineItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class ReceivableLineItem(Base):
    """A line of an invoice: a product, a quantity, a tax rate, an optional discount."""

    __tablename__ = "receivable_line_items"
    receivable_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("receivables.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[float] = mapped_column(Numeric(18, 6, asdecimal=False))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accounting_tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounting_tax_rates.id", ondelete="SET NULL"), nullable=True
    )
    discount: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    receivable: Mapped[Receivable] = relationship(back_populates="line_items")


# --- accounting (provider side) ------------------------------------------------------------


class AccountingConnection(Base):
    """An entity's connection to one accounting platform through the provider."""

    __tablename__ = "accounting_connections"
    __table_args__ = (
        Index(
            "uq_accounting_connections_entity_active",
            "entity_id",
            unique=True,
            sqlite_where=text("status != 'disconnected'"),
            postgresql_where=text("status != 'disconnected'"),
        ),
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending_auth")
    provider_company_id: Mapped[str] = mapped_column(String(64), index=True)
    provider_connection_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, index=True
    )
    connection_url: Mapped[str] = mapped_column(Text)
    last_pull: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    connected_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    #: Manual syncs (``POST .../sync``) taken on ``manual_sync_day`` (UTC), for the quota.
    manual_sync_day: Mapped[dt.date | None] = mapped_column(nullable=True)
    manual_syncs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The accounting company's base currency (ISO 4217, Codat company info
    #: ``baseCurrency``), read at each pull; null until read or when the platform has none.
    base_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)


class ProviderCredential(Base):
    """A connection's own provider credentials (Smarty Accounting: its OAuth access and
    refresh tokens as one JSON value, encrypted with ``SecretBox``; never returned or
    logged); ``expires_at`` is the access token's expiry."""

    __tablename__ = "provider_credentials"
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_connections.id", ondelete="CASCADE"), unique=True
    )
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class ProviderCompany(Base):
    """The provider company created once per entity (reused by later connections)."""

    __tablename__ = "provider_companies"
    entity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), unique=True
    )
    provider_company_id: Mapped[str] = mapped_column(String(64), index=True)
    redirect_url: Mapped[str] = mapped_column(Text)


class LedgerAccount(Base):
    """A pulled chart-of-accounts entry, keyed by (connection, provider id)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_id"),
        Index("ix_ledger_accounts_conn_name", "connection_id", "name"),
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_connections.id", ondelete="CASCADE")
    )
    provider_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    nominal_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subtype: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="Active")
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    current_balance: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    is_bank_account: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_modified_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class AccountingTaxRate(Base):
    """A pulled tax rate; rates are percent x 100 (12.5% is 1250)."""

    __tablename__ = "accounting_tax_rates"
    __table_args__ = (UniqueConstraint("connection_id", "provider_id"),)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_connections.id", ondelete="CASCADE")
    )
    provider_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    effective_tax_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_tax_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    components: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_modified_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class PulledRecord(Base):
    """A pulled provider record kept as read: contacts, items and documents.

    ``data_type`` is Codat's (``customers``, ``suppliers``, ``items``, ``invoices``,
    ``bills``); ``raw`` is the record's JSON as the provider sent it. The read-only accounting
    views (``/v1/accounting/payables`` and ``/receivables``) and push-side lookups read this.
    """

    __tablename__ = "pulled_records"
    __table_args__ = (
        UniqueConstraint("connection_id", "data_type", "provider_id"),
        Index("ix_pulled_records_list", "connection_id", "data_type", "created_at", "id"),
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_connections.id", ondelete="CASCADE")
    )
    data_type: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the record's JSON as the provider sent it
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_modified_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class PullCursor(Base):
    """Per (connection, data type) incremental-pull high-water mark and last run's counts.

    ``last_run_at``: the last attempt's end; ``last_success_at``: the last successful one's;
    ``last_count`` / ``last_changed``: records read / new or changed by the last success.
    The data type's current problem, if any, is on the connection's ``errors``."""

    __tablename__ = "pull_cursors"
    __table_args__ = (UniqueConstraint("connection_id", "data_type"),)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_connections.id", ondelete="CASCADE")
    )
    data_type: Mapped[str] = mapped_column(String(32))
    modified_since: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    last_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    last_changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SyncedRecord(Base):
    """A binding: one of our objects <-> one provider record, per connection.

    Monite: object_type ``product | customer | vendor | receivable | bill``; sync_status
    ``pending | error | done``.
    """

    __tablename__ = "synced_records"
    __table_args__ = (
        UniqueConstraint("connection_id", "object_type", "object_id"),
        Index(
            "uq_synced_records_provider",
            "connection_id",
            "object_type",
            "provider_object_id",
            unique=True,
        ),
        # The list endpoint (keyset on (sort column, id), see app/pagination.py): by
        # created_at; with a sync_status filter; by updated_at (bench/synced_records.py).
        Index("ix_synced_records_list", "entity_id", "object_type", "created_at", "id"),
        Index(
            "ix_synced_records_list_status",
            "entity_id",
            "object_type",
            "sync_status",
            "created_at",
            "id",
        ),
        Index("ix_synced_records_list_updated", "entity_id", "object_type", "updated_at", "id"),
        Index("ix_synced_records_due", "sync_status", "next_attempt_at"),
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounting_connections.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    sync_status: Mapped[str] = mapped_column(String(10), default="pending")
    provider: Mapped[str] = mapped_column(String(20), default="codat")
    platform: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    platform_object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    provider_updated_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    platform_updated_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    object_updated_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    last_pulled_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    errors: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    push_operation_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    push_phase: Mapped[str | None] = mapped_column(String(10), nullable=True)  # create|update|void
    pushed_version: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class SyncAttempt(Base):
    """One push or pull attempt of a synced record: what was sent and what came back."""

    __tablename__ = "sync_attempts"
    synced_record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("synced_records.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # push | pull | validate
    outcome: Mapped[str] = mapped_column(String(20))  # pending | done | error
    request_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    push_operation_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class WebhookEvent(Base):
    """An accepted provider webhook, unique on its message id; applied once by a job."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("message_id"),
        Index("ix_webhook_events_pending", "processed_at", "next_attempt_at"),
    )
    message_id: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    event_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    company_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(TS)
    processed_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


# --- events to the partner (app/events) ----------------------------------------------------


class EventCounter(Base):
    """A partner's last event sequence number: the row its writers serialise on (see
    ``app.events.queries.allocate``)."""

    __tablename__ = "event_counters"
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), unique=True
    )
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)


class Event(Base):
    """One change announced to the partner (Monite's ``EventResource``), written in the
    transaction that made the change (a transactional outbox). ``sequence`` is monotonic per
    partner and committed in order; ``entity_id`` is null for partner-wide events."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("partner_id", "sequence"),
        Index("ix_events_entity_list", "entity_id", "created_at", "id"),
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    object_type: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    object_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    object: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class WebhookSubscription(Base):
    """A partner's webhook endpoint for one object type (Monite's webhook subscription).

    ``cursor`` is the sequence of the last event dealt with (delivered, or refused for good);
    deliveries go in sequence order. The signing secret is Fernet-encrypted at rest."""

    __tablename__ = "webhook_subscriptions"
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    object_type: Mapped[str] = mapped_column(String(40))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str] = mapped_column(String(2083))
    status: Mapped[str] = mapped_column(String(10), default="enabled")  # enabled | disabled
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    failing_since: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class WebhookDelivery(Base):
    """The delivery of one event to one subscription (Monite's ``WebhookDeliveryResource``):
    how many requests were made and what the last one got back."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_list", "entity_id", "created_at", "id"),
    )
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    object_type: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    sequence: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(String(2083))
    requests_made_count: Mapped[int] = mapped_column(Integer, default=0)
    response_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    was_successful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
