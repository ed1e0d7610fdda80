"""What the domains see of the job runner: the job context and the queue it carries.

The domains (``app.sync``, ``app.webhook_receiver``, ...) depend on this module only, never
on the runner (``app.jobs.runner``) or APScheduler; the runner depends on nothing above it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
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


#: Contexts of the runners started in this process, oldest first (a test process may run
#: several apps at once; a service runs one).
_started: list[JobContext] = []
#: The context of the runner whose scheduler task this code runs in (set by that task, so
#: its jobs and their child tasks see their own runner's context whatever else starts or
#: stops in the process).
_runner_context: ContextVar[JobContext | None] = ContextVar("acctsync_job_context", default=None)


def current_context() -> JobContext:
    """The context of the runner this job runs under, else of the runner started last in this
    process and still running (a request's hook, say).

    Raises:
        RuntimeError: no job runner is running in this process.
    """
    context = active_context()
    if context is None:
        raise RuntimeError("the job runner is not started in this process")
    return context


def active_context() -> JobContext | None:
    """As :func:`current_context`, or None when no job runner is running."""
    own = _runner_context.get()
    if own is not None:
        return own
    return _started[-1] if _started else None


def started_contexts() -> tuple[JobContext, ...]:
    """The contexts of the runners started in this process and not stopped, oldest first."""
    return tuple(_started)


def enter_context(context: JobContext) -> None:
    """Make ``context`` the process's latest (a runner calls this when it starts)."""
    _started.append(context)


def leave_context(context: JobContext) -> None:
    """Forget ``context`` (a runner calls this when it stops); the runner started before it,
    if one still runs, becomes the process's again."""
    with contextlib.suppress(ValueError):
        _started.remove(context)


def bind_runner_context(context: JobContext) -> None:
    """Make ``context`` the one seen by the calling task and the tasks it creates from now on
    (a runner's scheduler task calls this before starting its scheduler)."""
    _runner_context.set(context)


def job_label() -> str:
    """``schedule=<id> fire=<scheduled fire time>`` of the running job (``-`` where none)."""
    job = current_job.get(None)
    if job is None:
        return "schedule=- fire=-"
    fire = job.scheduled_fire_time.isoformat() if job.scheduled_fire_time else "-"
    return f"schedule={job.schedule_id or '-'} fire={fire}"
