"""In-process news of committed events: wakes the WebSocket streams and asks the job runner
to deliver webhooks. Other processes learn of events by polling the table (a stream polls
every ``POLL_SECONDS``; the sweep queues deliveries)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable

Listener = Callable[[set[uuid.UUID]], None]

_waiters: set[asyncio.Future[None]] = set()
_listeners: list[Listener] = []


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def publish(partner_ids: Iterable[uuid.UUID]) -> None:
    """Events of ``partner_ids`` were committed (called after the commit)."""
    partners = set(partner_ids)
    for future in list(_waiters):
        future.get_loop().call_soon_threadsafe(_wake, future)
    for listener in list(_listeners):
        listener(partners)


def add_listener(listener: Listener) -> None:
    """Call ``listener(partner_ids)`` after each commit that wrote events (once per function)."""
    if listener not in _listeners:
        _listeners.append(listener)


async def wait(seconds: float) -> None:
    """Return when events are committed in this process, or after ``seconds``."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    _waiters.add(future)
    try:
        await asyncio.wait_for(future, seconds)
    except TimeoutError:
        pass
    finally:
        _waiters.discard(future)
