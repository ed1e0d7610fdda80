"""Which changes of the domains' rows are events, and how each object is shown in one.

The outbox (``app.events.outbox``) calls these: ``detect`` after each flush with the row's
attribute history, ``render`` at commit with the API's own presenters. Imported by the wiring
(``app.server``, ``app.tasks``), so the domains neither know nor call the events package,
except where rows are written with Core statements (``app.events.announce``).

Events (``{object_type}.{event type}``; Monite's object types, plus ``accounting_synced_record``
which Monite has no webhook object for):

- ``accounting_connection.status_changed`` / ``.errors_changed`` / ``.pull_completed``
  (``last_pull`` moved);
- ``accounting_synced_record.done`` / ``.error`` (an automatic retry is due) /
  ``.waiting_for_person`` (error, no automatic retry) when a record enters that state;
  records of pulled contacts and items only for ``waiting_for_person`` (an ambiguous match);
- ``counterpart.created``, ``product.created`` (by the API, or by a pull for an item that
  matched no product), ``counterpart.linked`` / ``product.linked`` when a synced record binds
  it to a record of the accounting system;
- ``payable.status_changed`` / ``receivable.status_changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.connections.service import to_out as connection_out
from app.counterparts.service import to_out as counterpart_out
from app.db.models import (
    AccountingConnection,
    Counterpart,
    Entity,
    Payable,
    Product,
    Receivable,
    SyncedRecord,
)
from app.events.outbox import Change, Rendered, watch
from app.payables.service import to_out as payable_out
from app.products.service import to_out as product_out
from app.receivables.service import present
from app.synced_records.service import to_out as synced_record_out

#: Synced-record object types bound by a pull, and the object each binds.
PULLED = {"customer": Counterpart, "vendor": Counterpart, "product": Product}


def _change(row: Any, name: str) -> tuple[bool, Any]:
    """(changed in this flush, the value before it) of attribute ``name`` (of a row the ORM
    tracks; a Core-inserted row's values, see ``announce``, are all new)."""
    state = inspect(row, raiseerr=False)
    if state is None:
        return True, None
    history = state.attrs[name].history
    if not history.has_changes():
        return False, getattr(row, name)
    return True, history.deleted[0] if history.deleted else None


async def _partners(session: AsyncSession, entity_ids: set[uuid.UUID]) -> dict[uuid.UUID, Entity]:
    return {i: e for i in entity_ids if (e := await session.get(Entity, i)) is not None}


def _renderer(object_type: str, out: Any) -> Any:
    async def render(session: AsyncSession, rows: Sequence[Any]) -> list[Rendered]:
        entities = await _partners(session, {r.entity_id for r in rows})
        return [
            Rendered(entities[r.entity_id].partner_id, r.entity_id, object_type, out(r))
            for r in rows
        ]

    return render


# --- connections ---------------------------------------------------------------------------


def _connection(c: AccountingConnection, is_new: bool) -> list[Change]:
    if is_new:
        return []
    found = []
    changed, old = _change(c, "status")
    if changed and old != c.status:
        found.append(("status_changed", f"Connection status changed from {old} to {c.status}"))
    changed, old = _change(c, "errors")
    if changed and (old or None) != (c.errors or None):
        found.append(("errors_changed", "Connection errors changed"))
    changed, old = _change(c, "last_pull")
    if changed and c.last_pull is not None and old != c.last_pull:
        found.append(("pull_completed", "A pull of the accounting data completed"))
    return [Change(f"accounting_connection.{a}", d, AccountingConnection, c.id) for a, d in found]


# --- synced records --------------------------------------------------------------------------


def _state(sync_status: str | None, next_attempt_at: Any) -> str | None:
    if sync_status == "done":
        return "done"
    if sync_status == "error":
        return "error" if next_attempt_at is not None else "waiting_for_person"
    return None


#: The synced-record columns whose change can make an event (a pull touches many records'
#: other columns: those are skipped without reading their history).
_RECORD_KEYS = ("sync_status", "next_attempt_at", "object_id")


def _synced_record(r: SyncedRecord, is_new: bool) -> list[Change]:
    if not is_new and not any(k in inspect(r).committed_state for k in _RECORD_KEYS):
        return []
    found: list[Change] = []
    status_changed, old_status = _change(r, "sync_status")
    retry_changed, old_retry = _change(r, "next_attempt_at")
    link_changed, old_object = _change(r, "object_id")
    new = _state(r.sync_status, r.next_attempt_at)
    old = None if is_new else _state(old_status, old_retry)
    if (is_new or status_changed or retry_changed) and new is not None and new != old:
        if r.object_type not in PULLED or new == "waiting_for_person":
            found.append(
                Change(
                    f"accounting_synced_record.{new}",
                    f"The {r.object_type} synced record is {new.replace('_', ' ')}",
                    SyncedRecord,
                    r.id,
                )
            )
    model = PULLED.get(r.object_type)
    linked = r.object_id is not None and (is_new or (link_changed and old_object != r.object_id))
    if model is not None and linked and r.sync_status == "done" and r.provider_object_id:
        noun = "counterpart" if model is Counterpart else "product"
        found.append(
            Change(
                f"{noun}.linked",
                f"The {noun} was linked to the accounting system's {r.object_type} "
                f"{r.provider_object_id}",
                model,
                r.object_id,
            )
        )
    return found


# --- the partner's objects ---------------------------------------------------------------------


def _created(noun: str, model: type[Any]) -> Any:
    def detect(row: Any, is_new: bool) -> list[Change]:
        return [Change(f"{noun}.created", f"A {noun} was created", model, row.id)] if is_new else []

    return detect


def _status(noun: str, model: type[Any]) -> Any:
    def detect(row: Any, is_new: bool) -> list[Change]:
        changed, old = _change(row, "status")
        if is_new or not changed or old == row.status:
            return []
        text = f"The {noun} status changed from {old} to {row.status}"
        return [Change(f"{noun}.status_changed", text, model, row.id)]

    return detect


async def _render_receivables(session: AsyncSession, rows: Sequence[Any]) -> list[Rendered]:
    entities = await _partners(session, {r.entity_id for r in rows})
    out: list[Rendered] = []
    for r in rows:
        entity = entities[r.entity_id]
        shown = (await present(session, entity, [r]))[0]
        out.append(Rendered(entity.partner_id, r.entity_id, "receivable", shown))
    return out


def _builtins(render: Any) -> Any:
    import msgspec

    async def wrapped(session: AsyncSession, rows: Sequence[Any]) -> list[Rendered]:
        return [
            Rendered(r.partner_id, r.entity_id, r.object_type, msgspec.to_builtins(r.object))
            for r in await render(session, rows)
        ]

    return wrapped


for model, object_type, detect, render in (
    (AccountingConnection, "accounting_connection", _connection, connection_out),
    (SyncedRecord, "accounting_synced_record", _synced_record, synced_record_out),
    (Counterpart, "counterpart", _created("counterpart", Counterpart), counterpart_out),
    (Product, "product", _created("product", Product), product_out),
    (Payable, "payable", _status("payable", Payable), payable_out),
):
    watch(model, object_type, detect, _builtins(_renderer(object_type, render)))
watch(Receivable, "receivable", _status("receivable", Receivable), _builtins(_render_receivables))
