"""Background jobs on APScheduler 4 (the only package that imports it).

The service's tables are the source of truth; the scheduler's store is not. ``Jobs`` wraps one
``AsyncScheduler``: on the embedded default a ``MemoryDataStore`` and the local event broker
in the serving process; on PostgreSQL the ``SQLAlchemyDataStore`` (schema ``apscheduler``)
and the psycopg event broker, shared by any number of ``acctsync worker`` processes, with API
processes only adding jobs.

This package knows no domain: the domains use its interface (``JobContext``, the queue
operations of ``JobQueue``), and ``app.tasks`` adds their task functions to ``registry``.
"""

from app.jobs.interface import (
    JobContext,
    JobQueue,
    active_context,
    current_context,
    job_label,
)
from app.jobs.registry import TaskRegistry, TaskSpec, registry
from app.jobs.runner import Jobs

__all__ = [
    "JobContext",
    "JobQueue",
    "Jobs",
    "TaskRegistry",
    "TaskSpec",
    "active_context",
    "current_context",
    "job_label",
    "registry",
]
