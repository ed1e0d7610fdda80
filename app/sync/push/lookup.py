"""Looking before creating: the record an earlier create of unknown outcome may have written
(a document by the marker in its note, a contact or item by name), and the contact already in
the books that a counterpart about to be pushed may be (the matcher, as at pull)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import matching
from app.db.models import AccountingConnection, Counterpart, SyncedRecord
from app.providers.codat import Customer, Supplier, decode_object
from app.sync import queries as sync_queries
from app.sync.matching import contact_record, counterpart_record
from app.sync.push.common import DATA_TYPE, NAME_FIELD
from app.synced_records import queries as synced_queries


async def _find_landed(
    provider: Any, connection: AccountingConnection, record: SyncedRecord
) -> str | None:
    """The id of the document this record pushed, if the platform has it (found by the
    marker in its note: Codat ``query=note~{synced record id}``)."""
    if record.provider_object_id:
        return record.provider_object_id
    page = await provider.get_page(
        connection.provider_company_id,
        DATA_TYPE[record.object_type],
        page_size=10,
        query=f"note~{record.id}",
    )
    return page.records[0].id if page.records else None


async def _find_dependency(
    session: AsyncSession,
    provider: Any,
    connection: AccountingConnection,
    bound: SyncedRecord,
    payload: dict[str, Any],
) -> str | None:
    """After a create of unknown outcome: a live record with the name we sent that no other
    synced record holds (contacts and items carry no note to mark them)."""
    data_type = DATA_TYPE[bound.object_type]
    name = str(payload.get(NAME_FIELD[data_type]) or "")
    if not name or '"' in name:
        return None
    page = await provider.get_page(
        connection.provider_company_id,
        data_type,
        page_size=50,
        query=f'{NAME_FIELD[data_type]}="{name}"',
    )
    ids = [r.id for r in page.records if not (r.metadata and r.metadata.is_deleted)]
    if not ids:
        return None
    taken = await synced_queries.of_provider_ids(session, connection.id, bound.object_type, ids)
    free = [
        i for i in ids if i not in taken or taken[i].id == bound.id or taken[i].object_id is None
    ]
    return free[0] if free else None


def _ambiguous_or_close_name(match: matching.Match) -> bool:
    """Whether a counterpart about to be pushed must wait for a person: the match is ambiguous,
    or it is unmatched while a contact in the books has the same or a close name (one not
    ruled out by its country or a number in the name).

    Stricter than the pull's rule (``matching._counterparts._needs_person``) on purpose: at
    push a duplicate contact in the customer's books is the costly mistake, and the same name
    in another town may be a move."""
    if match.outcome == "ambiguous":
        return True
    return match.outcome == "unmatched" and any(
        c.excluded_by not in ("country", "numbers") and c.fields[0].level in ("exact", "close")
        for c in match.candidates
    )


async def _match_pulled_contact(
    session: AsyncSession, connection: AccountingConnection, bound: SyncedRecord
) -> tuple[matching.Match, dict[str, str]] | None:
    """The matcher's decision for this counterpart against the contacts already in the
    accounting system (as last pulled), and their names by provider id; None when the
    counterpart is gone or has no name.

    Candidates: pulled customers (or suppliers) whose name holds the stem (first four letters)
    of one of the counterpart's words, so a typo later in a word still finds them. Contacts
    another of our objects is linked to are "claimed": a match to one is left for a person.
    Monite: a counterpart is matched by name, then country, city and address (`matching`).
    """
    counterpart = await session.get(Counterpart, bound.object_id)
    if counterpart is None:
        return None
    data_type = DATA_TYPE[bound.object_type]
    stems = sorted({t[:4] for t in matching.name_tokens(counterpart.name) if len(t) >= 3})
    rows = await sync_queries.pulled_by_name_words(session, connection.id, data_type, stems)
    kind = Customer if data_type == "customers" else Supplier
    existing = []
    names: dict[str, str] = {}
    for row in rows:
        pulled = decode_object(kind, row.raw)
        name = pulled.customer_name if data_type == "customers" else pulled.supplier_name
        existing.append(contact_record(pulled, name))
        names[pulled.id] = name or ""
    holders = await synced_queries.of_provider_ids(
        session, connection.id, bound.object_type, list(names)
    )
    claimed = {pid for pid, h in holders.items() if h.object_id is not None and h.id != bound.id}
    ours = counterpart_record(counterpart)
    return matching.match_counterparts([ours], existing, claimed=claimed)[0], names
