"""Webhook delivery: Codat's envelopes, Standard Webhooks signatures, retries and faults.

Envelopes (``config.webhook_envelope``), shapes copied from Codat's examples:

- ``current``: ``{id, eventType, generatedDate, payload}``; event types
  ``connection.created|connected|reconnected|failed|disconnected`` (``payload.connection``
  and ``payload.referenceCompany``), ``read.completed`` (``payload.dataTypes[]``, one event
  per data type), ``{dataType}.write.successful|unsuccessful`` (``payload.id`` is the push
  operation key, ``payload.status``, ``payload.record.id`` on success). Signed Standard
  Webhooks style: headers ``webhook-id`` (equal to the envelope ``id``),
  ``webhook-timestamp``, ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` of
  ``{id}.{timestamp}.{body}`` with the ``whsec_`` secret), re-signed on each attempt.
- ``legacy``: ``{ClientId, ClientName, CompanyId, DataConnectionId, RuleId, RuleType, AlertId,
  Message, Data}`` with ``Authorization: <config.webhook_authorization>``; rule types
  ``DataConnectionStatusChanged``, ``Data sync completed``,
  ``Push Operation Status Changed()``, ``Push Operation Timed Out``.

Delivery: a POST per message; a non-2xx answer or a connection error is retried after each of
``config.webhook_retry_delays`` seconds, then given up. Faults: drop, duplicate (same id),
reorder (held for ``webhook_reorder_window_s`` and sent in shuffled order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
from standardwebhooks import Webhook

from sandbox.config import SandboxConfig
from sandbox.state import Company, Connection, SandboxState, iso

logger = logging.getLogger("sandbox.webhooks")

_RULE_IDS = {
    rule: str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-rule:{rule}"))
    for rule in (
        "DataConnectionStatusChanged",
        "Data sync completed",
        "Push Operation Status Changed()",
        "Push Operation Timed Out",
    )
}


@dataclass
class Delivery:
    """One webhook message and what happened to it (``GET /_admin/webhooks``)."""

    id: str
    event: str
    company_id: str
    body: bytes
    status: str = "pending"  # pending | delivered | failed | dropped
    attempts: int = 0
    copies: int = 1
    responses: list[int | str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-able summary (the body decoded)."""
        return {
            "id": self.id,
            "event": self.event,
            "companyId": self.company_id,
            "status": self.status,
            "attempts": self.attempts,
            "copies": self.copies,
            "responses": self.responses,
            "body": msgspec.json.decode(self.body),
        }


def connection_json(config: SandboxConfig, connection: Connection) -> dict[str, Any]:
    """Codat's ``Connection`` shape."""
    body: dict[str, Any] = {
        "id": connection.id,
        "integrationId": connection.platform.integration_id,
        "integrationKey": connection.platform.key,
        "sourceId": connection.platform.source_id,
        "platformName": connection.platform.name,
        "linkUrl": link_url(config, connection),
        "status": connection.status,
        "lastSync": iso(connection.last_sync),
        "created": iso(connection.created),
        "sourceType": "Accounting",
        "dataConnectionErrors": connection.errors or None,
    }
    return body


def link_url(config: SandboxConfig, connection: Connection) -> str:
    """The connection's link page (Codat: ``.../companies/{id}/connections/{id}/start``)."""
    base = f"{config.base_url}/link/companies/{connection.company_id}"
    return f"{base}/connections/{connection.id}/start"


def reference_company(config: SandboxConfig, company: Company) -> dict[str, Any]:
    """Codat's ``referenceCompany`` block of a webhook payload."""
    return {
        "id": company.id,
        "name": company.name,
        "description": company.description,
        "links": {"portal": f"{config.base_url}/companies/{company.id}"},
        "tags": company.tags,
    }


class WebhookDispatcher:
    """Turns state events into webhook deliveries; owns the httpx client and its tasks."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.config = state.config
        self.log: list[Delivery] = []
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()
        self._held: list[Delivery] = []
        self._backlog: list[Delivery] = []
        self._signer = Webhook(self.config.webhook_secret)
        state.emit = self.handle

    # ---- envelopes ------------------------------------------------------------------------

    def handle(self, kind: str, company: Company, details: dict[str, Any]) -> None:
        """State hook: build this event's envelope and deliver it (no-op without a URL)."""
        if self.config.webhook_url is None:
            return
        if self.config.webhook_envelope == "legacy":
            message = self._legacy(kind, company, details)
        else:
            message = self._current(kind, company, details)
        if message is not None:
            event, envelope_id, body = message
            self.enqueue(Delivery(envelope_id, event, company.id, msgspec.json.encode(body)))

    def _current(
        self, kind: str, company: Company, details: dict[str, Any]
    ) -> tuple[str, str, dict] | None:
        payload: dict[str, Any] = {"referenceCompany": reference_company(self.config, company)}
        if kind.startswith("connection."):
            payload["connection"] = connection_json(self.config, details["connection"])
            event = kind
        elif kind == "read.completed":
            dataset = details["dataset"]
            payload["modifiedFromDate"] = dataset["requested"]
            payload["dataTypes"] = [
                {
                    "connectionId": dataset["connectionId"],
                    "dataType": dataset["dataType"],
                    "recordsModified": True,
                    "status": dataset["status"],
                    "issues": [],
                }
            ]
            event = kind
        elif kind == "push.settled":
            operation = details["operation"]
            outcome = "successful" if operation.status == "Success" else "unsuccessful"
            event = f"{operation.data_type}.write.{outcome}"
            payload = {
                "id": operation.key,
                "type": operation.kind,
                "referenceCompany": reference_company(self.config, company),
                "connectionId": operation.connection_id,
                "requestedOnDate": iso(operation.requested),
                "completedOnDate": iso(operation.completed),
                "status": operation.status,
            }
            if operation.status == "Success" and operation.changes:
                payload["record"] = {"id": operation.changes[0]["recordRef"]["id"]}
        else:
            return None
        envelope_id = str(uuid.uuid4())
        body = {
            "id": envelope_id,
            "eventType": event,
            "generatedDate": iso(datetime.now(UTC)),
            "payload": payload,
        }
        return event, envelope_id, body

    def _legacy(
        self, kind: str, company: Company, details: dict[str, Any]
    ) -> tuple[str, str, dict] | None:
        connection_id: str | None = None
        if kind in ("connection.connected", "connection.reconnected", "connection.disconnected"):
            connection: Connection = details["connection"]
            connection_id = connection.id
            rule = "DataConnectionStatusChanged"
            old = details.get("old_status") or "PendingAuth"
            message = (
                f"Data connection for {connection.platform.name} status changed "
                f"from {old} to {connection.status}"
            )
            data: dict[str, Any] | None = {
                "dataConnectionId": connection.id,
                "newStatus": connection.status,
                "oldStatus": old,
                "platformKey": connection.platform.key,
            }
        elif kind == "read.completed":
            dataset = details["dataset"]
            connection_id = dataset["connectionId"]
            rule = "Data sync completed"
            message = f"Data sync of type {dataset['dataType']} completed for company {company.id}"
            data = {"dataType": dataset["dataType"], "datasetId": dataset["id"]}
        elif kind == "push.settled":
            operation = details["operation"]
            connection_id = operation.connection_id
            if operation.status == "TimedOut":
                rule = "Push Operation Timed Out"
                message = (
                    f"ERROR: pushing {operation.data_type} never finished in time, "
                    f"timing out at {iso(operation.completed)}"
                )
                data = {
                    "dataType": operation.data_type,
                    "pushOperationKey": operation.key,
                    "pushOperationGuid": operation.key,
                }
            else:
                rule = "Push Operation Status Changed()"
                message = (
                    f"{operation.data_type} triggered notification for "
                    f"PushOperationStatusChanged at {iso(operation.completed)}"
                )
                data = {
                    "dataType": operation.data_type,
                    "status": operation.status,
                    "pushOperationKey": operation.key,
                }
        else:
            return None
        alert_id = str(uuid.uuid4())
        body = {
            "ClientId": self.config.client_id,
            "ClientName": self.config.client_name,
            "CompanyId": company.id,
            "DataConnectionId": connection_id,
            "RuleId": _RULE_IDS[rule],
            "RuleType": rule,
            "AlertId": alert_id,
            "Message": message,
            "Data": data,
        }
        return rule, alert_id, body

    # ---- delivery -------------------------------------------------------------------------

    def enqueue(self, delivery: Delivery) -> None:
        """Apply the webhook faults and start delivering (a task on the running loop)."""
        self.log.append(delivery)
        faults = self.state.faults_for(delivery.company_id)
        if faults.hit(faults.config.webhook_drop_rate):
            delivery.status = "dropped"
            return
        if faults.hit(faults.config.webhook_duplicate_rate):
            delivery.copies = 2
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._backlog.append(delivery)
            return
        if faults.config.webhook_reorder:
            self._held.append(delivery)
            if len(self._held) == 1:
                self._spawn(self._flush_held(faults.rng))
            return
        self._spawn(self._deliver(delivery))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_held(self, rng: Any) -> None:
        await asyncio.sleep(self.config.webhook_reorder_window_s)
        held, self._held = self._held, []
        shuffled = list(held)
        rng.shuffle(shuffled)
        if len(shuffled) > 1 and shuffled == held:
            shuffled.reverse()
        for delivery in shuffled:
            if not await self._attempt(delivery):
                self._spawn(self._deliver(delivery, first_attempt_done=True))

    def flush_backlog(self) -> None:
        """Start deliveries queued while no event loop was running."""
        backlog, self._backlog = self._backlog, []
        for delivery in backlog:
            self._spawn(self._deliver(delivery))

    async def _deliver(self, delivery: Delivery, first_attempt_done: bool = False) -> None:
        delays = list(self.config.webhook_retry_delays)
        if not first_attempt_done and await self._attempt(delivery):
            return
        for delay in delays:
            await asyncio.sleep(delay)
            if await self._attempt(delivery):
                return
        delivery.status = "failed"

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        headers = {"content-type": "application/json", "user-agent": "acctsync-sandbox"}
        if self.config.webhook_envelope == "legacy":
            if self.config.webhook_authorization:
                headers["authorization"] = self.config.webhook_authorization
            return headers
        now = datetime.now(UTC)
        signature = self._signer.sign(delivery.id, now, delivery.body.decode())
        headers["webhook-id"] = delivery.id
        headers["webhook-timestamp"] = str(int(now.timestamp()))
        headers["webhook-signature"] = signature
        return headers

    def client(self) -> httpx.AsyncClient:
        """The app-owned httpx client (created on first use)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.config.webhook_transport,
                timeout=self.config.webhook_timeout_s,
            )
        return self._client

    async def _attempt(self, delivery: Delivery) -> bool:
        """One attempt (all copies); True when the receiver answered 2xx."""
        assert self.config.webhook_url is not None
        delivery.attempts += 1
        ok = False
        for _ in range(delivery.copies):
            try:
                response = await self.client().post(
                    self.config.webhook_url, content=delivery.body, headers=self._headers(delivery)
                )
                delivery.responses.append(response.status_code)
                ok = ok or 200 <= response.status_code < 300
            except httpx.HTTPError as exc:
                delivery.responses.append(type(exc).__name__)
            except Exception as exc:  # a broken in-process receiver is a failed delivery
                logger.warning("sandbox webhook delivery error: %r", exc)
                delivery.responses.append(type(exc).__name__)
        delivery.status = "delivered" if ok else "pending"
        return ok

    def busy(self) -> bool:
        """Whether a delivery (or a held batch) is in flight; safe from another thread."""
        return any(not t.done() for t in tuple(self._tasks))

    async def idle(self, limit_s: float = 5.0) -> None:
        """Wait (at most ``limit_s``) until no delivery task is running (tests, scripts)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        # Poll rather than asyncio.wait: a test client may run the app on another loop.
        while loop.time() < deadline and self.busy():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    async def aclose(self) -> None:
        """Cancel deliveries in flight and close the client."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
