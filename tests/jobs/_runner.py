"""Job runners for the tests of ``app.jobs``: only the tests' own task functions, and no
provider (a job that asks for one fails the test)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.jobs import Jobs
from app.jobs.registry import TaskRegistry, TaskSpec


async def no_provider(_partner_id: uuid.UUID) -> Any:
    raise AssertionError("no provider here")


async def idle_sweep() -> None:
    """The runner schedules a sweep; nothing to sweep here."""


def make_runner(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    tasks: dict[str, str],
    **options: Any,
) -> Jobs:
    """A ``Jobs`` whose registry holds ``tasks`` (name: ``"module:function"``) and, unless
    ``tasks`` names one, a ``sweep`` that does nothing; ``options`` go to ``Jobs``."""
    registry = TaskRegistry()
    for name, ref in {"sweep": f"{__name__}:idle_sweep", **tasks}.items():
        registry.add(TaskSpec(name, ref))
    return Jobs(settings, engine, sessionmaker, no_provider, tasks=registry, **options)
