"""The webhook receiver: verified, durable, idempotent, order-tolerant (issue 4)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

import webhooks
from app.db.models import AccountingConnection, Entity, Partner, ProviderCompany, WebhookEvent
from app.jobs import Jobs
from app.webhook_receiver.apply import drain
from app.webhook_receiver.secrets import embedded_webhook_secret

URL = "/v1/webhooks/codat"


def connection_event(
    msg_id: str,
    company: str,
    connection: str,
    event: str,
    status: str | None = None,
    when: str | None = None,
) -> bytes:
    payload = {
        "referenceCompany": {"id": company, "name": "Acme"},
        "connection": {
            "id": connection,
            "integrationKey": "gbol",
            "sourceType": "Accounting",
            **({"status": status} if status else {}),
        },
    }
    return json.dumps(
        {
            "id": msg_id,
            "eventType": event,
            "generatedDate": when or "2026-11-22T10:00:00Z",
            "payload": payload,
        }
    ).encode()


def signed(
    settings, body: bytes, msg_id: str | None = None, ts: int | None = None
) -> dict[str, str]:
    msg_id = msg_id or json.loads(body).get("id", "msg_x")
    return {
        **webhooks.signature_headers(
            embedded_webhook_secret(settings), msg_id, ts or int(time.time()), body
        ),
        "content-type": "application/json",
    }


@pytest.fixture
async def jobs(settings, clean_db, sessionmaker) -> AsyncIterator[Jobs]:
    async def no_provider(_partner_id: uuid.UUID) -> object:
        raise RuntimeError("no provider in this test")

    runner = Jobs(settings, clean_db, sessionmaker, no_provider, sweep_interval=3600)
    await runner.start()
    yield runner
    await runner.stop()


async def _connection(sessionmaker, status: str = "pending_auth") -> tuple[str, str, uuid.UUID]:
    company, provider_connection = str(uuid.uuid4()), str(uuid.uuid4())
    async with sessionmaker() as session, session.begin():
        partner = Partner(name="P")
        session.add(partner)
        await session.flush()
        entity = Entity(
            partner_id=partner.id, type="organization", legal_name="E", currency="GBP", address={}
        )
        session.add(entity)
        await session.flush()
        session.add(
            ProviderCompany(entity_id=entity.id, provider_company_id=company, redirect_url="x")
        )
        conn = AccountingConnection(
            entity_id=entity.id,
            platform="xero",
            status=status,
            provider_company_id=company,
            provider_connection_id=provider_connection,
            connection_url="http://link",
            status_changed_at=dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC),
        )
        session.add(conn)
        await session.flush()
        return company, provider_connection, conn.id


async def _count(sessionmaker) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(WebhookEvent))


async def _status(sessionmaker, connection_id: uuid.UUID) -> str:
    async with sessionmaker() as session:
        return (await session.get(AccountingConnection, connection_id)).status


async def test_duplicate_deliveries_store_and_apply_once(
    client, settings, sessionmaker, jobs
) -> None:
    company, conn_id, connection = await _connection(sessionmaker)
    body = connection_event("msg_dup_1", company, conn_id, "connection.connected", "Linked")
    answers = [
        (await client.post(URL, content=body, headers=signed(settings, body))).json()["status"]
        for _ in range(5)
    ]
    assert answers == ["accepted"] + ["duplicate"] * 4
    assert await _count(sessionmaker) == 1
    assert await drain(jobs.context) == 1
    assert await drain(jobs.context) == 0
    assert await _status(sessionmaker, connection) == "connected"
    schedules = [s.id for s in await jobs.scheduler.get_schedules()]
    assert f"pull:{connection}" in schedules


async def test_reordered_events_keep_the_latest_state(client, settings, sessionmaker, jobs) -> None:
    company, conn_id, connection = await _connection(sessionmaker)
    connected = connection_event(
        "m1", company, conn_id, "connection.connected", "Linked", "2026-11-22T10:00:00Z"
    )
    late_pending = connection_event(
        "m0", company, conn_id, "connection.created", "PendingAuth", "2026-11-22T09:30:00Z"
    )
    for body in (connected, late_pending):
        assert (
            await client.post(URL, content=body, headers=signed(settings, body))
        ).status_code == 200
    await drain(jobs.context)
    assert await _status(sessionmaker, connection) == "connected"
    # a disconnect after that wins, and a stale "connected" replay does not undo it
    gone = connection_event(
        "m2", company, conn_id, "connection.disconnected", "Unlinked", "2026-11-22T11:00:00Z"
    )
    replay = connection_event(
        "m3", company, conn_id, "connection.connected", "Linked", "2026-11-22T10:00:00Z"
    )
    for body in (gone, replay):
        await client.post(URL, content=body, headers=signed(settings, body))
    await drain(jobs.context)
    assert await _status(sessionmaker, connection) == "disconnected"


async def test_bad_requests_get_their_status_and_change_nothing(
    client, settings, sessionmaker
) -> None:
    company, conn_id, _ = await _connection(sessionmaker)
    body = connection_event("msg_bad", company, conn_id, "connection.connected", "Linked")
    good = signed(settings, body)
    wrong_sig = {**good, "webhook-signature": "v1,AAAA" + good["webhook-signature"][7:]}
    stale = signed(settings, body, ts=int(time.time()) - 600)
    cases = [
        ({"content-type": "application/json"}, body, 401),  # no signature at all
        (wrong_sig, body, 401),
        (stale, body, 401),
        (good, body + b" ", 401),  # body changed after signing
        (signed(settings, b"{not json", "msg_x"), b"{not json", 400),
        (signed(settings, b"[1, 2]", "msg_y"), b"[1, 2]", 400),
        ({"content-length": str(2 * 1024 * 1024), **good}, b"x" * (2 * 1024 * 1024), 413),
    ]
    for headers, content, expected in cases:
        response = await client.post(URL, content=content, headers=headers)
        assert response.status_code == expected, (expected, response.text)
    unauthorized = await client.post(URL, content=body, headers=wrong_sig)
    assert unauthorized.json() == {"error": {"message": "Unauthorized"}}  # no detail
    assert await _count(sessionmaker) == 0


async def test_svix_headers_and_legacy_authorization(client, settings, sessionmaker) -> None:
    company, conn_id, _ = await _connection(sessionmaker)
    body = connection_event("msg_svix", company, conn_id, "connection.connected", "Linked")
    svix = webhooks.signature_headers(
        embedded_webhook_secret(settings), "msg_svix", int(time.time()), body, prefix="svix"
    )
    assert (await client.post(URL, content=body, headers=svix)).status_code == 200


async def test_unknown_company_is_stored_and_marked_not_applied(
    client, settings, sessionmaker, jobs
) -> None:
    _, _, connection = await _connection(sessionmaker)
    body = connection_event(
        "msg_unknown", "no-such-company", "no-such-conn", "connection.connected", "Linked"
    )
    assert (await client.post(URL, content=body, headers=signed(settings, body))).status_code == 200
    await drain(jobs.context)
    async with sessionmaker() as session:
        event = await session.scalar(select(WebhookEvent))
    assert event.outcome == "unknown_company" and event.processed_at is not None
    assert await _status(sessionmaker, connection) == "pending_auth"


async def test_an_event_accepted_before_a_restart_is_applied_after_it(
    client, settings, sessionmaker, clean_db
) -> None:
    company, conn_id, connection = await _connection(sessionmaker)
    body = connection_event("msg_restart", company, conn_id, "connection.connected", "Linked")
    # accepted by a process with no job runner (it "crashed" before applying)
    assert (await client.post(URL, content=body, headers=signed(settings, body))).status_code == 200
    assert await _status(sessionmaker, connection) == "pending_auth"

    async def no_provider(_partner_id: uuid.UUID) -> object:
        raise RuntimeError("no provider")

    # a new process starts: reconcile + sweep apply what the table holds
    runner = Jobs(settings, clean_db, sessionmaker, no_provider, sweep_interval=0.2)
    await runner.start()
    try:
        deadline = time.monotonic() + 10
        while await _status(sessionmaker, connection) != "connected":
            assert time.monotonic() < deadline, "event not applied after restart"
            await __import__("asyncio").sleep(0.05)
    finally:
        await runner.stop()


async def test_push_outcome_for_an_unknown_push_key_is_retried_not_dropped(
    client, settings, sessionmaker, jobs
) -> None:
    company, conn_id, _ = await _connection(sessionmaker)
    body = json.dumps(
        {
            "id": "msg_push",
            "eventType": "bills.write.successful",
            "generatedDate": "2026-11-22T10:00:00Z",
            "payload": {
                "id": "push-key-not-yet-stored",
                "status": "Success",
                "connectionId": conn_id,
                "referenceCompany": {"id": company},
                "record": {"id": "bill-1"},
            },
        }
    ).encode()
    assert (await client.post(URL, content=body, headers=signed(settings, body))).status_code == 200
    await drain(jobs.context)
    async with sessionmaker() as session:
        event = await session.scalar(select(WebhookEvent))
    assert event.processed_at is None
    # at least the drain above (the runner's own drain, queued by the delivery, may also run)
    assert event.attempts >= 1 and "not recorded yet" in event.last_error
    assert event.next_attempt_at is not None


async def test_a_signed_delivery_that_cannot_be_stored_is_a_400_not_a_500(
    client, settings, sessionmaker
) -> None:
    # Over-long ids fit no column (PostgreSQL refused them with a 500 and the provider
    # retried for a day); a NUL fits no text column. Both: 400, nothing stored.
    company, conn_id, _ = await _connection(sessionmaker)
    long_id = "msg_" + "x" * 300
    body = connection_event(long_id, company, conn_id, "connection.connected", "Linked")
    r = await client.post(URL, content=body, headers=signed(settings, body))
    assert r.status_code == 400, r.text
    assert "longer than 200" in r.json()["error"]["message"]
    long_company = connection_event("msg_lc", "c" * 100, conn_id, "connection.connected")
    r = await client.post(URL, content=long_company, headers=signed(settings, long_company))
    assert r.status_code == 400, r.text
    nul = connection_event("msg_nul", company + "\u0000", conn_id, "connection.connected")
    r = await client.post(URL, content=nul, headers=signed(settings, nul))
    assert r.status_code == 400, r.text
    assert await _count(sessionmaker) == 0
