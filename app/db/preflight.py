"""Is the configured database usable? Asked by the CLI before a command starts, so that a
problem is one line naming its cause and its fix instead of a traceback from deep inside a
migration or the job runner.

:func:`check_database` raises :class:`DatabaseUnusable` with the message and the exit status:
2 for configuration (a SQLite path under a regular file, a file that is not a SQLite
database, a PostgreSQL login or database name refused), 3 for an unreachable dependency
(PostgreSQL not answering at its host:port).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

#: Exit statuses of the CLI.
CONFIGURATION = 2
UNREACHABLE = 3
#: Seconds to wait for PostgreSQL to answer.
CONNECT_TIMEOUT = 5


class DatabaseUnusable(Exception):
    """The database cannot be used; ``str(self)`` says why and what to do, ``status`` is the
    exit status (:data:`CONFIGURATION` or :data:`UNREACHABLE`)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_database(database_url: str) -> None:
    """Raise :class:`DatabaseUnusable` unless ``database_url`` can be opened.

    SQLite: every existing ancestor of the file is a folder, and an existing file is a
    SQLite database (a missing one is created on start). PostgreSQL: a connection opens
    within :data:`CONNECT_TIMEOUT` seconds.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite(url)
    else:
        _check_postgresql(url)


def _check_sqlite(url: URL) -> None:
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            raise DatabaseUnusable(
                f"the SQLite database {path} cannot be created: {parent} is a file, not a"
                " folder; set ACCTSYNC_DATABASE_URL to a path in a folder"
                " (e.g. sqlite+aiosqlite:///./var/acctsync.db)",
                CONFIGURATION,
            )
    if not path.exists():
        return
    if path.is_dir():
        raise DatabaseUnusable(
            f"the SQLite database {path} is a folder; set ACCTSYNC_DATABASE_URL to a file path"
            " (e.g. sqlite+aiosqlite:///./var/acctsync.db)",
            CONFIGURATION,
        )
    try:
        connection = sqlite3.connect(path)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(
            f"{path} is not a usable SQLite database ({exc}): move it aside (a new one is"
            " created on start) or set ACCTSYNC_DATABASE_URL to another file",
            CONFIGURATION,
        ) from exc


def _check_postgresql(url: URL) -> None:
    import psycopg

    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT).close()
    except psycopg.Error as exc:
        raise postgresql_problem(exc, where) from exc


def postgresql_problem(exc: BaseException, where: str) -> DatabaseUnusable:
    """What a failed PostgreSQL connection means: the server refused the login or the
    database (configuration), or nothing answered at ``where`` (unreachable)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "FATAL:" in first:
        reason = " ".join(first.split("FATAL:", 1)[1].split())
        return DatabaseUnusable(
            f"PostgreSQL at {where} refused the connection: {reason}; fix the user, password"
            " or database name in ACCTSYNC_DATABASE_URL",
            CONFIGURATION,
        )
    reason = first.rsplit(": ", 1)[-1].strip() or type(exc).__name__
    return DatabaseUnusable(
        f"cannot reach PostgreSQL at {where} ({reason}): start it, or fix the host:port in"
        " ACCTSYNC_DATABASE_URL",
        UNREACHABLE,
    )
