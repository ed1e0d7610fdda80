"""The task registry: the domains' task functions, added by the wiring at the top
(``app.tasks``), which the job runner configures on start without importing any domain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.jobs.interface import JobContext

F = TypeVar("F", bound=Callable[..., Any])
Reconciler = Callable[[JobContext], Awaitable[Any]]


@dataclass(frozen=True)
class TaskSpec:
    """A task: its function reference and how many may run at once cluster-wide.

    ``max_running_jobs`` None means no cluster-wide cap from the scheduler, on purpose for
    every task so far. APScheduler 4.0.0a6 keeps the cap as a counter (``tasks.running_jobs``)
    that a worker increments when it takes a job and decrements when it releases it; a worker
    killed with jobs in hand never decrements, and no one repairs the counter (the clean-up
    only releases jobs nobody re-took), so each kill leaks slots for good: with a cap of 1 the
    webhook drain or the sweep would stop cluster-wide after one unlucky SIGKILL. Exclusivity
    is therefore the tasks' own, with leases that die with their holder (PostgreSQL advisory
    locks, see ``app.sync.queries.lease``). Per process, ``runner.MAX_CONCURRENT_JOBS``
    bounds all jobs together; the provider's rate limits are honoured by the provider client.
    """

    name: str
    func: str  # "module:function", so persistent stores can find it
    max_running_jobs: int | None = None


class TaskRegistry:
    """Task specs by name, and the reconcilers the runner calls on start (in order)."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskSpec] = {}
        self._reconcilers: list[Reconciler] = []

    def task(
        self, name: str | None = None, *, max_running_jobs: int | None = None
    ) -> Callable[[F], F]:
        """Decorator: register a module-level function as the task ``name`` (default: its
        own name); APScheduler 4 would cap a task at one running job cluster-wide unless told
        otherwise, so the cap is stated here (see :class:`TaskSpec`)."""

        def add(func: F) -> F:
            ref = f"{func.__module__}:{func.__qualname__}"
            self.add(TaskSpec(name or func.__name__, ref, max_running_jobs))
            return func

        return add

    def add(self, spec: TaskSpec) -> None:
        """Register ``spec`` (a spec of the same name is replaced)."""
        self._tasks[spec.name] = spec

    def reconciler(self, func: F) -> F:
        """Decorator: ``func(context)`` runs each time the runner reconciles (on start)."""
        self._reconcilers.append(func)
        return func

    @property
    def tasks(self) -> list[TaskSpec]:
        """The registered tasks, in registration order."""
        return list(self._tasks.values())

    @property
    def reconcilers(self) -> list[Reconciler]:
        """The registered reconcilers, in registration order."""
        return list(self._reconcilers)


#: The process's registry: ``app.tasks`` adds to it when imported (``app.server`` does).
registry = TaskRegistry()
