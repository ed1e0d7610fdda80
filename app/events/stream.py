"""``GET /v1/events/stream``: the partner's events over a WebSocket, in sequence order.

Authenticated with the partner's bearer token, in the ``Authorization`` header or (browsers
cannot set headers on a WebSocket) the ``token`` query parameter. The server sends every
stored event after ``after`` (a sequence number, 0 for all), oldest first, then each new one
as it commits; each message is an event (``EventOut``, with its ``sequence``). A consumer
that reconnects with the last sequence it handled resumes with no gap and no reordering:
events commit in sequence order (``app.events.outbox``). New events are noticed at once in
this process and within :data:`POLL_SECONDS` when another process wrote them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.security.jwt import Token

from app.auth import queries as auth_queries
from app.events import notify, queries, service

POLL_SECONDS = 1.0
#: An open stream re-checks its token this often: a revoked or expired token closes it (4401)
#: within this bound, as :data:`app.auth.security.REVOCATION_STALENESS_S` bounds requests.
RECHECK_SECONDS = 5.0
BATCH = 200
#: Close code for a missing or invalid token (4000-4999: the application's).
UNAUTHORIZED = 4401


async def _token_live(
    socket: WebSocket[Any, Any, Any], partner_id: uuid.UUID, token: Token
) -> bool:
    """The token has not expired and is not revoked (one query)."""
    if token.exp.timestamp() <= time.time() or not token.jti:
        return False
    async with socket.app.state.sessionmaker() as session:
        return await auth_queries.token_is_live(session, partner_id, token.jti)


async def _partner_of(socket: WebSocket[Any, Any, Any]) -> tuple[uuid.UUID, Token] | None:
    header = socket.headers.get("authorization", "")
    raw = header[7:] if header.lower().startswith("bearer ") else socket.query_params.get("token")
    if not raw:
        return None
    jwt_auth = socket.app.state.jwt_auth
    try:
        token = Token.decode(raw, jwt_auth.token_secret, jwt_auth.algorithm)
        partner_id = uuid.UUID(token.sub)
    except Exception:  # any malformed token is the same refusal
        return None
    if not await _token_live(socket, partner_id, token):
        return None
    return partner_id, token


async def _send_events(
    socket: WebSocket[Any, Any, Any],
    partner_id: uuid.UUID,
    token: Token,
    after: int,
    entity: uuid.UUID | None,
) -> None:
    sessionmaker = socket.app.state.sessionmaker
    last = after
    checked = time.monotonic()
    while True:
        if time.monotonic() - checked >= RECHECK_SECONDS:
            # An open stream outlives neither a revoke nor the token's expiry for long.
            if not await _token_live(socket, partner_id, token):
                await socket.close(code=UNAUTHORIZED, reason="the token was revoked or expired")
                return
            checked = time.monotonic()
        async with sessionmaker() as session:
            rows = list(await queries.events_after(session, partner_id, last, BATCH, entity))
        for row in rows:
            await socket.send_text(msgspec.json.encode(service.event_out(row)).decode())
            last = row.sequence
        if len(rows) < BATCH:
            await notify.wait(POLL_SECONDS)


@websocket("/v1/events/stream", opt={"exclude_from_auth": True}, name="events_stream")
async def event_stream(
    socket: WebSocket[Any, Any, Any], after: int = 0, entity_id: uuid.UUID | None = None
) -> None:
    """Stream the partner's events after sequence ``after`` (of one entity with
    ``entity_id``), then live. Closes with 4401 without a valid token, 4422 for a bad
    ``after``, and with 4401 within :data:`RECHECK_SECONDS` once its token is revoked or
    expires; messages from the client are ignored."""
    authenticated = await _partner_of(socket)
    if authenticated is None:
        await socket.close(code=UNAUTHORIZED, reason="a valid partner token is required")
        return
    partner_id, token = authenticated
    if after < 0:
        await socket.close(code=4422, reason="after must be 0 or more")
        return
    await socket.accept()
    sender = asyncio.create_task(_send_events(socket, partner_id, token, after, entity_id))
    try:
        while not sender.done():
            receiver = asyncio.create_task(socket.receive_data(mode="text"))
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver not in done:
                receiver.cancel()
                with contextlib.suppress(BaseException):
                    await receiver
                break
            if receiver.exception() is not None:
                break  # the client went away
    finally:
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await socket.close()
