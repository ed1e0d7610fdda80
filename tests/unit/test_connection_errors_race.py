"""A pull and a webhook writing a connection's ``errors`` at the same moment (issue 15): each
locks the row before its read-modify-write (``connection_queries.locked``), so neither
problem is lost, whichever goes first, on SQLite and PostgreSQL.

The interleaving is forced: the first writer pauses between reading ``errors`` and committing
while the second one runs. The same interleaving with a plain read loses an update, which
shows the test can see the failure it guards against.
"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

import webhooks
from app.connections import queries as connection_queries
from app.db.models import AccountingConnection
from app.sync import pull
from app.webhook_receiver import apply

COMPANY = "race-company"
PAUSE = 0.3


async def _connection(partner, sessionmaker) -> uuid.UUID:
    entity = await partner.create_entity()
    async with sessionmaker() as session:
        row = AccountingConnection(
            entity_id=uuid.UUID(entity),
            platform="xero",
            status="connected",
            provider_company_id=COMPANY,
            connection_url="http://sandbox.test/link",
        )
        session.add(row)
        await session.commit()
        return row.id


def _pull_note(ctx: Any, connection_id: uuid.UUID) -> Any:
    """The pull recording that its read of items failed (its own transaction)."""
    return pull._note(ctx, connection_id, "internal_error", "pull of items failed", "items")


async def _webhook(sessionmaker, partner_id: uuid.UUID) -> None:
    """The webhook receiver applying Codat's "Data Sync Status Changed To Error" for invoices."""
    event = webhooks.DataSyncError(
        message_id="msg-race",
        event_type="Data Sync Status Changed To Error",
        company_id=COMPANY,
        data_type="invoices",
        message="invoices sync failed at the provider",
    )
    row = SimpleNamespace(partner_id=partner_id, message_id="msg-race")
    async with sessionmaker() as session:
        assert await apply._apply(SimpleNamespace(), session, row, event) == "applied"
        await session.commit()


def _pausing(read: Any, first: str, holder: dict[str, Any]) -> Any:
    """``read`` (the lock, or a plain read), pausing the ``first`` writer after it."""

    async def wrapped(session, connection_id):
        found = await read(session, connection_id)
        if asyncio.current_task().get_name() == first:
            holder["read"].set()
            await asyncio.sleep(PAUSE)
        return found

    return wrapped


@pytest.mark.parametrize("first", ["pull", "webhook"])
async def test_pull_and_webhook_writing_errors_together_lose_nothing(
    partner, sessionmaker, monkeypatch, first: str
) -> None:
    connection_id = await _connection(partner, sessionmaker)
    holder: dict[str, Any] = {}
    real_lock = connection_queries.locked

    async def lock(session, connection_id):
        return await holder["read"](session, connection_id)

    monkeypatch.setattr(connection_queries, "locked", lock)
    both = {"internal_error:items", "data_sync_error:invoices"}

    state: dict[str, Any] = {"read": asyncio.Event()}
    holder["read"] = _pausing(real_lock, first, state)
    found = await _interleave_with(sessionmaker, partner.partner_id, connection_id, first, state)
    assert found == both

    # Control: the same interleaving with a plain read (no lock) loses the first one's update.
    async def plain(session, connection_id):
        return await session.get(AccountingConnection, connection_id, populate_existing=True)

    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, connection_id)
        row.errors = None
        await session.commit()
    state = {"read": asyncio.Event()}
    holder["read"] = _pausing(plain, first, state)
    found = await _interleave_with(sessionmaker, partner.partner_id, connection_id, first, state)
    assert len(found) == 1 and found < both


async def _interleave_with(sessionmaker, partner_id, connection_id, first, state) -> set[str]:
    """Run ``first`` until it has read the row, then the other one; the problems stored."""
    ctx = SimpleNamespace(sessionmaker=sessionmaker)
    runs = {
        "pull": lambda: _pull_note(ctx, connection_id),
        "webhook": lambda: _webhook(sessionmaker, partner_id),
    }
    second = "webhook" if first == "pull" else "pull"
    task = asyncio.create_task(runs[first](), name=first)
    await asyncio.wait_for(state["read"].wait(), 10)
    other = asyncio.create_task(runs[second](), name=second)
    await asyncio.wait_for(asyncio.gather(task, other), 30)
    async with sessionmaker() as session:
        row = await session.get(AccountingConnection, connection_id)
        return {e["code"] + ":" + str(e["data_type"]) for e in row.errors or []}
