"""``app.db.reads``: the fast read types give the values the models' types give, on the test
database (SQLite, or PostgreSQL with ACCTSYNC_TEST_DATABASE_URL), and the UUID/date-time
shortcuts match the standard constructors (issue 17)."""

from __future__ import annotations

import datetime as dt
import pickle
import uuid

import pytest
from sqlalchemy import select

from app.db.models import AccountingConnection, Entity, Partner, SyncedRecord
from app.db.reads import first_row, read_columns, utc_from_sqlite, uuid_from_bytes


def test_uuid_from_bytes_is_the_constructors_uuid() -> None:
    for _ in range(200):
        expected = uuid.uuid4()
        made = uuid_from_bytes(expected.bytes)
        assert type(made) is uuid.UUID
        assert made == expected and hash(made) == hash(expected)
        assert str(made) == str(expected) and made.version == 4
        assert made.is_safe == expected.is_safe
        assert pickle.loads(pickle.dumps(made)) == expected
    with pytest.raises(ValueError):
        uuid_from_bytes(b"\x00" * 15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02 17:41:04.123456", dt.datetime(2026, 12, 2, 17, 41, 4, 123456, dt.UTC)),
        ("2026-12-02 17:41:04", dt.datetime(2026, 12, 2, 17, 41, 4, tzinfo=dt.UTC)),
        (
            "2026-12-02 19:41:04+02:00",
            dt.datetime(2026, 12, 2, 19, 41, 4, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
    ],
)
def test_utc_from_sqlite(text: str, expected: dt.datetime) -> None:
    parsed = utc_from_sqlite(text)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


async def test_read_columns_equal_the_orm_values(sessionmaker, clean_db) -> None:
    when = dt.datetime(2026, 11, 1, 9, 30, 15, 250000, tzinfo=dt.UTC)
    async with sessionmaker() as session, session.begin():
        partner = Partner(name="P")
        session.add(partner)
        await session.flush()
        entity = Entity(partner_id=partner.id, type="organization", legal_name="E")
        session.add(entity)
        await session.flush()
        conn = AccountingConnection(
            entity_id=entity.id,
            platform="xero",
            status="connected",
            provider_company_id="c",
            provider_connection_id="c",
            connection_url="http://link",
        )
        session.add(conn)
        await session.flush()
        record = SyncedRecord(
            entity_id=entity.id,
            connection_id=conn.id,
            object_type="bill",
            object_id=uuid.uuid4(),
            sync_status="done",
            created_at=when,
            updated_at=when + dt.timedelta(seconds=1),
            last_pulled_at=None,
        )
        session.add(record)
    names = ("id", "object_id", "connection_id", "created_at", "updated_at", "last_pulled_at")
    table = SyncedRecord.__table__
    row = await first_row(
        clean_db, select(*read_columns(table, names)).where(table.c.id == record.id), {}
    )
    async with sessionmaker() as session:
        orm = await session.get(SyncedRecord, record.id)
    assert row is not None and orm is not None
    for name, value in zip(names, row, strict=True):
        expected = getattr(orm, name)
        assert value == expected, name
        assert type(value) is type(expected), name
        if isinstance(value, dt.datetime):
            assert value.utcoffset() == dt.timedelta(0), name
    assert row.created_at == when
    missing = select(*read_columns(table, names)).where(table.c.id == uuid.uuid4())
    assert await first_row(clean_db, missing, {}) is None
