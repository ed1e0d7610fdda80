"""Several job runners in one process (a test process starts many apps; one may stop while
another runs): each runner's jobs see their own runner's context, and a runner stopping does
not leave the others' jobs without one. Before, the context was one process global that the
first ``Jobs.stop`` set to None: the still-running runner's sweep then failed with "the job
runner is not started in this process"."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text

from app.jobs import Jobs, active_context, current_context
from tests.conftest import IS_POSTGRES
from tests.jobs._runner import make_runner

SEEN: dict[str, Any] = {}
DONE: dict[str, asyncio.Event] = {}


async def record_context(name: str) -> None:
    """Remember the context this job sees (or the error asking for it raised)."""
    try:
        SEEN[name] = current_context()
    except RuntimeError as exc:
        SEEN[name] = exc
    DONE[name].set()


async def _job_sees(jobs: Jobs, name: str) -> Any:
    DONE[name] = asyncio.Event()
    await jobs.enqueue("record_context", name=name)
    await asyncio.wait_for(DONE[name].wait(), 15)
    return SEEN.pop(name)


@pytest.mark.parametrize("stop_first", ["newer", "older"])
async def test_a_runner_s_jobs_keep_its_context_while_another_starts_and_stops(
    settings, clean_db, sessionmaker, stop_first: str
) -> None:
    # The older runner runs jobs; the newer only schedules (on PostgreSQL both would share
    # the job store, and either could take a job).
    tasks = {"record_context": f"{__name__}:record_context"}
    older = make_runner(settings, clean_db, sessionmaker, tasks, sweep_interval=3600)
    newer = make_runner(
        settings, clean_db, sessionmaker, tasks, run_worker=False, sweep_interval=3600
    )
    await older.start()
    try:
        assert active_context() is older.context
        await newer.start()
        try:
            # outside any job (a request's hook): the runner started last
            assert active_context() is newer.context
            assert await _job_sees(older, "both running") is older.context
        finally:
            if stop_first == "newer":
                await newer.stop()
        if stop_first == "newer":
            assert active_context() is older.context
            assert await _job_sees(older, "newer stopped") is older.context
    finally:
        await older.stop()
    if stop_first == "older":
        assert active_context() is newer.context
        await newer.stop()
    assert active_context() is None
    with pytest.raises(RuntimeError, match="not started"):
        current_context()


SWEEPS: list[float] = []


async def note_sweep() -> None:
    """A sweep that says when it ran."""
    SWEEPS.append(time.monotonic())


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL only: the shared job store")
async def test_a_new_worker_sweeps_at_once_though_a_dead_one_held_the_sweep_schedule(
    settings, clean_db, sessionmaker
) -> None:
    """A worker killed while it held the cluster's sweep schedule (APScheduler acquires a
    due schedule for ``job_lease_seconds``) must not stop the next worker sweeping until
    that lease runs out: pushes whose job could not be queued wait for the sweep (seen as
    7 pushes still pending 15 s after a kill, ``tests/e2e/test_push_reliability.py``)."""
    tasks = {"sweep": f"{__name__}:note_sweep"}
    first = make_runner(settings, clean_db, sessionmaker, tasks, sweep_interval=3600)
    await first.start()
    await first.stop()
    async with clean_db.begin() as conn:  # as the dead worker left it: acquired for a minute
        held = await conn.execute(
            text(
                "UPDATE apscheduler.schedules SET acquired_by = 'dead-worker', "
                "acquired_until = now() + interval '60 seconds', next_fire_time = now() "
                "WHERE id = 'sweep'"
            )
        )
        assert held.rowcount == 1
    SWEEPS.clear()
    second = make_runner(settings, clean_db, sessionmaker, tasks, sweep_interval=0.2)
    started = time.monotonic()
    await second.start()
    try:
        await asyncio.sleep(2.5)
    finally:
        await second.stop()
    # the one a worker queues when it starts, and the schedule's every 0.2 s after
    assert len([t for t in SWEEPS if t > started]) >= 4, SWEEPS
