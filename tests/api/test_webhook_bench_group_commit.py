"""The receiver's group commit (``app.webhook_receiver.writer``), found while benchmarking it:
concurrent webhooks share one transaction, yet each gets its own answer."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import WebhookEvent
from app.webhook_receiver.writer import writer_for


def _row(message_id: str | None) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    return {
        "message_id": message_id,
        "partner_id": None,
        "event_type": "bills.write.successful",
        "company_id": "c",
        "body": b"{}",
        "received_at": now,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(WebhookEvent))


async def test_concurrent_copies_of_one_event_are_accepted_once(clean_db: AsyncEngine) -> None:
    writer = writer_for(clean_db)
    answers = await asyncio.gather(*(writer.insert(_row(f"msg_{i % 3}")) for i in range(9)))
    assert sorted(answers) == [False] * 6 + [True] * 3
    assert answers[:3] == [True, True, True]  # the first copy of each is the stored one
    assert await _count(clean_db) == 3
    again = await asyncio.gather(writer.insert(_row("msg_0")), writer.insert(_row("msg_new")))
    assert again == [False, True]


async def test_a_row_the_database_refuses_fails_only_its_own_request(
    clean_db: AsyncEngine,
) -> None:
    writer = writer_for(clean_db)
    answers = await asyncio.gather(
        writer.insert(_row("msg_a")),
        writer.insert(_row(None)),  # message_id is NOT NULL
        writer.insert(_row("msg_b")),
        return_exceptions=True,
    )
    assert answers[0] is True and answers[2] is True
    assert isinstance(answers[1], Exception)
    assert await _count(clean_db) == 2
