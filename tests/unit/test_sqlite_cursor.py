"""The one-hop aiosqlite cursor (app.db.sqlite_cursor) behaves as SQLAlchemy's own: rows,
rowcount, lastrowid, executemany, errors, and transactions rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.db import sqlite_cursor
from app.db.engine import create_engine


async def test_one_hop_cursor(tmp_path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.cursor(), sqlite_cursor.OneHopCursor)
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert inserted.rowcount == 1
            assert inserted.lastrowid == 1
            await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
            updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert updated.rowcount == 2
            rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('z')"))
                await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        async with engine.connect() as conn:  # the failed transaction left nothing
            names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
            assert names == ["a", "b!", "c!"]
    finally:
        await engine.dispose()


async def test_commit_and_rollback_still_act_inside_a_transaction(tmp_path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER)"))
            await conn.commit()
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            await conn.rollback()  # undone
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            await conn.commit()  # kept
            await conn.execute(text("SELECT a FROM t"))
            await conn.rollback()  # no transaction open: nothing to do, nothing lost
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT a FROM t"))).scalars().all() == [2]
    finally:
        await engine.dispose()


async def test_autocommit_reads_take_turns_and_writers_are_not_held_back(
    tmp_path, monkeypatch
) -> None:
    """At most ``CONCURRENT_READS`` reads outside a transaction run at once (issue 17), while a
    write transaction's statements run beside them: a writer never waits for a read slot."""
    import asyncio
    import threading
    import time

    from sqlalchemy import event

    monkeypatch.setattr(sqlite_cursor, "CONCURRENT_READS", 2)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}

    def slow(value: int) -> int:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        time.sleep(0.3 if value == 7 else 0.05)  # the writer's read outlasts a reader's
        with lock:
            running["now"] -= 1
        return value

    event.listen(
        engine.sync_engine, "connect", lambda conn, _: conn.create_function("slow", 1, slow)
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))

        async def read(i: int) -> int:
            async with engine.connect() as conn:
                return (await conn.execute(text("SELECT slow(:i)"), {"i": i})).scalar_one()

        assert await asyncio.gather(*(read(i) for i in range(8))) == list(range(8))
        assert running["peak"] == 2

        running["peak"] = 0
        async with engine.begin() as writer:
            await writer.execute(text("INSERT INTO t (id) VALUES (1)"))  # opens the transaction
            readers = asyncio.gather(*(read(i) for i in range(6)))
            await asyncio.sleep(0.01)  # the readers hold both slots now
            in_transaction = (await writer.execute(text("SELECT slow(7)"))).scalar_one()
            assert in_transaction == 7
            assert running["peak"] == 3  # the writer's read ran beside the two readers
        assert await readers == list(range(6))
    finally:
        await engine.dispose()
