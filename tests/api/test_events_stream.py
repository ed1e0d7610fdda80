"""``GET /v1/events/stream`` (WebSocket): the partner's events in sequence order from a
given sequence, then live; a consumer that disconnects and resumes with the last sequence it
handled misses nothing and sees nothing out of order (issue 18). The service runs under
uvicorn on loopback and a real WebSocket client (``websockets``) consumes it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.server import create_app
from tests.conftest import make_partner

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def served(settings, clean_db) -> AsyncIterator[str]:
    """The service on 127.0.0.1 (a free port); yields its address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine=clean_db), log_level="warning")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.01)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _receive(ws, count: int) -> list[dict]:
    return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(count)]


async def test_the_stream_sends_stored_then_live_events_and_resumes_without_a_gap(
    served: str, sessionmaker
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        partner = await make_partner(http, sessionmaker, "Streaming partner")  # type: ignore[arg-type]
        other = await make_partner(http, sessionmaker, "Other partner")  # type: ignore[arg-type]
        entity_id = await partner.create_entity()
        theirs = await other.create_entity()

        async def counterpart(p, entity: str, name: str) -> None:
            r = await http.post(
                "/v1/counterparts",
                headers=p.entity_headers(entity),
                json={
                    "type": "organization",
                    "organization": {"legal_name": name, "is_vendor": True, "is_customer": False},
                },
            )
            assert r.status_code == 201, r.text

        for i in range(3):
            await counterpart(partner, entity_id, f"Stored {i}")
        url = f"ws://{served}/v1/events/stream"
        async with connect(f"{url}?after=0&token={partner.token}") as ws:
            stored = await _receive(ws, 3)
            assert [e["sequence"] for e in stored] == [1, 2, 3]
            assert stored[0]["action"] == "counterpart.created"
            await counterpart(other, theirs, "Not yours")  # another partner's: never sent
            for i in range(2):
                await counterpart(partner, entity_id, f"Live {i}")
            live = await _receive(ws, 2)
            assert [e["sequence"] for e in live] == [4, 5]
        # gone; events keep coming; back with the last sequence handled (5)
        for i in range(3):
            await counterpart(partner, entity_id, f"While away {i}")
        async with connect(f"{url}?after=5", additional_headers=partner.headers) as ws:
            resumed = await _receive(ws, 3)
            assert [e["sequence"] for e in resumed] == [6, 7, 8]
            assert [e["object"]["organization"]["legal_name"] for e in resumed] == [
                "While away 0",
                "While away 1",
                "While away 2",
            ]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)  # nothing more, nothing twice


async def test_the_stream_needs_a_valid_partner_token(served: str) -> None:
    url = f"ws://{served}/v1/events/stream"
    for suffix, headers in (
        ("", None),
        ("?token=not-a-token", None),
        ("", {"Authorization": "Bearer not-a-token"}),
    ):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url + suffix, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 403


async def test_an_open_stream_closes_once_its_token_is_revoked(
    served: str, sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from websockets.exceptions import ConnectionClosed

    from app.events import stream

    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.2)
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        partner = await make_partner(http, sessionmaker, "Revoked partner")  # type: ignore[arg-type]
        async with connect(f"ws://{served}/v1/events/stream?token={partner.token}") as ws:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)  # open, nothing to send
            revoked = await http.post(
                "/v1/auth/revoke",
                json={
                    "client_id": partner.client_id,
                    "client_secret": partner.client_secret,
                    "token": partner.token,
                },
            )
            assert revoked.status_code == 200, revoked.text
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
