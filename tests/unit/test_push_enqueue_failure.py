"""A push queued after commit while the job runner stops (or restarts) is not lost (the record
is pending; the sweep queues it) and is said once in the log, not as asyncio's "Task exception
was never retrieved" with a traceback."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from app.sync import hooks


async def test_a_failed_enqueue_is_logged_once_and_retrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def enqueue() -> None:
        raise RuntimeError("the job runner is not running")

    seen: list[dict] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        with caplog.at_level(logging.INFO, logger="acctsync.push"):
            task = loop.create_task(enqueue())
            hooks._tasks.add(task)
            task.add_done_callback(hooks._enqueued)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            del task
            gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert not hooks._tasks
    # the push hook's own lines: in CI a job scheduler left running in this session's loop by
    # an earlier test logged its failing sweep here too (see the stop 23 note)
    assert [r.getMessage() for r in caplog.records if r.name == "acctsync.push"] == [
        "push not queued now (RuntimeError: the job runner is not running); the sweep will queue it"
    ]
    assert seen == []  # nothing "never retrieved"
