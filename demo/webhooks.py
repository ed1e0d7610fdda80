"""The demo's webhook receiver: a partner's endpoint on loopback that verifies every delivery
with the ``standardwebhooks`` library (as a partner would, README "Events"), and the
subscriptions that point at it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError

#: What the demo subscribes to (one subscription per object type, all events of each).
OBJECT_TYPES = ("accounting_connection", "accounting_synced_record", "payable", "receivable")


class DemoReceiver:
    """Receives the service's webhooks at :attr:`url`; keeps the verified events."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.events: dict[str, dict[str, Any]] = {}  # event id -> the event (duplicates once)
        self.refused = 0
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status = 204
        try:
            subscription = json.loads(body)["webhook_subscription_id"]
            event = Webhook(self.secrets[subscription]).verify(body, headers)
            self.events[event["id"]] = event
        except (KeyError, ValueError, WebhookVerificationError):
            self.refused += 1
            status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/acctsync-webhooks"
        config = uvicorn.Config(self, log_level="error", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:  # noqa: ASYNC110 (uvicorn offers no event)
            await asyncio.sleep(0.01)

    async def subscribe(self, api: Any) -> None:
        """One subscription per :data:`OBJECT_TYPES`; the secrets shown once are kept."""
        for object_type in OBJECT_TYPES:
            made = await api.call(
                "POST",
                "/v1/webhook_subscriptions",
                json={"object_type": object_type, "url": self.url},
            )
            self.secrets[made["id"]] = made["secret"]

    def of_entity(self, entity_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events.values() if e["entity_id"] == entity_id]

    def summary(self, entity_id: str) -> str:
        counts = Counter(e["action"] for e in self.of_entity(entity_id))
        return ", ".join(f"{action} x{n}" for action, n in sorted(counts.items()))

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


async def show(api: Any, receiver: DemoReceiver, report: Any, limit: float = 30.0) -> None:
    """Wait until every event of the current entity (``GET /v1/events``, the subscribed
    object types) reached the receiver, verified; print what came and check it."""
    entity_id = api.headers.get("x-monite-entity-id")
    if not entity_id:
        return
    expected: set[str] = set()
    after = 0
    while True:
        page = await api.call("GET", "/v1/events", params={"after": after, "limit": 250})
        expected |= {e["id"] for e in page["data"] if e["object_type"] in OBJECT_TYPES}
        if len(page["data"]) < 250:
            break
        after = page["data"][-1]["sequence"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not expected <= set(receiver.events) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    missing = expected - set(receiver.events)
    print(
        f"    webhooks: {len(expected) - len(missing)} of {len(expected)} events received at "
        f"{receiver.url}, every signature verified with standardwebhooks "
        f"({receiver.refused} refused): {receiver.summary(entity_id)}"
    )
    report.check(
        "webhooks received and verified",
        not missing and receiver.refused == 0 and bool(expected),
        f"{len(missing)} missing" if missing else "",
    )
