"""After a commit that wrote events, ask the job runner to deliver them, coalesced.

Each commit marks its partners; one task per job runner turns the marks into a
``dispatch_events`` job at most every :data:`MIN_INTERVAL` (as the webhook drain requests do,
``app.webhook_receiver.drain_requests``), and that job queues ``deliver_webhooks`` for each of
those partners' subscriptions that is due. A lost request costs a delay, not an event: the
sweep dispatches every due subscription.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from typing import Any

from app.events import notify
from app.jobs import active_context

log = logging.getLogger("acctsync.events")

#: Seconds between two dispatch requests of one process.
MIN_INTERVAL = 0.05

_requesters: weakref.WeakKeyDictionary[Any, _Requests] = weakref.WeakKeyDictionary()


class _Requests:
    def __init__(self, jobs: Any) -> None:
        self.jobs = jobs
        self.loop = asyncio.get_running_loop()
        self._wanted: set[uuid.UUID] = set()
        self._task: asyncio.Task[None] | None = None

    def want(self, partners: set[uuid.UUID]) -> None:
        self._wanted |= partners
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run())

    async def _run(self) -> None:
        while self._wanted:
            partners, self._wanted = self._wanted, set()
            if not getattr(self.jobs, "running", True):
                return  # a stopped runner: the next one's start dispatches what is due
            try:
                await self.jobs.enqueue(
                    "dispatch_events", partner_ids=sorted(str(p) for p in partners)
                )
            except Exception:  # the sweep dispatches later
                log.exception("could not request webhook deliveries")
            await asyncio.sleep(MIN_INTERVAL)


def _on_commit(partners: set[uuid.UUID]) -> None:
    ctx = active_context()
    if ctx is None:
        return  # no job runner in this process: a worker's sweep dispatches
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    requester = _requesters.get(ctx.jobs)
    if requester is None or requester.loop is not asyncio.get_running_loop():
        requester = _requesters[ctx.jobs] = _Requests(ctx.jobs)
    requester.want(partners)


notify.add_listener(_on_commit)
