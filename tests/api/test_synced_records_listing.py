"""Synced records: every list filter, keyset pagination both ways (ties included), tenant
isolation of each endpoint, and the manual/bulk retry refusals (issue 8)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.db.models import AccountingConnection, SyncedRecord

BASE = "/v1/accounting_synced_records"
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


async def _connection(sessionmaker, entity_id: str) -> uuid.UUID:
    async with sessionmaker() as session, session.begin():
        conn = AccountingConnection(
            entity_id=uuid.UUID(entity_id),
            platform="xero",
            status="connected",
            provider_company_id=str(uuid.uuid4()),
            provider_connection_id=str(uuid.uuid4()),
            connection_url="http://link",
        )
        session.add(conn)
    return conn.id


async def _records(sessionmaker, entity_id: str, specs: list[dict[str, Any]]) -> list[str]:
    """Insert bill records; each spec gives ``created`` / ``updated`` (hours after T0) and any
    other column. Returns their ids in spec order."""
    conn_id = await _connection(sessionmaker, entity_id)
    rows = []
    async with sessionmaker() as session, session.begin():
        for i, spec in enumerate(specs):
            spec = dict(spec)
            created = T0 + dt.timedelta(hours=spec.pop("created", i))
            updated = T0 + dt.timedelta(hours=spec.pop("updated", i))
            row = SyncedRecord(
                entity_id=uuid.UUID(entity_id),
                connection_id=conn_id,
                object_type=spec.pop("object_type", "bill"),
                object_id=uuid.uuid4(),
                provider_object_id=f"b{i}",
                sync_status=spec.pop("sync_status", "done"),
                attempts=spec.pop("attempts", 1),
                created_at=created,
                updated_at=updated,
                **spec,
            )
            session.add(row)
            rows.append(row)
    return [str(r.id) for r in rows]


def _names(body: dict[str, Any]) -> list[str]:
    return [r["provider_object_id"] for r in body["data"]]


async def test_date_filters_each_bound(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    # created hour i, updated hour 10 - i: the two orders are opposite
    await _records(sessionmaker, entity, [{"created": i, "updated": 10 - i} for i in range(6)])
    url = f"{BASE}?object_type=bill"

    async def names(q: str) -> list[str]:
        r = await partner.client.get(url + q, headers=h)
        assert r.status_code == 200, r.text
        return _names(r.json())

    at = lambda hours: (T0 + dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")  # noqa: E731
    assert await names(f"&created_at__gt={at(2)}") == ["b3", "b4", "b5"]
    assert await names(f"&created_at__gte={at(2)}") == ["b2", "b3", "b4", "b5"]
    assert await names(f"&created_at__lt={at(2)}") == ["b0", "b1"]
    assert await names(f"&created_at__lte={at(2)}") == ["b0", "b1", "b2"]
    # updated hours: b0=10, b1=9, b2=8, b3=7, b4=6, b5=5
    assert await names(f"&updated_at__gt={at(8)}") == ["b0", "b1"]
    assert await names(f"&updated_at__gte={at(8)}") == ["b0", "b1", "b2"]
    assert await names(f"&updated_at__lt={at(6)}") == ["b5"]
    assert await names(f"&updated_at__lte={at(6)}") == ["b4", "b5"]
    # an offset other than UTC means the same instant; no offset means UTC
    assert await names("&created_at__gte=2026-11-01T04:00:00%2B02:00") == _names(
        (await partner.client.get(url + f"&created_at__gte={at(2)}", headers=h)).json()
    )
    assert await names("&created_at__lt=2026-11-01T01:00:00") == ["b0"]
    # bounds combine: a window on created_at and one on updated_at
    assert await names(f"&created_at__gte={at(1)}&updated_at__gte={at(8)}") == ["b1", "b2"]
    # other object types never show
    assert await names("&object_id__in=" + str(uuid.uuid4())) == []
    other = (await partner.client.get(f"{BASE}?object_type=receivable", headers=h)).json()
    assert other["data"] == []


async def test_keyset_pagination_both_ways_with_ties(partner, sessionmaker) -> None:
    """Eleven records where several share a created_at (the id breaks the tie): walking every
    page forward then back, in both orders, by both sort columns, yields each record once."""
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    created = [0, 1, 1, 1, 2, 3, 3, 4, 5, 5, 5]
    ids = await _records(
        sessionmaker,
        entity,
        [
            {"created": c, "updated": 20 - i, "sync_status": "error" if i % 3 else "done"}
            for i, c in enumerate(created)
        ],
    )
    by_created = sorted(range(11), key=lambda i: (created[i], uuid.UUID(ids[i])))
    by_updated = sorted(range(11), key=lambda i: 20 - i)
    expected_orders = {
        ("created_at", "asc"): [f"b{i}" for i in by_created],
        ("created_at", "desc"): [f"b{i}" for i in reversed(by_created)],
        ("updated_at", "asc"): [f"b{i}" for i in by_updated],
        ("updated_at", "desc"): [f"b{i}" for i in reversed(by_updated)],
    }
    for (sort, order), expected in expected_orders.items():
        url = f"{BASE}?object_type=bill&limit=3&sort={sort}&order={order}"
        pages = [(await partner.client.get(url, headers=h)).json()]
        assert pages[0]["prev_pagination_token"] is None
        while pages[-1]["next_pagination_token"]:
            token = pages[-1]["next_pagination_token"]
            # with a token, the other parameters (here a filter and order) are ignored
            r = await partner.client.get(
                f"{BASE}?object_type=bill&limit=3&sync_status=done&order=asc"
                f"&pagination_token={token}",
                headers=h,
            )
            assert r.status_code == 200, r.text
            pages.append(r.json())
        walked = [n for p in pages for n in _names(p)]
        assert walked == expected, (sort, order)
        assert [len(p["data"]) for p in pages] == [3, 3, 3, 2]
        # and back from the last page to the first, page by page
        back = [_names(pages[-1])]
        page = pages[-1]
        while page["prev_pagination_token"]:
            page = (
                await partner.client.get(
                    f"{BASE}?object_type=bill&limit=3&pagination_token="
                    f"{page['prev_pagination_token']}",
                    headers=h,
                )
            ).json()
            back.insert(0, _names(page))
        assert back == [_names(p) for p in pages], (sort, order)
    # a filtered walk keeps its filter through the tokens
    url = f"{BASE}?object_type=bill&limit=2&sync_status=error"
    page = (await partner.client.get(url, headers=h)).json()
    seen = _names(page)
    while page["next_pagination_token"]:
        page = (
            await partner.client.get(
                f"{BASE}?object_type=bill&limit=2&pagination_token={page['next_pagination_token']}",
                headers=h,
            )
        ).json()
        seen += _names(page)
    assert seen == [f"b{i}" for i in by_created if i % 3]


async def test_every_endpoint_is_scoped_to_the_entity(partner, other_partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    sibling = await partner.create_entity("Sibling Ltd")
    foreign = await other_partner.create_entity("Foreign Ltd")
    ids = await _records(
        sessionmaker, entity, [{"sync_status": "error", "errors": {"message": "x", "details": []}}]
    )
    await _records(sessionmaker, sibling, [{"sync_status": "error"}])
    record = ids[0]
    for client, headers in (
        (partner.client, partner.entity_headers(sibling)),
        (other_partner.client, other_partner.entity_headers(foreign)),
    ):
        assert (await client.get(f"{BASE}/{record}", headers=headers)).status_code == 404
        assert (await client.post(f"{BASE}/{record}/push", headers=headers)).status_code == 404
        patched = await client.patch(
            f"{BASE}/{record}", headers=headers, json={"object_id": str(uuid.uuid4())}
        )
        assert patched.status_code == 404
        listed = (await client.get(f"{BASE}?object_type=bill", headers=headers)).json()["data"]
        assert record not in [r["id"] for r in listed]
    # another partner cannot even name this partner's entity
    assert (
        await other_partner.client.get(
            f"{BASE}?object_type=bill", headers=other_partner.entity_headers(entity)
        )
    ).status_code == 404
    assert (
        await other_partner.client.post(
            f"{BASE}/push",
            headers=other_partner.entity_headers(entity),
            json={"object_type": "bill"},
        )
    ).status_code == 404
    # the sibling's bulk retry queued only its own record; ours is untouched
    bulk = await partner.client.post(
        f"{BASE}/push", headers=partner.entity_headers(sibling), json={"object_type": "bill"}
    )
    assert bulk.status_code == 202 and bulk.json() == {"queued": 1}
    mine = await partner.client.get(f"{BASE}/{record}", headers=partner.entity_headers(entity))
    assert mine.json()["sync_status"] == "error"


async def test_manual_retry_refusals(partner, sessionmaker) -> None:
    entity = await partner.create_entity()
    h = partner.entity_headers(entity)
    pushed_at = T0 + dt.timedelta(hours=1)
    in_flight, done, customer = await _records(
        sessionmaker,
        entity,
        [
            {"sync_status": "pending", "push_operation_key": "op-1", "push_phase": "create"},
            {"object_updated_at": pushed_at, "pushed_version": pushed_at},
            {"object_type": "customer", "sync_status": "error"},
        ],
    )
    busy = await partner.client.post(f"{BASE}/{in_flight}/push", headers=h)
    assert busy.status_code == 409 and "in flight" in busy.json()["error"]["message"]
    same = await partner.client.post(f"{BASE}/{done}/push", headers=h)
    assert same.status_code == 409
    assert "nothing changed" in same.json()["error"]["message"].lower()
    contact = await partner.client.post(f"{BASE}/{customer}/push", headers=h)
    assert contact.status_code == 409
    # nothing moved
    for rid, status in ((in_flight, "pending"), (done, "done"), (customer, "error")):
        body = (await partner.client.get(f"{BASE}/{rid}", headers=h)).json()
        assert body["sync_status"] == status
    # bulk retry: only bills and receivables in error, limit 1-1000
    for body in (
        {"object_type": "customer"},
        {"object_type": "bill", "limit": 0},
        {"object_type": "bill", "limit": 1001},
        {"object_type": "bill", "sync_status": "pending"},
        {},
    ):
        r = await partner.client.post(f"{BASE}/push", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
    none = await partner.client.post(f"{BASE}/push", headers=h, json={"object_type": "bill"})
    assert none.status_code == 202 and none.json() == {"queued": 0}  # none is in error


async def test_one_query_shape_answers_each_request_with_its_own_values(
    partner, sessionmaker
) -> None:
    """The list's statement is built once per shape (issue 17): two entities asking the same
    question in turn, and ``object_id__in`` lists of different lengths, each get their own
    rows, and a page token keeps its own entity's position."""
    first, second = await partner.create_entity(), await partner.create_entity()
    await _records(sessionmaker, first, [{"sync_status": "done"}] * 3 + [{"sync_status": "error"}])
    await _records(sessionmaker, second, [{"sync_status": "error"}] * 2)

    async def listed(entity: str, q: str) -> dict[str, Any]:
        r = await partner.client.get(
            f"{BASE}?object_type=bill{q}", headers=partner.entity_headers(entity)
        )
        assert r.status_code == 200, r.text
        return r.json()

    for _ in range(2):
        assert _names(await listed(first, "&sync_status=error")) == ["b3"]
        assert _names(await listed(second, "&sync_status=error")) == ["b0", "b1"]
        assert _names(await listed(first, "&sync_status=done")) == ["b0", "b1", "b2"]
    ids = [r["object_id"] for r in (await listed(first, ""))["data"]]
    for n in (1, 3, 2):
        q = "".join(f"&object_id__in={i}" for i in ids[:n])
        assert [r["object_id"] for r in (await listed(first, q))["data"]] == ids[:n]
    page = await listed(first, "&limit=2")
    assert _names(await listed(second, "&limit=1")) == ["b0"]
    token = page["next_pagination_token"]
    assert _names(await listed(first, f"&limit=2&pagination_token={token}")) == ["b2", "b3"]
