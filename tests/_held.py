"""Hold an async context manager open in a task of its own (the test worlds' fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

T = TypeVar("T")


@contextlib.asynccontextmanager
async def held(cm: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter ``cm`` in a task of its own, give what it gives, and leave it from that same task.

    For worlds whose lifespans hold anyio cancel scopes, which must be left by the task that
    entered them, while a fixture may be torn down from another task than its set-up's.

    Raises what entering ``cm`` raised (the task has ended then), and on leaving what leaving
    it raised.
    """
    ready: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        try:
            async with cm as value:
                ready.set_result(value)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
                return
            raise

    task = asyncio.create_task(hold())
    try:
        yield await ready
    finally:
        stop.set()
        await task
