"""The pulled-records upsert on SQLite (values converted by us, driver executemany) stores
exactly what SQLAlchemy's generic upsert stores, inserts and updates alike; on PostgreSQL
the generic path runs (same assertions)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text

from app.db.models import AccountingConnection, Entity, Partner, PulledRecord
from app.sync import queries
from tests.conftest import IS_POSTGRES


async def _connections(sessionmaker) -> tuple[uuid.UUID, uuid.UUID]:
    async with sessionmaker() as session, session.begin():
        partner = Partner(name="p")
        session.add(partner)
        await session.flush()
        entities = [
            Entity(partner_id=partner.id, type="organization", currency="GBP") for _ in "ab"
        ]
        session.add_all(entities)
        await session.flush()
        made = [
            AccountingConnection(
                entity_id=entities[i].id,
                platform="xero",
                status="connected",
                provider_company_id=f"c{i}",
                connection_url="http://x",
            )
            for i in range(2)
        ]
        session.add_all(made)
    return made[0].id, made[1].id


def _rows(connection_id: uuid.UUID, name: str) -> list[dict]:
    modified = [
        dt.datetime(2026, 3, 1, 12, 0, 5, 120000, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 14, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        None,
    ]
    return [
        {
            "connection_id": connection_id,
            "data_type": "invoices",
            "provider_id": f"inv-{i}",
            "name": None if i == 2 else f"{name} {i}",
            "raw": b'{"id": "inv-%d"}' % i,
            "is_deleted": i == 1,
            "provider_modified_at": modified[i],
        }
        for i in range(3)
    ]


async def _stored(sessionmaker, connection_id: uuid.UUID) -> list[tuple]:
    sql = text(
        "SELECT provider_id, name, raw, is_deleted, provider_modified_at, "
        "created_at = updated_at FROM pulled_records WHERE connection_id = :c "
        "ORDER BY provider_id"
    )
    key = connection_id if IS_POSTGRES else connection_id.bytes
    async with sessionmaker() as session:
        return [tuple(r) for r in (await session.execute(sql, {"c": key})).all()]


async def test_fast_sqlite_upsert_stores_what_the_generic_one_does(sessionmaker) -> None:
    fast, generic = await _connections(sessionmaker)
    for name in ("First", "Renamed"):  # insert, then update on conflict
        async with sessionmaker() as session, session.begin():
            await queries.upsert_pulled(session, _rows(fast, name))
            await queries.upsert(
                session,
                PulledRecord,
                _rows(generic, name),
                ["connection_id", "data_type", "provider_id"],
            )
        assert await _stored(sessionmaker, fast) == await _stored(sessionmaker, generic)
    stored = await _stored(sessionmaker, fast)
    assert [r[1] for r in stored] == ["Renamed 0", "Renamed 1", None]
    assert all(r[5] in (False, 0) for r in stored)  # updated_at moved past created_at
    async with sessionmaker() as session:  # read back through the ORM: aware UTC datetimes
        records = (
            await session.scalars(
                select(PulledRecord)
                .where(PulledRecord.connection_id == fast)
                .order_by(PulledRecord.provider_id)
            )
        ).all()
    assert [r.provider_modified_at for r in records] == [
        dt.datetime(2026, 3, 1, 12, 0, 5, 120000, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC),
        None,
    ]
    assert [r.is_deleted for r in records] == [False, True, False]
