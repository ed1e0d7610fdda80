"""The provider protocol, its errors and the structs shared by every provider client.

The sync engine talks to an accounting data provider only through :class:`AccountingProvider`.
The provider is shaped like Codat (Codat: https://docs.codat.io, `codatio/oas`): companies
own connections to one accounting platform each; data is read page by page per data type and
written through asynchronous push operations. Field names on the wire are Codat's camelCase;
the structs here expose them in snake_case (``rename="camel"``).

Dates are always timezone-aware UTC :class:`datetime.datetime` values once decoded: a value
without an offset is taken as UTC (Codat: "dates without a timezone are in UTC"), a value with
an offset is converted to UTC. Money stays in the provider's major units as
:class:`decimal.Decimal` (Codat sends decimals, e.g. ``583.3333333333``); converting to integer
minor units is the caller's business, since it needs the currency's precision.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import msgspec

__all__ = [
    "PUSH_DATA_TYPES",
    "READ_DATA_TYPES",
    "AccountingProvider",
    "CamelStruct",
    "Company",
    "Connection",
    "ConnectionStatus",
    "DataConnectionError",
    "DataStatus",
    "ErrorMessage",
    "InvalidRecord",
    "Page",
    "ProviderAuthError",
    "ProviderError",
    "ProviderNotFound",
    "ProviderRejected",
    "ProviderResponseError",
    "ProviderUnavailable",
    "PullOperation",
    "PushChange",
    "PushOperation",
    "PushOperationStatus",
    "PushRecordRef",
    "PushValidation",
    "RateLimitState",
    "UtcStruct",
    "ValidationItem",
    "parse_datetime",
]

#: Data types the sync engine reads (Codat: ``GET /companies/{companyId}/data/{dataType}``).
READ_DATA_TYPES: tuple[str, ...] = (
    "accounts",
    "taxRates",
    "items",
    "customers",
    "suppliers",
    "invoices",
    "bills",
)
#: Data types the sync engine writes (Codat: ``POST .../connections/{id}/push/{dataType}``).
PUSH_DATA_TYPES: tuple[str, ...] = ("bills", "invoices", "customers", "suppliers", "items")

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_LONG_FRACTION = re.compile(r"(\.\d{6})(\d+)")


def parse_datetime(value: str | int | float | datetime | None) -> datetime | None:
    """Parse a date as platforms send it into an aware UTC datetime; ``None`` when empty.

    Accepts ISO 8601 / RFC 3339 with or without an offset (``2023-03-15T20:35:10Z``,
    ``2021-12-20T00:00:00``, ``2021-12-20T00:00:00+01:00``), a date alone (``2021-12-20``,
    midnight UTC), more than six fractional digits (.NET sends seven), a space instead of the
    ``T``, .NET's ``/Date(1600000000000)/`` and Unix timestamps in seconds. No offset means UTC
    (Codat: dates without an offset are UTC). Raises ``ValueError`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = value.strip()
    if not text:
        return None
    match = _DOTNET_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    round_up = False
    long_fraction = _LONG_FRACTION.search(text)
    if long_fraction:  # round to microseconds, as msgspec does
        round_up = long_fraction.group(2)[0] >= "5"
        text = text[: long_fraction.start()] + long_fraction.group(1) + text[long_fraction.end() :]
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if round_up:
        parsed += timedelta(microseconds=1)
    return _to_utc(parsed)


def _to_utc(value: datetime) -> datetime | None:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, .NET's "no date"
        return None


_DATE_FIELDS: dict[type, tuple[str, ...]] = {}


def _datetime_fields(cls: type) -> tuple[str, ...]:
    names = []
    for info in msgspec.structs.fields(cls):
        tp = info.type
        if tp is datetime or (getattr(tp, "__args__", None) and datetime in tp.__args__):
            names.append(info.name)
    found = tuple(names)
    _DATE_FIELDS[cls] = found
    return found


class CamelStruct(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every provider struct: camelCase on the wire, snake_case in Python, unknown
    fields ignored. A struct with a ``datetime`` field must derive from :class:`UtcStruct`."""


class UtcStruct(CamelStruct):
    """A :class:`CamelStruct` whose datetimes are made aware UTC after decoding.

    msgspec parses RFC 3339 natively; ``__post_init__`` only fixes the offset (no offset means
    UTC). Values msgspec cannot parse at all (``""``, a date alone) go through the lenient
    decoder in :mod:`app.providers.codat.records`, which uses :func:`parse_datetime`.
    """

    def __post_init__(self) -> None:
        cls = type(self)
        names = _DATE_FIELDS.get(cls)
        if names is None:
            names = _datetime_fields(cls)
        for name in names:
            value = getattr(self, name)
            if value is not None and value.tzinfo is not UTC:
                setattr(self, name, _to_utc(value))


# --------------------------------------------------------------------------------------------
# Control-plane structs (Codat: Company, Connection, PushOperation, PullOperation, DataStatus)
# --------------------------------------------------------------------------------------------


class ConnectionStatus:
    """Codat's connection statuses (``Connection.status``); compare with these constants."""

    PENDING_AUTH: ClassVar[str] = "PendingAuth"
    LINKED: ClassVar[str] = "Linked"
    UNLINKED: ClassVar[str] = "Unlinked"
    DEAUTHORIZED: ClassVar[str] = "Deauthorized"


class PushOperationStatus:
    """Codat's push operation statuses (``PushOperation.status``)."""

    PENDING: ClassVar[str] = "Pending"
    SUCCESS: ClassVar[str] = "Success"
    FAILED: ClassVar[str] = "Failed"
    TIMED_OUT: ClassVar[str] = "TimedOut"
    FINAL: ClassVar[frozenset[str]] = frozenset({"Success", "Failed", "TimedOut"})


class DataConnectionError(UtcStruct):
    """An error the platform reported on a connection (Codat: ``dataConnectionErrors[]``)."""

    status_code: str | None = None
    status_text: str | None = None
    error_message: str | None = None
    errored_on_utc: datetime | None = None
    status: str | None = None


class Connection(UtcStruct):
    """A company's connection to one accounting platform (Codat: ``Connection``).

    ``status`` is one of :class:`ConnectionStatus` (``PendingAuth | Linked | Unlinked |
    Deauthorized``); kept as ``str`` so an unknown future value still decodes.
    ``link_url`` is where the user authorises the platform.
    """

    id: str
    integration_id: str | None = None
    integration_key: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    platform_name: str | None = None
    link_url: str | None = None
    status: str | None = None
    last_sync: datetime | None = None
    created: datetime | None = None
    data_connection_errors: list[DataConnectionError] | None = None


class Company(UtcStruct):
    """A provider company: one per entity (Codat: ``Company``).

    ``redirect`` is the provider's hosted link page for the company, where the user picks the
    platform when no connection was created for a specific one.
    """

    id: str
    name: str | None = None
    description: str | None = None
    redirect: str | None = None
    platform: str | None = None
    last_sync: datetime | None = None
    created: datetime | None = None
    data_connections: list[Connection] = msgspec.field(default_factory=list)


class CompanyInfo(UtcStruct):
    """What the accounting system says about the company (Codat ``CompanyInfo``,
    ``GET /companies/{id}/data/info``). ``base_currency`` (ISO 4217) is the currency the
    company keeps its books in: item prices and balances without a currency of their own are in
    it; None when the platform does not say."""

    company_name: str | None = None
    company_legal_name: str | None = None
    base_currency: str | None = None
    registration_number: str | None = None
    tax_number: str | None = None
    created_date: datetime | None = None


class ValidationItem(CamelStruct):
    """One validation message (Codat: ``validationItem``: ``{itemId, message, validatorName}``)."""

    item_id: str | None = None
    message: str | None = None
    validator_name: str | None = None


class PushValidation(CamelStruct):
    """Validation outcome of a push or an error (Codat: ``validation``)."""

    errors: list[ValidationItem] | None = None
    warnings: list[ValidationItem] | None = None


class PushRecordRef(CamelStruct):
    """The record a push changed (Codat: ``pushOperationRef``: ``{id, dataType}``)."""

    id: str | None = None
    data_type: str | None = None


class PushChange(CamelStruct):
    """One change a push made (Codat: ``pushOperationChange``: ``Created | Modified | ...``)."""

    type: str | None = None
    record_ref: PushRecordRef | None = None
    attachment_id: str | None = None


class PushOperation(UtcStruct):
    """A push (write) operation (Codat: ``PushOperation`` / ``PushOperationSummary``).

    ``status`` is one of :class:`PushOperationStatus`: ``Pending`` until the platform answers,
    then ``Success`` (the created / updated record is in ``changes[].record_ref.id`` and
    ``data``), ``Failed`` (see ``validation.errors`` and ``error_message``) or ``TimedOut``.
    ``data`` is the pushed record as the provider echoes it, as plain JSON values.
    """

    push_operation_key: str
    company_id: str | None = None
    data_connection_key: str | None = None
    data_type: str | None = None
    status: str = "Pending"
    requested_on_utc: datetime | None = None
    completed_on_utc: datetime | None = None
    timeout_in_minutes: int | None = None
    validation: PushValidation | None = None
    changes: list[PushChange] | None = None
    status_code: int | None = None
    error_message: str | None = None
    data: Any = None

    @property
    def is_final(self) -> bool:
        """True once the status is ``Success``, ``Failed`` or ``TimedOut``."""
        return self.status in PushOperationStatus.FINAL

    @property
    def record_id(self) -> str | None:
        """The platform id of the record the push created or changed, if it reported one."""
        for change in self.changes or ():
            if change.record_ref is not None and change.record_ref.id:
                return change.record_ref.id
        if isinstance(self.data, Mapping):
            value = self.data.get("id")
            return str(value) if value not in (None, "") else None
        return None


class PullOperation(UtcStruct):
    """A queued or finished data refresh (Codat: ``PullOperation``, formerly ``dataset``)."""

    id: str
    company_id: str | None = None
    connection_id: str | None = None
    data_type: str | None = None
    status: str | None = None
    status_description: str | None = None
    error_message: str | None = None
    requested: datetime | None = None
    completed: datetime | None = None
    progress: int | None = None
    is_completed: bool | None = None
    is_errored: bool | None = None


class DataStatus(UtcStruct):
    """The state of one data type in the provider's cache (Codat: ``DataStatus``)."""

    data_type: str | None = None
    current_status: str | None = None
    last_successful_sync: datetime | None = None
    latest_sync_id: str | None = None
    latest_successful_sync_id: str | None = None


class ErrorMessage(CamelStruct):
    """Codat's error body: ``{statusCode, service, error, correlationId, validation,
    canBeRetried, detailedErrorCode}`` (``canBeRetried`` arrives as ``"True"``/``"False"``)."""

    status_code: int | None = None
    service: str | None = None
    error: str | None = None
    correlation_id: str | None = None
    validation: PushValidation | None = None
    can_be_retried: str | bool | None = None
    detailed_error_code: int | None = None


class InvalidRecord(msgspec.Struct, kw_only=True):
    """A record of a page that could not be decoded even leniently.

    ``index`` is its position in the page's ``results``, ``raw`` its JSON as sent, ``error``
    msgspec's message (with the JSON path). The rest of the page is still usable.
    """

    index: int
    raw: msgspec.Raw
    error: str


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of records of one data type (Codat: ``{results, pageNumber, pageSize,
    totalResults, _links}``).

    ``records[i]`` was decoded from ``raw[i]`` (the record's JSON exactly as the provider sent
    it, a :class:`msgspec.Raw`: ``bytes(raw)`` or ``msgspec.json.encode(raw)`` to store it).
    Records that would not decode are in ``invalid`` instead. ``has_next``: another page
    follows.
    """

    data_type: str
    records: list[T]
    raw: list[msgspec.Raw]
    invalid: list[InvalidRecord] = msgspec.field(default_factory=list)
    page_number: int
    page_size: int
    total_results: int
    has_next: bool


class RateLimitState(msgspec.Struct, kw_only=True):
    """The last rate-limit headers seen by one client (Codat: ``X-Rate-Limit-Limit``,
    ``X-Rate-Limit-Remaining``, ``X-Rate-Limit-Reset``); ``reset_at`` is Unix seconds."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _truthy(value: str | bool | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    return None


class ProviderError(Exception):
    """Base of every error a provider client raises.

    Attributes: ``method`` and ``path`` of the call (never headers, never the API key),
    ``status_code`` (HTTP status of the last answer, ``None`` for a connection failure),
    ``body`` (Codat's :class:`ErrorMessage` when the provider sent one) and the convenience
    fields ``error``, ``correlation_id``, ``can_be_retried``, ``validation_errors`` and
    ``validation_warnings`` taken from it.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status_code: int | None = None,
        body: ErrorMessage | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status_code = status_code
        self.body = body

    @property
    def error(self) -> str | None:
        """Codat's ``error`` text, if the provider sent an error body."""
        return self.body.error if self.body else None

    @property
    def correlation_id(self) -> str | None:
        """Codat's ``correlationId`` (quote it to Codat support)."""
        return self.body.correlation_id if self.body else None

    @property
    def can_be_retried(self) -> bool | None:
        """Codat's ``canBeRetried`` as a bool (``None`` when absent or ``"Unknown"``)."""
        return _truthy(self.body.can_be_retried) if self.body else None

    @property
    def validation_errors(self) -> list[ValidationItem]:
        """Codat's ``validation.errors`` (empty when none)."""
        if self.body and self.body.validation and self.body.validation.errors:
            return list(self.body.validation.errors)
        return []

    @property
    def validation_warnings(self) -> list[ValidationItem]:
        """Codat's ``validation.warnings`` (empty when none)."""
        if self.body and self.body.validation and self.body.validation.warnings:
            return list(self.body.validation.warnings)
        return []


class ProviderRejected(ProviderError):
    """The provider answered 4xx (other than 408 and 429): the request will not pass as sent.

    Not retried. Record it (``error``, ``validation_errors``, ``correlation_id``) for the
    user: a bad payload, a missing ledger account, a revoked key (401/403), a plan limit (402).
    """


class ProviderNotFound(ProviderRejected):
    """The provider answered 404: the company, connection, record or push operation does not
    exist (or was deleted), or the data type was never synced for this company."""


class ProviderAuthError(ProviderRejected):
    """The provider answered 401 or 403: the API key is wrong, revoked or not allowed this
    resource. Nothing for this partner will pass until its key is fixed."""


class ProviderUnavailable(ProviderError):
    """The call may pass later: retries were exhausted on 408 / 429 / 5xx / connection errors,
    or the provider asked to wait longer than the client may sleep.

    ``retry_after`` (seconds, or ``None``) is when the provider said to come back (from
    ``Retry-After`` or ``X-Rate-Limit-Reset``); schedule the retry no earlier than that.
    ``attempts`` is how many requests were made (0 when the rate limit forbade even one).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status_code: int | None = None,
        body: ErrorMessage | None = None,
        retry_after: float | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, method=method, path=path, status_code=status_code, body=body)
        self.retry_after = retry_after
        self.attempts = attempts


class ProviderResponseError(ProviderError):
    """A 2xx (or unexpected 1xx/3xx) answer whose body is not what the API documents: not JSON,
    or missing a required field such as ``id``. A provider bug; not retried."""


# --------------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------------


@runtime_checkable
class AccountingProvider(Protocol):
    """What the sync engine needs from an accounting data provider; ``codat.CodatClient`` says
    how Codat does each.

    Any method may raise :class:`ProviderRejected` (:class:`ProviderNotFound` when the company,
    connection, record or push operation does not exist), :class:`ProviderUnavailable` or
    :class:`ProviderResponseError`. A write with the ``idempotency_key`` of an earlier one
    gets the earlier answer: derive it from your own state so a repeat after a crash is a no-op;
    without one, the client uses a fresh key for that call (the same across its retries).
    """

    async def create_company(
        self, name: str, *, description: str | None = None, idempotency_key: str | None = None
    ) -> Company:
        """A new company (one per entity)."""
        ...

    async def get_company(self, company_id: str) -> Company:
        """A company with its connections."""
        ...

    async def get_company_info(self, company_id: str) -> CompanyInfo:
        """What the accounting system says about the company, its base currency above all
        (:class:`ProviderNotFound` until a connection has read it)."""
        ...

    async def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> Connection:
        """A new connection to the platform ``platform_key``: ``PendingAuth`` until the user
        authorises it at its ``link_url``."""
        ...

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        """One connection."""
        ...

    async def list_connections(self, company_id: str) -> list[Connection]:
        """All of a company's connections."""
        ...

    async def unlink_connection(
        self, company_id: str, connection_id: str, *, idempotency_key: str | None = None
    ) -> Connection:
        """Disconnect (status ``Unlinked``); what was read stays readable."""
        ...

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
        """Page ``page`` (from 1) of a data type (:data:`READ_DATA_TYPES`): only records
        modified at or after ``modified_since``, and matching ``query``, when given."""
        ...

    def iter_pages(
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
        """The pages from ``start_page`` up to the first whose ``has_next`` is false (filters
        as :meth:`get_page`)."""
        ...

    async def get_record(self, company_id: str, data_type: str, record_id: str) -> Any:
        """One record of a data type."""
        ...

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
        """Start creating a record of a data type (:data:`PUSH_DATA_TYPES`) on the platform;
        the operation is usually still ``Pending``."""
        ...

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
        """Start replacing a record with ``payload``, as :meth:`push_create` (a full update:
        sending it again is harmless); ``force_update`` even if it changed on the platform
        since it was read."""
        ...

    async def get_push_operation(self, company_id: str, push_operation_key: str) -> PushOperation:
        """A push operation as it stands."""
        ...

    async def queue_refresh(
        self,
        company_id: str,
        data_type: str,
        *,
        connection_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> PullOperation:
        """Ask the provider to read a data type from the platform again."""
        ...

    async def get_data_status(self, company_id: str) -> dict[str, DataStatus]:
        """The state of the provider's copy of each data type, by data type."""
        ...
