"""Events to the partner: the outbox, the feed (``/v1/events``), webhook subscriptions and
the outbound URL rules (issue 18). Delivery itself: tests/e2e/test_event_delivery.py."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db.models import Counterpart, Event, WebhookSubscription
from app.events import queries
from app.server import create_app
from tests.conftest import IS_POSTGRES, PartnerCtx

pytestmark = pytest.mark.asyncio


def _counterpart(entity_id: str | uuid.UUID, name: str) -> Counterpart:
    return Counterpart(
        entity_id=uuid.UUID(str(entity_id)),
        type="organization",
        name=name,
        legal_name=name,
        is_customer=True,
        is_vendor=False,
    )


async def _counterpart_via_api(partner: PartnerCtx, entity_id: str, name: str) -> str:
    r = await partner.client.post(
        "/v1/counterparts",
        headers=partner.entity_headers(entity_id),
        json={
            "type": "organization",
            "organization": {
                "legal_name": name,
                "is_customer": True,
                "is_vendor": False,
                "address": {"country": "GB", "city": "Leeds", "line1": "1 Park Row"},
            },
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _events(partner: PartnerCtx, **params) -> list[dict]:
    r = await partner.client.get("/v1/events", headers=partner.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- the outbox ------------------------------------------------------------------------------


async def test_a_rolled_back_change_announces_nothing_and_a_committed_one_does(
    partner: PartnerCtx, sessionmaker
) -> None:
    entity_id = await partner.create_entity()
    async with sessionmaker() as session:
        session.add(_counterpart(entity_id, "Never Ltd"))
        await session.flush()
        await session.rollback()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0
        session.add(_counterpart(entity_id, "Kept Ltd"))
        await session.commit()  # no explicit flush: the commit's own flush is seen too
    events = await _events(partner)
    assert [(e["action"], e["sequence"]) for e in events] == [("counterpart.created", 1)]
    assert events[0]["object"]["organization"]["legal_name"] == "Kept Ltd"
    assert events[0]["entity_id"] == entity_id


async def test_a_failed_request_announces_nothing(partner: PartnerCtx) -> None:
    entity_id = await partner.create_entity()
    h = partner.entity_headers(entity_id)
    r = await partner.client.post(
        "/v1/payables", headers=h, json={"currency": "GBP", "issued_at": "2026-11-01"}
    )
    assert r.status_code == 201, r.text
    # submit without counterpart or lines: a 422, and the status change never committed
    r = await partner.client.post(f"/v1/payables/{r.json()['id']}/submit_for_approval", headers=h)
    assert r.status_code == 422, r.text
    assert [e["action"] for e in await _events(partner)] == []


async def test_status_changes_are_events_with_the_object_as_the_api_shows_it(
    partner: PartnerCtx,
) -> None:
    entity_id = await partner.create_entity()
    h = partner.entity_headers(entity_id)
    counterpart_id = await _counterpart_via_api(partner, entity_id, "Paper Ltd")
    r = await partner.client.post(
        "/v1/payables",
        headers=h,
        json={"currency": "GBP", "issued_at": "2026-11-01", "counterpart_id": counterpart_id},
    )
    payable_id = r.json()["id"]
    r = await partner.client.post(
        f"/v1/payables/{payable_id}/line_items",
        headers=h,
        json={"name": "Paper", "quantity": 2, "unit_price": 1000},
    )
    assert r.status_code == 201, r.text
    r = await partner.client.post(f"/v1/payables/{payable_id}/submit_for_approval", headers=h)
    assert r.status_code == 200, r.text
    events = await _events(partner)
    assert [e["action"] for e in events] == ["counterpart.created", "payable.status_changed"]
    changed = events[1]
    assert changed["object_type"] == "payable"
    assert changed["object"] == r.json() | {"updated_at": changed["object"]["updated_at"]}
    assert f"from draft to {r.json()['status']}" in changed["description"]
    one = await partner.client.get(f"/v1/events/{changed['id']}", headers=partner.headers)
    assert one.status_code == 200 and one.json() == changed


async def test_sequences_stay_unique_and_gapless_under_concurrent_writers(
    partner: PartnerCtx, sessionmaker
) -> None:
    entity_id = await partner.create_entity()

    async def write(i: int) -> None:
        for attempt in range(20):
            try:
                async with sessionmaker() as session:
                    session.add(_counterpart(entity_id, f"Writer {i}"))
                    session.add(_counterpart(entity_id, f"Writer {i} bis"))
                    await session.commit()
                return
            except Exception:  # SQLite: "database is locked" under contention
                if IS_POSTGRES or attempt == 19:
                    raise
                await asyncio.sleep(0.05)

    await asyncio.gather(*(write(i) for i in range(12)))
    async with sessionmaker() as session:
        rows = (await session.scalars(select(Event.sequence).order_by(Event.sequence))).all()
        assert list(rows) == list(range(1, 25))
        assert await queries.last_sequence(session, partner.partner_id) == 24


# --- the feed --------------------------------------------------------------------------------


async def test_the_feed_resumes_after_a_sequence_in_order_and_pages(
    partner: PartnerCtx, other_partner: PartnerCtx
) -> None:
    first = await partner.create_entity("First Ltd")
    second = await partner.create_entity("Second Ltd")
    for i in range(5):
        await _counterpart_via_api(partner, first if i % 2 == 0 else second, f"Supplier {i}")
    await _counterpart_via_api(other_partner, await other_partner.create_entity(), "Theirs")
    everything = await _events(partner)
    assert [e["sequence"] for e in everything] == [1, 2, 3, 4, 5]
    assert [e["sequence"] for e in await _events(partner, after=2)] == [3, 4, 5]
    r = await partner.client.get(
        "/v1/events", headers=partner.entity_headers(first), params={"after": 1}
    )
    assert [e["sequence"] for e in r.json()["data"]] == [3, 5]
    page = await partner.client.get("/v1/events", headers=partner.headers, params={"limit": 2})
    body = page.json()
    assert [e["sequence"] for e in body["data"]] == [1, 2]
    nxt = await partner.client.get(
        "/v1/events",
        headers=partner.headers,
        params={"limit": 2, "pagination_token": body["next_pagination_token"]},
    )
    assert [e["sequence"] for e in nxt.json()["data"]] == [3, 4]
    desc = await _events(partner, order="desc", sort="created_at")
    assert [e["sequence"] for e in desc] == [5, 4, 3, 2, 1]
    third = everything[2]["created_at"]
    assert [e["sequence"] for e in await _events(partner, created_at__gte=third)] == [3, 4, 5]
    assert [e["sequence"] for e in await _events(partner, created_at__lt=third)] == [1, 2]
    assert await _events(partner, object_type="payable") == []
    assert [e["sequence"] for e in await _events(other_partner)] == [1]
    theirs = (await _events(other_partner))[0]["id"]
    r = await partner.client.get(f"/v1/events/{theirs}", headers=partner.headers)
    assert r.status_code == 404
    r = await partner.client.get(
        "/v1/events", headers=partner.entity_headers(uuid.uuid4()), params={"after": 0}
    )
    assert r.status_code == 404
    r = await partner.client.get("/v1/events", headers=partner.headers, params={"after": -1})
    assert r.status_code == 422


# --- subscriptions ---------------------------------------------------------------------------


async def test_subscription_crud_shows_the_secret_once(partner: PartnerCtx, sessionmaker) -> None:
    c = partner.client
    r = await c.post(
        "/v1/webhook_subscriptions",
        headers=partner.headers,
        json={"object_type": "payable", "url": "http://127.0.0.1:9/hook"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["status"] == "enabled"
    assert created["event_types"] == []
    sid = created["id"]
    async with sessionmaker() as session:
        row = await session.get(WebhookSubscription, uuid.UUID(sid))
        assert secret.encode() not in row.secret_encrypted
    got = (await c.get(f"/v1/webhook_subscriptions/{sid}", headers=partner.headers)).json()
    assert "secret" not in got and got["url"] == "http://127.0.0.1:9/hook"
    listed = (await c.get("/v1/webhook_subscriptions", headers=partner.headers)).json()["data"]
    assert [s["id"] for s in listed] == [sid] and "secret" not in listed[0]
    r = await c.patch(
        f"/v1/webhook_subscriptions/{sid}",
        headers=partner.headers,
        json={"event_types": ["status_changed"], "url": "https://example.com/hooks"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["event_types"] == ["status_changed"]
    assert r.json()["url"] == "https://example.com/hooks"
    r = await c.post(f"/v1/webhook_subscriptions/{sid}/disable", headers=partner.headers)
    assert (r.status_code, r.json()["status"]) == (200, "disabled")
    r = await c.post(f"/v1/webhook_subscriptions/{sid}/enable", headers=partner.headers)
    assert (r.status_code, r.json()["status"]) == (200, "enabled")
    r = await c.post(f"/v1/webhook_subscriptions/{sid}/regenerate_secret", headers=partner.headers)
    assert r.status_code == 200 and r.json()["secret"].startswith("whsec_")
    assert r.json()["secret"] != secret
    r = await c.delete(f"/v1/webhook_subscriptions/{sid}", headers=partner.headers)
    assert r.status_code == 204
    r = await c.get(f"/v1/webhook_subscriptions/{sid}", headers=partner.headers)
    assert r.status_code == 404


async def test_another_partners_subscription_is_not_found(
    partner: PartnerCtx, other_partner: PartnerCtx
) -> None:
    r = await partner.client.post(
        "/v1/webhook_subscriptions",
        headers=partner.headers,
        json={"object_type": "receivable", "url": "http://127.0.0.1:9/hook"},
    )
    sid = r.json()["id"]
    for method, path in (
        ("get", ""),
        ("delete", ""),
        ("post", "/enable"),
        ("post", "/regenerate_secret"),
    ):
        r = await getattr(partner.client, method)(
            f"/v1/webhook_subscriptions/{sid}{path}", headers=other_partner.headers
        )
        assert r.status_code == 404, (method, path, r.text)
    listed = await partner.client.get("/v1/webhook_subscriptions", headers=other_partner.headers)
    assert listed.json()["data"] == []


BAD_SUBSCRIPTIONS = [
    ({"object_type": "payable", "url": "ftp://example.com/x"}, "url"),
    ({"object_type": "payable", "url": "javascript:alert(1)"}, "url"),
    ({"object_type": "payable", "url": "file:///etc/passwd"}, "url"),
    ({"object_type": "payable", "url": "https://user:pw@example.com/x"}, "url"),
    ({"object_type": "invoice", "url": "https://example.com/x"}, "object_type"),
    ({"object_type": "payable", "url": "https://example.com/" + "x" * 2100}, "url"),
    ({"object_type": "payable", "url": "https://example.com/", "bogus": 1}, "bogus"),
    ({"object_type": "payable", "url": "http://[::1/x"}, "url"),
]


async def test_bad_subscriptions_are_422_and_change_nothing(partner: PartnerCtx) -> None:
    for body, field in BAD_SUBSCRIPTIONS:
        r = await partner.client.post(
            "/v1/webhook_subscriptions", headers=partner.headers, json=body
        )
        assert r.status_code == 422, (body, r.text)
        assert field in r.text, (body, r.text)
    listed = await partner.client.get("/v1/webhook_subscriptions", headers=partner.headers)
    assert listed.json()["data"] == []


# --- outbound URLs (server-side request forgery) ---------------------------------------------


PRIVATE_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
]


async def test_production_refuses_private_addresses_unless_allowed(
    settings: Settings, clean_db, sessionmaker
) -> None:
    from litestar.testing import AsyncTestClient

    from tests.conftest import make_partner

    async def statuses(**overrides) -> dict[str, int]:
        production = Settings(
            database_url=settings.database_url,
            secret_key=settings.secret_key,
            env="production",
            **overrides,
        )
        async with AsyncTestClient(app=create_app(production, engine=clean_db)) as client:
            partner = await make_partner(client, sessionmaker, f"Partner {overrides}")
            found = {}
            for url in [*PRIVATE_URLS, "https://93.184.216.34/hook"]:
                r = await client.post(
                    "/v1/webhook_subscriptions",
                    headers=partner.headers,
                    json={"object_type": "payable", "url": url},
                )
                found[url] = r.status_code
                if r.status_code == 422:
                    assert "refused in production" in r.text, r.text
            r = await client.post(  # a subscription moved to a private address: refused too
                "/v1/webhook_subscriptions",
                headers=partner.headers,
                json={"object_type": "payable", "url": "https://93.184.216.34/x"},
            )
            r = await client.patch(
                f"/v1/webhook_subscriptions/{r.json()['id']}",
                headers=partner.headers,
                json={"url": "http://10.0.0.7/hook"},
            )
            found["patch"] = r.status_code
            return found

    refused = await statuses()
    assert {u: refused[u] for u in PRIVATE_URLS} == {u: 422 for u in PRIVATE_URLS}
    assert refused["https://93.184.216.34/hook"] == 201 and refused["patch"] == 422
    allowed = await statuses(webhook_allow_private_urls=True)
    assert set(allowed.values()) == {201, 200}


async def test_development_allows_loopback(partner: PartnerCtx) -> None:
    r = await partner.client.post(
        "/v1/webhook_subscriptions",
        headers=partner.headers,
        json={"object_type": "payable", "url": "http://localhost:8001/hook"},
    )
    assert r.status_code == 201, r.text


async def test_an_object_that_cannot_be_shown_is_still_announced(
    partner: PartnerCtx, sessionmaker, monkeypatch
) -> None:
    from app.events import outbox

    source = outbox._sources[Counterpart]

    async def broken(session, rows):
        raise RuntimeError("a presenter bug")

    monkeypatch.setitem(
        outbox._sources, Counterpart, outbox.Source(source.object_type, source.detect, broken)
    )
    entity_id = await partner.create_entity()
    async with sessionmaker() as session:
        row = _counterpart(entity_id, "Shown Anyway Ltd")
        session.add(row)
        await session.commit()  # the change commits, and so does its event
        row_id = str(row.id)
    [event] = await _events(partner)
    assert (event["action"], event["object"]) == ("counterpart.created", {"id": row_id})


# --- the delivery policy ---------------------------------------------------------------------


async def test_backoff_doubles_is_capped_jittered_and_honours_retry_after() -> None:
    from app.events.delivery import DISABLE_AFTER, Policy, _retry_after

    policy = Policy(retry_base=5.0, retry_cap=3600.0)
    for failures in range(1, 20):
        raw = min(3600.0, 5.0 * 2 ** (failures - 1))
        assert raw * 0.5 <= policy.backoff(failures, None) <= raw
    assert policy.backoff(4, 7.0) == 7.0  # the receiver's Retry-After wins
    assert policy.backoff(4, 1e9) == 86400.0
    assert _retry_after("120") == 120.0
    assert 50 < _retry_after("Wed, 02 Dec 2099 10:00:00 GMT") and _retry_after("soon") is None
    assert DISABLE_AFTER >= 86400  # retried for at least a day before disabling
