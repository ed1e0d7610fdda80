"""The job runner: APScheduler 4 set-up, schedules and reconcile.

It knows no domain: the tasks it configures are those of a :class:`~app.jobs.registry.TaskRegistry`
(filled by ``app.tasks``), and it runs the registry's reconcilers on start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler import (
    AsyncScheduler,
    ConflictPolicy,
    JobReleased,
    Schedule,
    SchedulerRole,
    current_job,
)
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.eventbrokers.psycopg import PsycopgEventBroker
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app import metrics
from app.config import Settings
from app.jobs.interface import JobContext, bind_runner_context, enter_context, leave_context
from app.jobs.registry import TaskRegistry, registry

log = logging.getLogger("acctsync.jobs")
SCHEDULER_SCHEMA = "apscheduler"
#: Jobs one process runs at once, all tasks together.
MAX_CONCURRENT_JOBS = 16
DRAIN_COALESCE_S = 5.0
"""Seconds a queued webhook drain holds back further drain requests (embedded default)."""
#: A connection whose pull is overdue at start is scheduled within this many seconds (or the
#: interval, if shorter), so a restart after an outage does not fire every pull at once.
OVERDUE_SPREAD_SECONDS = 300.0
STOP_GRACE_S = 10.0
"""Seconds :meth:`Jobs.stop` lets this process's running jobs finish before cancelling them."""


def pull_start_time(
    interval: float, last_pull: dt.datetime | None, now: dt.datetime | None = None
) -> dt.datetime:
    """The first fire time of a new pull schedule (UTC).

    - never pulled: a uniformly random point in the next interval, so thousands of
      connections made at once spread over the period;
    - pulled before: one interval after that pull (a restart keeps each connection's phase),
      or, when that is past, a random point in the next ``min(interval, 300)`` seconds.
    """
    now = now or dt.datetime.now(dt.UTC)
    if last_pull is None:
        return now + dt.timedelta(seconds=random.uniform(0, interval))
    if last_pull.tzinfo is None:
        last_pull = last_pull.replace(tzinfo=dt.UTC)
    due = last_pull + dt.timedelta(seconds=interval)
    if due > now:
        return due
    spread = min(float(interval), OVERDUE_SPREAD_SECONDS)
    return now + dt.timedelta(seconds=random.uniform(0, spread))


class _Unknown:
    """The type of :data:`UNKNOWN`."""


#: "Not read yet" (``ensure_pull_schedule`` looks the schedule up).
UNKNOWN = _Unknown()


def _interval_of(schedule: Schedule) -> float | None:
    trigger = schedule.trigger
    if not isinstance(trigger, IntervalTrigger):
        return None
    return dt.timedelta(
        weeks=trigger.weeks,
        days=trigger.days,
        hours=trigger.hours,
        minutes=trigger.minutes,
        seconds=trigger.seconds,
        microseconds=trigger.microseconds,
    ).total_seconds()


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
    ``lease_duration`` (seconds; default ``settings.job_lease_seconds``, i.e.
    ``ACCTSYNC_JOB_LEASE_SECONDS``, 30) is how long a claim on a job or schedule outlives a
    worker that died holding it (a live worker renews it every half lease). ``tasks`` is the
    registry of the tasks to run (default: the process's, which ``app.tasks`` fills).
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
        lease_duration: float | None = None,
        tasks: TaskRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.tasks = tasks if tasks is not None else registry
        self.engine = engine
        self.run_worker = run_worker
        self.sweep_interval = sweep_interval
        self.lease_duration = (
            lease_duration if lease_duration is not None else float(settings.job_lease_seconds)
        )
        self.context = JobContext(settings, sessionmaker, provider_for, self)
        self._scheduler: AsyncScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._drain_queued = False
        self._drain_queued_at = 0.0

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def _stores(self) -> tuple[Any, Any, AsyncEngine | None]:
        """The data store and event broker, and the engine to dispose of afterwards.

        On PostgreSQL the store gets an engine (a connection pool) of its own: a worker's
        jobs may hold every connection of the service's pool (a pull keeps one for its lease
        and uses another), and the scheduler's bookkeeping must not wait behind them. Job
        leases are renewed through it; a renewal stuck for a whole lease would hand a running
        job to another worker, which then runs it a second time.
        """
        if self.settings.is_sqlite:
            return MemoryDataStore(), LocalEventBroker(), None
        engine = create_async_engine(
            self.engine.url.render_as_string(hide_password=False),
            pool_size=2,
            max_overflow=4,
            pool_pre_ping=True,
        )
        return (
            SQLAlchemyDataStore(engine, schema=SCHEDULER_SCHEMA),
            PsycopgEventBroker.from_async_sqla_engine(engine),
            engine,
        )

    async def start(self) -> None:
        """Start the scheduler (and, for workers, processing), then reconcile.

        The scheduler lives in a task of its own (anyio cancel scopes must be left by the
        task that entered them), so ``start`` and ``stop`` may be called from any task.

        Raises:
            RuntimeError: the registry holds no task (``app.tasks`` was not imported).
        """
        if not self.tasks.tasks:
            raise RuntimeError("no job task is registered: import app.tasks first")
        enter_context(self.context)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready))
        try:
            await ready
        except BaseException:
            leave_context(self.context)
            raise
        if self.run_worker:
            await self.reconcile()

    async def _run(self, ready: asyncio.Future[None]) -> None:
        bind_runner_context(self.context)  # this runner's jobs see its context, not another's
        store, broker, store_engine = self._stores()
        role = SchedulerRole.both if self.run_worker else SchedulerRole.scheduler
        try:
            async with AsyncScheduler(
                store,
                broker,
                role=role,
                max_concurrent_jobs=MAX_CONCURRENT_JOBS,
                lease_duration=self.lease_duration,
            ) as scheduler:
                for spec in self.tasks.tasks:
                    await scheduler.configure_task(
                        spec.name,
                        func=_resolve(spec.func),
                        max_running_jobs=spec.max_running_jobs,
                        misfire_grace_time=None,
                    )
                identity = scheduler.identity
                scheduler.subscribe(
                    lambda e: (
                        metrics.job_finished(e.task_id, e.outcome.name)
                        if e.scheduler_id == identity
                        else None
                    ),
                    {JobReleased},
                )
                if self.run_worker:
                    await scheduler.start_in_background()
                    # Removed first: replacing a schedule keeps its acquisition, and a worker
                    # killed while it held the sweep's would stop every worker sweeping until
                    # that lease ran out (job_lease_seconds). A second sweep is harmless: it
                    # takes a lease (app.tasks.sweep).
                    await scheduler.remove_schedule("sweep")
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
            if store_engine is not None:
                await store_engine.dispose()

    async def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Stop the scheduler and wait for it.

        The jobs this process runs get up to ``grace`` seconds to finish, during which it
        takes no new job; those still running then are cancelled. Cancelling is the last
        resort: anyio cancels the whole job scope, the session's rollback included, so a job
        cancelled inside a transaction can keep its connection, and on SQLite the database's
        write lock, after the stop (the next process or test to write then waits or fails).
        """
        try:
            if self._task is not None:
                await self._let_running_jobs_finish(grace)
                self._stopping.set()
                task, self._task = self._task, None
                await task
        finally:
            leave_context(self.context)

    async def _let_running_jobs_finish(self, grace: float) -> None:
        """Take no new job and wait (at most ``grace`` seconds) until none runs here."""
        scheduler = self._scheduler
        # APScheduler 4.0.0a6 (pinned) keeps the jobs it runs in ``_running_jobs`` and takes
        # new ones only while fewer than ``max_concurrent_jobs`` run: 0 takes none.
        running = getattr(scheduler, "_running_jobs", None)
        if scheduler is None or not self.run_worker or running is None:
            return
        scheduler.max_concurrent_jobs = 0
        deadline = time.monotonic() + grace
        # polled: APScheduler removes a job from the set after its JobReleased event is sent
        while running and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if running:
            log.warning(
                "stopping: %d job(s) still running after %.0f s are cancelled",
                len(running),
                grace,
            )

    @property
    def scheduler(self) -> AsyncScheduler:
        if self._scheduler is None:
            raise RuntimeError("job runner not started")
        return self._scheduler

    async def enqueue(self, task: str, **kwargs: Any) -> None:
        """Run ``task`` soon on some worker (kwargs must be plain values)."""
        await self.scheduler.add_job(task, kwargs=kwargs)
        metrics.job_added(task)

    async def refresh_metrics(self) -> None:
        """Set the job queue gauges (queued, running, oldest due) from the job store: every
        process's jobs where the store is shared (PostgreSQL), this process's on SQLite."""
        if self._scheduler is not None:
            metrics.refresh_jobs(await self._scheduler.get_jobs())

    async def request_webhook_drain(self) -> None:
        """Ask for the stored webhook events to be applied.

        Coalesced only where the drain surely runs in this process (the embedded default:
        memory store, this process's worker), until that drain starts. Elsewhere each request
        is a job: a flag here could never be cleared by a drain another process runs, and the
        drain's own lease makes extra requests cheap (see ``tasks.apply_webhook_events``).
        """
        coalesce = self.settings.is_sqlite and self.run_worker
        now = time.monotonic()
        if coalesce and self._drain_queued and now - self._drain_queued_at < DRAIN_COALESCE_S:
            return
        # A request older than DRAIN_COALESCE_S whose drain never started (a lost or failed
        # job) no longer holds the others back: webhooks must not wait for a restart.
        self._drain_queued, self._drain_queued_at = coalesce, now
        try:
            await self.enqueue("apply_webhook_events")
        except BaseException:
            self._drain_queued = False
            raise

    def drain_started(self) -> None:
        self._drain_queued = False

    async def retry_later(
        self, task: str, delay: float, *, schedule_id: str | None = None, **kwargs: Any
    ) -> None:
        """Run ``task`` once after ``delay`` seconds (APScheduler 4 has no job retries).

        ``schedule_id`` names the retry (default: derived from task and kwargs); a retry with
        the same id replaces the pending one, so retries of one thing never pile up. A job
        retrying itself gets the id's ``:next`` twin (and a job of the twin the plain id):
        the scheduler finishes the schedule that fired a job after starting it, and the
        memory store would let that overwrite a replacement made by the job meanwhile.
        """
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        schedule_id = schedule_id or f"retry:{task}:{sorted(kwargs.items())}"
        job = current_job.get(None)
        if job is not None and job.schedule_id == schedule_id:
            schedule_id = f"{schedule_id}:next"
        await self.scheduler.add_schedule(
            task,
            DateTrigger(when),
            kwargs=kwargs,
            id=schedule_id,
            conflict_policy=ConflictPolicy.replace,
        )

    async def ensure_pull_schedule(
        self,
        connection_id: uuid.UUID,
        *,
        last_pull: dt.datetime | None = None,
        existing: Schedule | _Unknown | None = UNKNOWN,
    ) -> bool:
        """Make sure the connection has its interval pull schedule ``pull:{connection_id}``.

        Every ``ACCTSYNC_PULL_INTERVAL_SECONDS`` (hourly by default), first fire from
        :func:`pull_start_time` (random phase; or one interval after ``last_pull``), and up to
        ``min(60 s, interval / 10)`` of jitter on each fire, so thousands of connections never
        fire together. A schedule with the same interval is kept as it is (its phase
        survives restarts and concurrent reconciles); one with another interval (the setting
        changed) is replaced. Every process must run with the same interval setting.

        ``existing``: the current schedule if the caller already read it (None: there is
        none); by default (``UNKNOWN``) it is looked up. Returns True when a schedule was
        added or replaced.
        """
        schedule_id = f"pull:{connection_id}"
        interval = self.settings.pull_interval_seconds
        if isinstance(existing, _Unknown):
            found = await self.scheduler.data_store.get_schedules({schedule_id})
            existing = found[0] if found else None
        if isinstance(existing, Schedule) and _interval_of(existing) == float(interval):
            return False
        await self.scheduler.add_schedule(
            "pull_connection",
            IntervalTrigger(seconds=interval, start_time=pull_start_time(interval, last_pull)),
            id=schedule_id,
            kwargs={"connection_id": str(connection_id)},
            # no schedule yet: two processes may add it at once, and the first one wins
            conflict_policy=ConflictPolicy.replace if existing else ConflictPolicy.do_nothing,
            max_jitter=min(60.0, interval / 10),
        )
        return True

    async def remove_pull_schedule(self, connection_id: uuid.UUID) -> None:
        """Drop the pull schedule of a connection (no error if there is none)."""
        await self.scheduler.remove_schedule(f"pull:{connection_id}")

    async def reconcile_pull_schedules(
        self, wanted: dict[uuid.UUID, dt.datetime | None]
    ) -> tuple[int, int]:
        """Make the pull schedules those of ``wanted`` (connection id: its last pull).

        One ``pull:{id}`` interval schedule per wanted connection (added if missing, replaced
        if its interval differs from the setting, else kept with its phase, see
        :meth:`ensure_pull_schedule`); the pull schedules (and pending pull retries) of every
        other connection removed. Returns ``(added, removed)``.
        """
        existing: dict[uuid.UUID, Any] = {}
        stale: list[str] = []
        for schedule in await self.scheduler.get_schedules():
            connection_id = _pull_schedule_connection(schedule.id)
            if connection_id is None:
                continue
            if connection_id not in wanted:
                stale.append(schedule.id)
            elif schedule.id.startswith("pull:"):
                existing[connection_id] = schedule
        added = 0
        for connection_id, last_pull in wanted.items():
            added += await self.ensure_pull_schedule(
                connection_id, last_pull=last_pull, existing=existing.get(connection_id)
            )
        for schedule_id in stale:
            await self.scheduler.remove_schedule(schedule_id)
        return added, len(stale)

    async def reconcile(self) -> None:
        """Run the registry's reconcilers (``app.tasks.reconcile_schedules``: schedules
        matching the connections) and re-queue due work (the ``sweep`` task)."""
        for reconciler in self.tasks.reconcilers:
            await reconciler(self.context)
        await self.enqueue("sweep")


def _pull_schedule_connection(schedule_id: str) -> uuid.UUID | None:
    """The connection of ``pull:{id}`` or ``retry:pull_connection:{id}:...``, else None."""
    if schedule_id.startswith("pull:"):
        raw = schedule_id.removeprefix("pull:")
    elif schedule_id.startswith("retry:pull_connection:"):
        raw = schedule_id.removeprefix("retry:pull_connection:").split(":", 1)[0]
    else:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None
