"""Input no route can use, refused before routing: NUL characters and bodies that are not
UTF-8.

PostgreSQL text cannot hold NUL (``\\u0000``), so without this check the same request would be
stored on SQLite and fail with a database error on PostgreSQL; an accounting record has no use
for it either way. Refusing it here gives every route, on both databases, the same clear 400
before anything is read or written (the webhook receiver included: a 400 tells the provider
the delivery is bad, where a 500 made it retry for a day).
"""

from __future__ import annotations

import json

from litestar.types import ASGIApp, Message, Receive, Scope, Send

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY = 10 * 1024 * 1024
"""Bytes a body may have (Litestar's own default limit); more is a 413 here."""


async def _refuse(send: Send, message: str, status: int = 400) -> None:
    body = json.dumps({"error": {"message": message}}, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _problem(body: bytes, content_type: bytes) -> str | None:
    if b"\x00" in body or b"\\u0000" in body:
        return "The body contains a NUL character (\\u0000), which no field accepts"
    if b"json" in content_type or b"text" in content_type or not content_type:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"The body is not valid UTF-8 (byte {exc.start})"
    return None


def input_guard_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: a 400 with Monite's error body for a path or query string holding a
    NUL character, and for a body holding one or not valid UTF-8 (JSON and text bodies); a
    413 for a body over `MAX_BODY`. The body is read once here and handed on unchanged."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
            await _refuse(send, "The path or query string contains a NUL character (%00)")
            return
        if scope.get("method") not in _BODY_METHODS:
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: let the app see it
                await app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _refuse(send, f"The body is larger than {MAX_BODY} bytes", 413)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").lower()
        if problem := _problem(body, content_type):
            await _refuse(send, problem)
            return
        await app(scope, _replay([{"type": "http.request", "body": body}], receive), send)

    return middleware


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
