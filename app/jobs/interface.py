"""What the domains see of the job runner: the job context and the queue it carries.

The domains (``app.sync``, ``app.webhook_receiver``, ...) depend on this module only, never
on the runner (``app.jobs.runner``) or APScheduler; the runner depends on nothing above it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from apscheduler import current_job
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings


class JobQueue(Protocol):
    """The job runner's operations the domains use (``app.jobs.Jobs`` implements them)."""

    engine: AsyncEngine

    async def enqueue(self, task: str, **kwargs: Any) -> None:
        """Run ``task`` soon on some worker (kwargs must be plain values)."""
        ...

    async def retry_later(
        self, task: str, delay: float, *, schedule_id: str | None = None, **kwargs: Any
    ) -> None:
        """Run ``task`` once after ``delay`` seconds; a retry with the same id replaces it."""
        ...

    async def request_webhook_drain(self) -> None:
        """Ask for the stored webhook events to be applied."""
        ...

    def drain_started(self) -> None:
        """Note that a drain started (a coalesced drain request may be made again)."""
        ...

    async def ensure_pull_schedule(
        self, connection_id: uuid.UUID, *, last_pull: dt.datetime | None = None, **kwargs: Any
    ) -> bool:
        """Make sure the connection has its interval pull schedule."""
        ...

    async def remove_pull_schedule(self, connection_id: uuid.UUID) -> None:
        """Drop the pull schedule of a connection (no error if there is none)."""
        ...

    async def reconcile_pull_schedules(
        self, wanted: dict[uuid.UUID, dt.datetime | None]
    ) -> tuple[int, int]:
        """Make the pull schedules those of ``wanted`` (connection id: last pull); returns
        how many schedules were added or replaced, and how many removed."""
        ...


@dataclass
class JobContext:
    """What a job needs from its process: settings, sessions, the provider, the runner.

    ``provider_for`` returns the provider client for a partner (by partner id).
    """

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    provider_for: Callable[[uuid.UUID], Awaitable[Any]]
    jobs: JobQueue
    extras: dict[str, Any] = field(default_factory=dict)


_context: JobContext | None = None


def current_context() -> JobContext:
    """The context of the running process (set when :class:`app.jobs.Jobs` starts).

    Raises:
        RuntimeError: no job runner was started in this process.
    """
    if _context is None:
        raise RuntimeError("the job runner is not started in this process")
    return _context


def active_context() -> JobContext | None:
    """The context of the running process, or None when no job runner is started."""
    return _context


def set_context(context: JobContext | None) -> None:
    """Make ``context`` the process's (the runner calls this on start, and None on stop)."""
    global _context
    _context = context


def job_label() -> str:
    """``schedule=<id> fire=<scheduled fire time>`` of the running job (``-`` where none)."""
    job = current_job.get(None)
    if job is None:
        return "schedule=- fire=-"
    fire = job.scheduled_fire_time.isoformat() if job.scheduled_fire_time else "-"
    return f"schedule={job.schedule_id or '-'} fire={fire}"
