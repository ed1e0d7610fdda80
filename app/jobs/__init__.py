"""Background jobs on APScheduler 4 (the only package that imports it).

The service's tables are the source of truth; the scheduler's store is not. ``Jobs`` wraps one
``AsyncScheduler``: on the embedded default a ``MemoryDataStore`` and the local event broker
in the serving process; on PostgreSQL the ``SQLAlchemyDataStore`` (schema ``apscheduler``)
and the psycopg event broker, shared by any number of ``acctsync worker`` processes, with API
processes only adding jobs.
"""

from app.jobs.runner import JobContext, Jobs, current_context

__all__ = ["JobContext", "Jobs", "current_context"]
