"""Asking the job runner to apply stored events, coalesced across concurrent requests.

A request that stored a new event marks "a drain is wanted" and answers; one task per job
runner turns the marks into ``Jobs.request_webhook_drain`` calls, one at a time and at most
one per :data:`MIN_INTERVAL`: marks made while a call is under way or in the pause after it
cause exactly one more call, started after them. So every stored event is followed by a
drain request made after its commit (the drain will see it) within about ``MIN_INTERVAL``,
while a steady stream of webhooks costs at most ~1/``MIN_INTERVAL`` enqueues per second (on
PostgreSQL each is an INSERT and a NOTIFY, costlier than receiving a webhook) instead of one
per webhook, and no request waits for one.

A failed request is logged; the periodic sweep requests a drain anyway.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

log = logging.getLogger("acctsync.webhooks")

#: Seconds between two drain requests of one process (an idle receiver requests at once).
MIN_INTERVAL = 0.1

_requesters: weakref.WeakKeyDictionary[Any, DrainRequests] = weakref.WeakKeyDictionary()


class DrainRequests:
    """The coalescing requester of one job runner (``app.jobs.Jobs``) in one event loop."""

    def __init__(self, jobs: Any) -> None:
        self.jobs = jobs
        self.loop = asyncio.get_running_loop()
        self._wanted = False
        self._task: asyncio.Task[None] | None = None

    def want(self) -> None:
        """Note that events were stored (call after their commit); returns at once."""
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run())

    async def _run(self) -> None:
        while self._wanted:
            self._wanted = False
            try:
                await self.jobs.request_webhook_drain()
            except Exception:  # the sweep requests a drain later
                log.exception("could not request a webhook drain")
            await asyncio.sleep(MIN_INTERVAL)


def requester_for(jobs: Any) -> DrainRequests:
    """The requester of ``jobs`` in the running event loop (created on first use)."""
    requester = _requesters.get(jobs)
    if requester is None or requester.loop is not asyncio.get_running_loop():
        requester = _requesters[jobs] = DrainRequests(jobs)
    return requester
