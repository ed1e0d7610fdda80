"""Connection health: the current problems of a connection, as the partner reads them.

``AccountingConnection.errors`` holds a list of problems, each a dict::

    {"code": str, "message": str, "data_type": str | None,
     "first_seen_at": ISO 8601 UTC, "last_seen_at": ISO 8601 UTC}

One entry per (code, data type): the same problem seen again moves ``last_seen_at`` and
keeps ``first_seen_at`` (how long it has lasted). Entries are removed when something proves
them resolved: a successful pull of a data type clears that data type's problems and every
connection-wide one (the company exists, the key works, access is granted); the provider
reporting the connection linked again clears the connection-status problems.

Codes:

- ``provider_unavailable``: the provider failed (5xx, 429, time-out) after retries.
- ``provider_rejected``: the provider refused the read (4xx other than 401/403/404).
- ``provider_response_error``: the provider answered something undocumented.
- ``company_not_found``: the provider company is gone (404); connection-wide.
- ``provider_auth_failed``: the provider API key is refused (401/403); connection-wide.
- ``connection_error``: the provider reports a problem with the link to the platform
  (``dataConnectionErrors``, e.g. "User cancelled"); connection-wide.
- ``data_sync_error``: the provider reports a data type's sync failed (webhook).
- ``provider_key_missing``: the partner has no provider API key; connection-wide.
- ``internal_error``: the service failed while pulling a data type (retried).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from app.db.models import AccountingConnection
from app.providers import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
)

#: The data types a pull reads (Codat's names), in pull order: what push validation and
#: matching depend on first.
PULLED_DATA_TYPES = ("accounts", "taxRates", "customers", "suppliers", "items", "invoices", "bills")
#: Codat's dataset names that differ from the data type a pull reads.
_DATASET_NAMES = {"chartOfAccounts": "accounts"}


def pulled_data_type(name: str | None) -> str | None:
    """The pulled data type of a Codat dataset name (``chartOfAccounts`` -> ``accounts``)."""
    return _DATASET_NAMES.get(name, name) if name else None


#: At most this many problems are kept (the oldest seen go first).
MAX_PROBLEMS = 50
#: Codes set from the provider's view of the connection (replaced as a set by it).
CONNECTION_STATUS_CODES = frozenset({"connection_error"})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def problems(c: AccountingConnection) -> list[dict[str, Any]]:
    """The connection's problems, normalised (entries written before codes existed read as
    ``connection_error`` problems first seen at the connection's last change)."""
    out = []
    fallback = (c.updated_at or _now()).isoformat()
    for entry in c.errors or []:
        if not isinstance(entry, dict):
            entry = {"message": str(entry)}
        out.append(
            {
                "code": str(entry.get("code") or "connection_error"),
                "message": str(entry.get("message") or "connection error"),
                "data_type": entry.get("data_type"),
                "first_seen_at": entry.get("first_seen_at") or fallback,
                "last_seen_at": entry.get("last_seen_at") or entry.get("first_seen_at") or fallback,
            }
        )
    return out


def _store(c: AccountingConnection, entries: list[dict[str, Any]]) -> None:
    entries.sort(key=lambda e: e["last_seen_at"])
    # A new list object, so the JSON column is seen as changed.
    c.errors = entries[-MAX_PROBLEMS:] or None


def record(
    c: AccountingConnection,
    code: str,
    message: str,
    data_type: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Note a problem seen now: a new entry, or the same (code, data type) one seen again
    (message and ``last_seen_at`` updated, ``first_seen_at`` kept)."""
    stamp = (now or _now()).isoformat()
    entries = problems(c)
    for entry in entries:
        if entry["code"] == code and entry["data_type"] == data_type:
            entry["message"] = message[:1000]
            entry["last_seen_at"] = stamp
            break
    else:
        entries.append(
            {
                "code": code,
                "message": message[:1000],
                "data_type": data_type,
                "first_seen_at": stamp,
                "last_seen_at": stamp,
            }
        )
    _store(c, entries)


def resolve_pulled(c: AccountingConnection, data_type: str) -> None:
    """A pull of ``data_type`` succeeded: clear its problems and every connection-wide one."""
    entries = problems(c)
    kept = [e for e in entries if e["data_type"] not in (None, data_type)]
    if len(kept) != len(entries):
        _store(c, kept)


def set_connection_status_errors(
    c: AccountingConnection, messages: Iterable[str], now: dt.datetime | None = None
) -> None:
    """The provider's current list of connection errors replaces the previous one (an entry
    still listed keeps its ``first_seen_at``); an empty list clears them."""
    stamp = (now or _now()).isoformat()
    entries = problems(c)
    previous = {e["message"]: e for e in entries if e["code"] in CONNECTION_STATUS_CODES}
    kept = [e for e in entries if e["code"] not in CONNECTION_STATUS_CODES]
    for message in dict.fromkeys(m[:1000] for m in messages if m):
        old = previous.get(message)
        kept.append(
            {
                "code": "connection_error",
                "message": message,
                "data_type": None,
                "first_seen_at": old["first_seen_at"] if old else stamp,
                "last_seen_at": stamp,
            }
        )
    _store(c, kept)


def clear_connection_wide(c: AccountingConnection) -> None:
    """Access was granted again (re-authorised): clear every connection-wide problem."""
    entries = problems(c)
    kept = [e for e in entries if e["data_type"] is not None]
    if len(kept) != len(entries):
        _store(c, kept)


def classify(exc: ProviderError, company_missing: bool = False) -> tuple[str, bool]:
    """(code, connection_wide) of a failed read; ``company_missing``: the 404 was about the
    company itself (the caller checked)."""
    if isinstance(exc, ProviderNotFound) and company_missing:
        return "company_not_found", True
    if isinstance(exc, ProviderAuthError):
        return "provider_auth_failed", True
    if isinstance(exc, ProviderUnavailable):
        return "provider_unavailable", False
    if isinstance(exc, ProviderRejected):
        return "provider_rejected", False
    return "provider_response_error", False


def describe(exc: ProviderError) -> str:
    """A partner-readable message of a provider failure (no headers, no keys)."""
    status = f" ({exc.status_code})" if exc.status_code else ""
    detail = exc.error or str(exc)
    return f"{detail}{status}"
