"""Accounting data providers: the protocol the sync engine uses, and one package per provider.

Public surface (everything else is private)::

    from app.providers import AccountingProvider, ProviderUnavailable, PushOperation, ...

- :class:`AccountingProvider`: the protocol (companies, connections, paged reads with a
  ``modifiedDate`` cursor, pushes, push operations, refresh queueing, data status).
- Errors: :class:`ProviderError` > :class:`ProviderRejected` "will not pass as sent" (>
  :class:`ProviderNotFound`, :class:`ProviderAuthError`), :class:`ProviderUnavailable` "may
  pass later", :class:`ProviderResponseError` "the provider sent something undocumented".
- Value types every provider client returns: :class:`Company`, :class:`Connection`,
  :class:`PushOperation`, :class:`Page`, ...

A provider is a package of its own: ``codat/`` (:class:`~app.providers.codat.CodatClient` and
Codat's records). ``factory`` builds a partner's client.
"""

from app.providers.base import (
    PUSH_DATA_TYPES,
    READ_DATA_TYPES,
    AccountingProvider,
    Company,
    CompanyInfo,
    Connection,
    ConnectionStatus,
    DataConnectionError,
    DataStatus,
    ErrorMessage,
    InvalidRecord,
    Page,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
    PullOperation,
    PushChange,
    PushOperation,
    PushOperationStatus,
    PushRecordRef,
    PushValidation,
    RateLimitState,
    ValidationItem,
    parse_datetime,
)

__all__ = [
    "PUSH_DATA_TYPES",
    "READ_DATA_TYPES",
    "AccountingProvider",
    "Company",
    "CompanyInfo",
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
    "ValidationItem",
    "parse_datetime",
]
