"""advanced-alchemy configuration: request sessions for Litestar and Alembic commands."""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.alembic.commands import AlembicCommands
from advanced_alchemy.extensions.litestar import (
    AlembicAsyncConfig,
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlalchemy_config(
    database_url: str, engine: AsyncEngine | None = None
) -> SQLAlchemyAsyncConfig:
    """The plugin config: one engine, a session per request committed on 2xx responses."""
    return SQLAlchemyAsyncConfig(
        engine_instance=engine or create_engine(database_url),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit",
        create_all=False,
        alembic_config=AlembicAsyncConfig(
            script_location=str(MIGRATIONS),
            version_table_name="alembic_version",
            render_as_batch=True,
        ),
    )


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (synchronous; run outside an event loop).

    Raises:
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    engine = create_engine(database_url)
    AlembicCommands(sqlalchemy_config=sqlalchemy_config(database_url, engine)).upgrade(revision)
    if engine.dialect.name == "postgresql":
        import asyncio

        from app.jobs.runner import init_scheduler_store

        async def init() -> None:
            scheduler_engine = create_engine(database_url)
            try:
                await init_scheduler_store(scheduler_engine)
            finally:
                await scheduler_engine.dispose()

        asyncio.run(init())
