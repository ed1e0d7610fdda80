"""Stopping the job runner (``Jobs.stop``): running jobs finish (bounded) before the scheduler
stops, so none is cancelled inside a transaction; a job that will not finish is cancelled
after the grace period. On SQLite a cancelled write kept the database's write lock past the
stop (the next test's clean-up then failed); the jobs here write, as pulls do."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import select

from app.db.models import Partner
from app.jobs import current_context
from tests.jobs._runner import make_runner

STARTED: dict[str, asyncio.Event] = {}


async def slow_write(name: str, seconds: float) -> None:
    """Insert a partner inside a transaction that stays open ``seconds``."""
    async with current_context().sessionmaker() as session, session.begin():
        session.add(Partner(id=uuid.uuid4(), name=name))
        await session.flush()  # the write lock (SQLite) is taken here
        STARTED[name].set()
        await asyncio.sleep(seconds)


async def _run_and_stop(settings, engine, sessionmaker, name: str, seconds: float, grace: float):
    jobs = make_runner(
        settings,
        engine,
        sessionmaker,
        {"slow_write": f"{__name__}:slow_write"},
        sweep_interval=3600,
    )
    STARTED[name] = asyncio.Event()
    await jobs.start()
    try:
        await jobs.enqueue("slow_write", name=name, seconds=seconds)
        await asyncio.wait_for(STARTED[name].wait(), 10)
    finally:
        started = time.monotonic()
        await jobs.stop(grace=grace)
    return time.monotonic() - started


async def test_stop_lets_a_running_job_finish_its_transaction(
    settings, clean_db, sessionmaker
) -> None:
    took = await _run_and_stop(settings, clean_db, sessionmaker, "finishes", 0.5, grace=10)
    assert 0.3 < took < 5
    # the job committed, and the database takes a write at once (no lock left behind)
    async with sessionmaker() as session, session.begin():
        names = set(await session.scalars(select(Partner.name)))
        session.add(Partner(id=uuid.uuid4(), name="after the stop"))
    assert "finishes" in names


async def test_stop_cancels_a_job_that_outlives_the_grace_period(
    settings, clean_db, sessionmaker
) -> None:
    took = await _run_and_stop(settings, clean_db, sessionmaker, "endless", 3600, grace=0.3)
    assert took < 5
    async with sessionmaker() as session:
        assert "endless" not in set(await session.scalars(select(Partner.name)))
