"""The transactional outbox: events are written in the transaction that makes the change.

How a change becomes an event:

- ORM changes: a *source* per model (registered with :func:`watch`, see ``app.event_sources``)
  looks at each flushed row of its model (``after_flush``, with the attribute history) and
  says which events it makes (:class:`Change`). Rows inserted with Core statements are
  announced with :func:`announce` (their values), and their source looks at them as new.
- Just before the transaction commits (``before_commit``), the changes are rendered (the
  object as the API returns it), given per-partner sequence numbers and added as ``events``
  rows, which the commit flushes with everything else. A rollback drops them: nothing is
  announced that did not commit, and nothing committed goes unannounced.
- Sequence numbers come from the partner's counter row (``queries.allocate``, an
  ``UPDATE .. RETURNING``), taken at the very end of the transaction: on PostgreSQL the row
  lock serialises the partner's committing writers, so sequences commit in order and a reader
  that has seen sequence N never later sees a smaller one appear; SQLite has one writer.
- After the commit, :mod:`app.events.notify` wakes the streams and the webhook dispatcher.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import msgspec
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_session
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.db.models import Entity, Event
from app.events import notify, queries

log = logging.getLogger("acctsync.events")

_CHANGES = "acctsync.events.changes"
_COMMITTED = "acctsync.events.partners"


@dataclass(frozen=True)
class Rendered:
    """What an event says about its object: owner, type and the API's representation."""

    partner_id: uuid.UUID
    entity_id: uuid.UUID | None
    object_type: str
    object: Any


@dataclass(frozen=True)
class Change:
    """An event to write: ``action`` (e.g. ``payable.status_changed``) about the row ``object_id``
    of ``model`` (rendered at commit), or about an object already ``rendered``."""

    action: str
    description: str
    model: type[Any] | None = None
    object_id: uuid.UUID | None = None
    rendered: Rendered | None = None


Detect = Callable[[Any, bool], list[Change]]
Render = Callable[[AsyncSession, Sequence[Any]], Awaitable[list[Rendered]]]


@dataclass(frozen=True)
class Source:
    object_type: str
    detect: Detect
    render: Render


_sources: dict[type[Any], Source] = {}


def watch(model: type[Any], object_type: str, detect: Detect, render: Render) -> None:
    """Make changes of ``model`` (shown as ``object_type``) events: ``detect(row, is_new)``
    (called after each flush, the row's attribute history in place) returns the row's
    changes; ``render(session, rows)`` (called at commit) returns each row's
    :class:`Rendered`, in order."""
    _sources[model] = Source(object_type, detect, render)


def announce(session: AsyncSession, model: type[Any], rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows of ``model`` inserted with a Core statement in this transaction (the values
    inserted, ``id`` included): their source looks at them as if the ORM had inserted them,
    without reading them back (one call per Core insert)."""
    source = _sources.get(model)
    if source is None:
        return
    blank = dict.fromkeys(c.key for c in model.__table__.columns)
    changes = [
        c for row in rows for c in source.detect(SimpleNamespace(**(blank | dict(row))), True)
    ]
    if changes:
        session.info.setdefault(_CHANGES, []).extend(changes)


def record(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    entity_id: uuid.UUID | None,
    object_type: str,
    action: str,
    description: str,
    obj: Any,
    object_id: uuid.UUID | None = None,
) -> None:
    """Write an event about ``obj`` (a msgspec struct or plain value, as the API returns it)
    when this transaction commits (and never if it rolls back)."""
    rendered = Rendered(partner_id, entity_id, object_type, msgspec.to_builtins(obj))
    session.info.setdefault(_CHANGES, []).append(
        Change(action, description, object_id=object_id, rendered=rendered)
    )


# --- the session hooks -----------------------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if not _sources:
        return
    changes: list[Change] | None = None
    for rows, is_new in ((session.new, True), (session.dirty, False)):
        for row in rows:
            source = _sources.get(type(row))
            if source is None:
                continue
            found = source.detect(row, is_new)
            if found:
                if changes is None:
                    changes = session.info.setdefault(_CHANGES, [])
                changes.extend(found)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if _sources and (session.new or session.dirty or session.deleted):
        session.flush()  # what the commit would flush, so its changes are seen now
    if not session.info.get(_CHANGES):
        return
    proxy = async_session(session)
    if proxy is None:  # a synchronous session (migrations, scripts): nothing to announce
        session.info.pop(_CHANGES, None)
        return
    partners = await_only(_write(proxy))
    if partners:
        session.info.setdefault(_COMMITTED, set()).update(partners)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    partners = session.info.pop(_COMMITTED, None)
    if partners:
        notify.publish(partners)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint
        for key in (_CHANGES, _COMMITTED):
            session.info.pop(key, None)


async def _write(session: AsyncSession) -> set[uuid.UUID]:
    """Render the transaction's changes and add their events; returns the partners."""
    written: set[uuid.UUID] = set()
    for _ in range(10):  # rendering may flush, and a flush may find more changes
        changes: list[Change] = list(session.info.pop(_CHANGES, []))
        if not changes:
            break
        written |= await _add_events(session, _dedupe(changes))
    return written


def _dedupe(changes: list[Change]) -> list[Change]:
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for change in changes:
        key = (change.action, change.model, change.object_id)
        if change.rendered is None and key in seen:
            continue
        seen.add(key)
        kept.append(change)
    return kept


async def _load(session: AsyncSession, model: type[Any], ids: list[uuid.UUID]) -> list[Any]:
    rows: list[Any] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows.extend((await session.scalars(select(model).where(model.id.in_(chunk)))).all())
    return rows


async def _render(session: AsyncSession, model: type[Any], rows: list[Any]) -> list[Rendered]:
    """The rows as their source shows them; should that fail (a bug), each event still goes
    out with ``{"id": ...}`` as its object rather than failing the change's commit."""
    source = _sources[model]
    try:
        return await source.render(session, rows)
    except Exception:
        log.exception("could not render %d %s rows for their events", len(rows), model.__name__)
    out = []
    for row in rows:
        entity = await session.get(Entity, row.entity_id)
        assert entity is not None, f"{model.__name__} {row.id} has no entity"
        out.append(
            Rendered(entity.partner_id, row.entity_id, source.object_type, {"id": str(row.id)})
        )
    return out


async def _add_events(session: AsyncSession, changes: list[Change]) -> set[uuid.UUID]:
    by_model: dict[type[Any], list[uuid.UUID]] = {}
    for change in changes:
        if change.rendered is None and change.model is not None and change.object_id:
            by_model.setdefault(change.model, []).append(change.object_id)
    rendered: dict[tuple[type[Any], uuid.UUID], Rendered] = {}
    for model, ids in by_model.items():
        rows = await _load(session, model, ids)
        for row, out in zip(rows, await _render(session, model, rows), strict=True):
            rendered[(model, row.id)] = out
    ready: list[tuple[Change, Rendered]] = []
    for change in changes:
        out = change.rendered
        if out is None and change.model is not None and change.object_id is not None:
            out = rendered.get((change.model, change.object_id))
        if out is not None:  # a row deleted in the same transaction announces nothing
            ready.append((change, out))
    counts: dict[uuid.UUID, int] = {}
    for _, out in ready:
        counts[out.partner_id] = counts.get(out.partner_id, 0) + 1
    next_sequence = {p: await queries.allocate(session, p, n) - n for p, n in counts.items()}
    for change, out in ready:
        next_sequence[out.partner_id] += 1
        object_id = change.object_id
        if object_id is None and isinstance(out.object, dict) and "id" in out.object:
            object_id = uuid.UUID(str(out.object["id"]))
        session.add(
            Event(
                partner_id=out.partner_id,
                sequence=next_sequence[out.partner_id],
                entity_id=out.entity_id,
                object_type=out.object_type,
                action=change.action,
                description=change.description,
                object_id=object_id,
                object=out.object,
            )
        )
    return set(counts)
