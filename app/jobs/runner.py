"""The job runner: APScheduler 4 set-up, task registry, schedules and reconcile."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler import AsyncScheduler, ConflictPolicy, SchedulerRole
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.eventbrokers.psycopg import PsycopgEventBroker
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings

log = logging.getLogger("acctsync.jobs")
SCHEDULER_SCHEMA = "apscheduler"


@dataclass
class JobContext:
    """What a job needs from its process: settings, sessions, the provider, the runner.

    ``provider_for`` returns the provider client for a partner (by partner id).
    """

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    provider_for: Callable[[uuid.UUID], Awaitable[Any]]
    jobs: Jobs
    extras: dict[str, Any] = field(default_factory=dict)


_context: JobContext | None = None


def current_context() -> JobContext:
    """The context of the running process (set when :class:`Jobs` starts).

    Raises:
        RuntimeError: no job runner was started in this process.
    """
    if _context is None:
        raise RuntimeError("the job runner is not started in this process")
    return _context


@dataclass(frozen=True)
class TaskSpec:
    """A task: its function reference and how many may run at once cluster-wide."""

    name: str
    func: str  # "module:function", so persistent stores can find it
    max_running_jobs: int | None


def _tasks() -> list[TaskSpec]:
    # Concurrency is declared explicitly: APScheduler 4 defaults to one running job per task.
    return [
        TaskSpec("apply_webhook_events", "app.jobs.tasks:apply_webhook_events", 1),
        TaskSpec("pull_connection", "app.jobs.tasks:pull_connection", 4),
        TaskSpec("push_synced_record", "app.jobs.tasks:push_synced_record", 8),
        TaskSpec("sweep", "app.jobs.tasks:sweep", 1),
        TaskSpec("check_pending_connections", "app.jobs.tasks:check_pending_connections", 1),
    ]


async def init_scheduler_store(engine: AsyncEngine) -> None:
    """Create the scheduler's tables (PostgreSQL) once, before any worker starts: two workers
    creating them at the same moment collide. ``acctsync db upgrade`` runs this."""
    from contextlib import AsyncExitStack

    store = SQLAlchemyDataStore(engine, schema=SCHEDULER_SCHEMA)
    async with AsyncExitStack() as stack:
        await store.start(stack, LocalEventBroker(), log)


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    mod = __import__(module, fromlist=[name])
    return getattr(mod, name)


class Jobs:
    """Start/stop the scheduler and add jobs and schedules.

    ``run_worker`` False makes an API-only process: it adds jobs for the workers to run.
    """

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        provider_for: Callable[[uuid.UUID], Awaitable[Any]],
        *,
        run_worker: bool = True,
        sweep_interval: float = 15.0,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.run_worker = run_worker
        self.sweep_interval = sweep_interval
        self.context = JobContext(settings, sessionmaker, provider_for, self)
        self._scheduler: AsyncScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._drain_queued = False

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def _stores(self) -> tuple[Any, Any]:
        if self.settings.is_sqlite:
            return MemoryDataStore(), LocalEventBroker()
        return (
            SQLAlchemyDataStore(self.engine, schema=SCHEDULER_SCHEMA),
            PsycopgEventBroker.from_async_sqla_engine(self.engine),
        )

    async def start(self) -> None:
        """Start the scheduler (and, for workers, processing), then reconcile.

        The scheduler lives in a task of its own (anyio cancel scopes must be left by the
        task that entered them), so ``start`` and ``stop`` may be called from any task.
        """
        global _context
        _context = self.context
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready))
        await ready
        if self.run_worker:
            await self.reconcile()

    async def _run(self, ready: asyncio.Future[None]) -> None:
        store, broker = self._stores()
        role = SchedulerRole.both if self.run_worker else SchedulerRole.scheduler
        try:
            async with AsyncScheduler(
                store, broker, role=role, max_concurrent_jobs=16
            ) as scheduler:
                for spec in _tasks():
                    await scheduler.configure_task(
                        spec.name,
                        func=_resolve(spec.func),
                        max_running_jobs=spec.max_running_jobs,
                        misfire_grace_time=None,
                    )
                if self.run_worker:
                    await scheduler.start_in_background()
                    await scheduler.add_schedule(
                        "sweep",
                        IntervalTrigger(seconds=self.sweep_interval),
                        id="sweep",
                        conflict_policy=ConflictPolicy.replace,
                    )
                self._scheduler = scheduler
                ready.set_result(None)
                await self._stopping.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
                return
            raise
        finally:
            self._scheduler = None

    async def stop(self) -> None:
        """Stop the scheduler and wait for it (running jobs are cancelled)."""
        global _context
        if self._task is not None:
            self._stopping.set()
            task, self._task = self._task, None
            await task
        _context = None

    @property
    def scheduler(self) -> AsyncScheduler:
        if self._scheduler is None:
            raise RuntimeError("job runner not started")
        return self._scheduler

    async def enqueue(self, task: str, **kwargs: Any) -> None:
        """Run ``task`` soon on some worker (kwargs must be plain values)."""
        await self.scheduler.add_job(task, kwargs=kwargs)

    async def request_webhook_drain(self) -> None:
        """Ask for the stored webhook events to be applied (coalesced per process)."""
        if self._drain_queued:
            return
        self._drain_queued = True
        await self.enqueue("apply_webhook_events")

    def drain_started(self) -> None:
        self._drain_queued = False

    async def retry_later(self, task: str, delay: float, **kwargs: Any) -> None:
        """Run ``task`` once after ``delay`` seconds (APScheduler 4 has no job retries)."""
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        await self.scheduler.add_schedule(
            task,
            DateTrigger(when),
            kwargs=kwargs,
            id=f"retry:{task}:{sorted(kwargs.items())}",
            conflict_policy=ConflictPolicy.replace,
        )

    async def ensure_pull_schedule(self, connection_id: uuid.UUID) -> None:
        """The hourly (``PULL_INTERVAL_SECONDS``) pull of a connected connection, jittered."""
        interval = self.settings.pull_interval_seconds
        start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=random.uniform(0, interval))
        await self.scheduler.add_schedule(
            "pull_connection",
            IntervalTrigger(seconds=interval, start_time=start),
            id=f"pull:{connection_id}",
            kwargs={"connection_id": str(connection_id)},
            conflict_policy=ConflictPolicy.do_nothing,
            max_jitter=min(60.0, interval / 10),
        )

    async def remove_pull_schedule(self, connection_id: uuid.UUID) -> None:
        """Drop the pull schedule of a connection (no error if there is none)."""
        await self.scheduler.remove_schedule(f"pull:{connection_id}")

    async def reconcile(self) -> None:
        """Make schedules match the connections and re-queue due work (see ``tasks.sweep``)."""
        from app.jobs import tasks

        await tasks.reconcile_schedules(self.context)
        await self.enqueue("sweep")
