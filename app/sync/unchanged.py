"""Skipping unchanged records, for a provider that cannot filter by modified date (Smarty
Accounting): every pull reads every page, and a record whose content is what we stored last
time costs no write and is not matched again.

The content compared is the row the pull would write: for ledger accounts and tax rates their
columns, for every other data type the record's JSON as the provider sent it (``raw``, whose
bytes are deterministic for an unchanged record: the adapter encodes it the same way each
time). One ``SELECT`` per page, keyed by the page's provider ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AccountingTaxRate, LedgerAccount, PulledRecord
from app.providers.codat.records import decode_object, record_type_for

_ACCOUNT_FIELDS = ("name", "nominal_code", "description", "type", "subtype", "status",
                   "currency", "current_balance", "is_bank_account", "is_deleted")  # fmt: skip
_TAX_FIELDS = ("name", "code", "status", "effective_tax_rate", "total_tax_rate", "components",
               "is_deleted")  # fmt: skip


async def drop_unchanged(
    session: AsyncSession,
    connection_id: uuid.UUID,
    data_type: str,
    records: Sequence[Any],
    raws: Sequence[Any],
    row_of: Callable[[uuid.UUID, Any], dict[str, Any]] | None = None,
) -> tuple[list[Any], list[Any]]:
    """The page's records (and their raw JSON) that are new or differ from what is stored;
    ``row_of`` makes a ledger account's or tax rate's row (``app.sync.pull``'s)."""
    ids = [r.id for r in records]
    if data_type in ("accounts", "taxRates"):
        model: Any = LedgerAccount if data_type == "accounts" else AccountingTaxRate
        fields = _ACCOUNT_FIELDS if data_type == "accounts" else _TAX_FIELDS
        assert row_of is not None
        make = row_of
        rows = await session.execute(
            select(model.provider_id, *(getattr(model, f) for f in fields)).where(
                model.connection_id == connection_id, model.provider_id.in_(ids)
            )
        )
        stored = {row[0]: tuple(row[1:]) for row in rows}
        keep = [
            i
            for i, r in enumerate(records)
            if stored.get(r.id) != tuple(make(connection_id, r)[f] for f in fields)
        ]
    else:
        rows = await session.execute(
            select(PulledRecord.provider_id, PulledRecord.raw).where(
                PulledRecord.connection_id == connection_id,
                PulledRecord.data_type == data_type,
                PulledRecord.provider_id.in_(ids),
            )
        )
        stored_raw = {pid: bytes(raw) for pid, raw in rows}
        keep = [i for i, r in enumerate(records) if stored_raw.get(r.id) != bytes(raws[i])]
    return [records[i] for i in keep], [raws[i] for i in keep]


async def vanished(
    session: AsyncSession, connection_id: uuid.UUID, data_type: str, seen: set[str]
) -> tuple[list[Any], list[Any]]:
    """After a complete read of every page: the stored records of ``data_type`` that were
    not read (deleted in the books; a provider that reports no deletions just stops listing
    them), as records marked ``metadata.isDeleted`` with their raw JSON, for the pull to store
    and match as Codat's deletions are. Ledger accounts and tax rates are marked deleted here.
    """
    if data_type in ("accounts", "taxRates"):
        model: Any = LedgerAccount if data_type == "accounts" else AccountingTaxRate
        rows = (
            await session.scalars(
                select(model).where(
                    model.connection_id == connection_id, model.is_deleted.is_(False)
                )
            )
        ).all()
        for row in rows:
            if row.provider_id not in seen:
                row.is_deleted = True
        return [], []
    stored = (
        await session.execute(
            select(PulledRecord.provider_id, PulledRecord.raw).where(
                PulledRecord.connection_id == connection_id,
                PulledRecord.data_type == data_type,
                PulledRecord.is_deleted.is_(False),
            )
        )
    ).all()
    records, raws = [], []
    for provider_id, raw in stored:
        if provider_id in seen:
            continue
        value = msgspec.json.decode(bytes(raw))
        if not isinstance(value, dict):
            continue
        value["metadata"] = {**(value.get("metadata") or {}), "isDeleted": True}
        encoded = msgspec.Raw(msgspec.json.encode(value))
        records.append(decode_object(record_type_for(data_type), encoded))
        raws.append(encoded)
    return records, raws
