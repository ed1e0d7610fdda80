"""Webhook delivery: the job body that sends a subscription's events in sequence order.

One subscription at a time per worker cluster (the task takes the subscription's lease, see
``app.tasks.deliver_webhooks``). The loop: read the next events after the subscription's
cursor, send each (Standard Webhooks signature), record the attempt, and

- 2xx: the event is delivered; the cursor moves past it;
- a timeout, a connection error, 408, 425, 429 or 5xx: retried, the cursor stays (later
  events wait: per-subscription order), after a capped exponential backoff with jitter, or
  after ``Retry-After`` when the receiver sent one; after failing for ``disable_after``
  (2 days by default) the subscription is disabled and a ``webhook_subscription.disabled``
  event says so;
- any other answer (3xx, 4xx): refused for good; recorded as unsuccessful, not retried (a
  manual redelivery exists), and the cursor moves on.

At least once: an attempt whose outcome is unknown (a timeout, a worker killed before the
outcome was stored) is sent again, with the same ``webhook-id`` (the event id) so a receiver
can drop the duplicate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import random
import uuid
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from app import metrics
from app.crypto import SecretBox
from app.db.models import Event, WebhookDelivery, WebhookSubscription
from app.events import outbox, queries, urls
from app.events.present import subscription_out
from app.events.schemas import WebhookEventOut
from app.jobs import JobContext

log = logging.getLogger("acctsync.events")

#: Defaults of the delivery knobs (``JobContext.extras["webhook_<name>"]`` overrides them).
TIMEOUT = 15.0  # seconds a receiver has to answer
RETRY_BASE = 5.0  # first retry after about this many seconds, doubling ...
RETRY_CAP = 3600.0  # ... up to an hour between attempts
DISABLE_AFTER = 2 * 86400.0  # failing this long (seconds) disables the subscription
BATCH = 50  # events read per query
RESPONSE_EXCERPT = 1000  # characters of the receiver's answer kept
RETRYABLE_STATUS = frozenset({408, 425, 429})
#: A retry due within this many seconds is waited for in the job (the lease held), not
#: scheduled: a scheduled job starts a second or so late on PostgreSQL.
INLINE_WAIT = 2.0


@dataclass(frozen=True)
class Policy:
    """Delivery knobs, in seconds."""

    timeout: float = TIMEOUT
    retry_base: float = RETRY_BASE
    retry_cap: float = RETRY_CAP
    disable_after: float = DISABLE_AFTER

    @classmethod
    def of(cls, ctx: JobContext | None) -> Policy:
        extras = ctx.extras if ctx is not None else {}
        return cls(
            *(
                float(extras.get(f"webhook_{name}", default))
                for name, default in (
                    ("timeout", TIMEOUT),
                    ("retry_base", RETRY_BASE),
                    ("retry_cap", RETRY_CAP),
                    ("disable_after", DISABLE_AFTER),
                )
            )
        )

    def backoff(self, failures: int, retry_after: float | None) -> float:
        """Seconds before the next attempt after ``failures`` failures in a row:
        ``retry_base x 2^(failures-1)`` capped at ``retry_cap``, jittered to 50-100% (AWS
        "Exponential Backoff And Jitter"); the receiver's ``Retry-After`` when it sent one
        (at most a day)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), 86400.0)
        raw = min(self.retry_cap, self.retry_base * 2 ** max(0, failures - 1))
        return raw * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Outcome:
    """What one request got: ``status`` (None: no answer), an excerpt, and the verdict."""

    status: int | None
    response: str
    ok: bool
    retry: bool
    retry_after: float | None = None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def webhook_body(event: Event, subscription_id: uuid.UUID) -> bytes:
    """The JSON a subscription receives for ``event`` (Monite's
    ``EventResourceForWebhookClient``, plus ``sequence``)."""
    return msgspec.json.encode(
        WebhookEventOut(
            id=event.id,
            sequence=event.sequence,
            created_at=event.created_at,
            action=event.action,
            description=event.description,
            entity_id=event.entity_id,
            object_type=event.object_type,
            object=event.object,
            webhook_subscription_id=subscription_id,
        )
    )


def sign(secret: str, message_id: str, body: bytes, at: dt.datetime) -> dict[str, str]:
    """Standard Webhooks headers for ``body`` (``webhook-id``, ``-timestamp``, ``-signature``:
    HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under the base64 key after ``whsec_``), made by
    the ``standardwebhooks`` library; Svix's libraries verify them too."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
        "content-type": "application/json",
        "user-agent": "acctsync-webhooks/1",
    }


_clients: WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = WeakKeyDictionary()


def http_client() -> httpx.AsyncClient:
    """The process's webhook client (one per event loop): pooled, no redirects followed."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
    return client


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now()).total_seconds())


async def send(
    url: str, secret: str, event_id: uuid.UUID, body: bytes, policy: Policy, settings: Any
) -> Outcome:
    """POST one signed event to ``url``; never raises for the receiver's failures."""
    try:
        await urls.check(url, settings)
    except urls.UnsafeUrl as exc:
        return Outcome(None, f"refused: {exc}", ok=False, retry=True)
    headers = sign(secret, str(event_id), body, now())
    try:
        r = await http_client().post(url, content=body, headers=headers, timeout=policy.timeout)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {policy.timeout:g} s", ok=False, retry=True)
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT], False, True)
    excerpt = r.text[:RESPONSE_EXCERPT]
    if 200 <= r.status_code < 300:
        return Outcome(r.status_code, excerpt, ok=True, retry=False)
    retry = r.status_code >= 500 or r.status_code in RETRYABLE_STATUS
    return Outcome(r.status_code, excerpt, False, retry, _retry_after(r.headers.get("retry-after")))


async def note_attempt(
    session: AsyncSession, sub: WebhookSubscription, event: Event, outcome: Outcome
) -> WebhookDelivery:
    """Record one request of ``event`` to ``sub`` on its delivery row (created on first use)."""
    delivery = await queries.delivery_of(session, sub.id, event.id)
    if delivery is None:
        delivery = WebhookDelivery(
            partner_id=sub.partner_id,
            subscription_id=sub.id,
            event_id=event.id,
            entity_id=event.entity_id,
            object_type=event.object_type,
            action=event.action,
            sequence=event.sequence,
            url=sub.url,
            requests_made_count=0,
        )
        session.add(delivery)
    delivery.url = sub.url
    delivery.requests_made_count += 1
    delivery.response_status_code = outcome.status
    delivery.response = outcome.response
    delivery.was_successful = outcome.ok
    delivery.last_attempt_at = now()
    metrics.event_delivered("delivered" if outcome.ok else "retry" if outcome.retry else "refused")
    return delivery


#: :func:`_settle`'s answer when the subscription is gone, disabled or was reset meanwhile.
STOP = -1.0


async def _settle(
    session: AsyncSession, subscription_id: uuid.UUID, event: Event, outcome: Outcome, p: Policy
) -> float | None:
    """Store an attempt's outcome; returns None to go on with the next event, the delay
    before the next attempt when this event must be sent again, or :data:`STOP`."""
    sub = await queries.subscription(session, subscription_id)
    if sub is None or sub.status != "enabled" or sub.cursor >= event.sequence:
        return STOP
    await note_attempt(session, sub, event, outcome)
    at = now()
    if not outcome.retry:
        sub.cursor = event.sequence
        sub.failures, sub.failing_since, sub.next_attempt_at = 0, None, None
        return None
    sub.failures += 1
    sub.failing_since = sub.failing_since or at
    if (at - sub.failing_since).total_seconds() >= p.disable_after:
        disable(session, sub, f"failing since {sub.failing_since.isoformat()}: {outcome.response}")
        return STOP
    delay = p.backoff(sub.failures, outcome.retry_after)
    sub.next_attempt_at = at + dt.timedelta(seconds=delay)
    return delay


def disable(session: AsyncSession, sub: WebhookSubscription, reason: str) -> None:
    """Disable a subscription that failed too long, and say so in an event."""
    sub.status = "disabled"
    sub.disabled_reason = reason[:2000]
    sub.next_attempt_at = None
    log.warning("webhook subscription %s disabled: %s", sub.id, reason)
    outbox.record(
        session,
        partner_id=sub.partner_id,
        entity_id=None,
        object_type="webhook_subscription",
        action="webhook_subscription.disabled",
        description=f"Webhook subscription disabled: {reason[:500]}",
        obj=subscription_out(sub),
        object_id=sub.id,
    )


async def deliver(ctx: JobContext, subscription_id: uuid.UUID) -> float | None:
    """Send the subscription's due events in sequence order until none is left or one fails.

    Returns the seconds after which the caller must run this again (a failed event waits for
    its retry), or None. The caller holds the subscription's lease.
    """
    policy = Policy.of(ctx)
    box = SecretBox(ctx.settings.secret_key)
    while True:
        wait = 0.0
        async with ctx.sessionmaker() as session:
            sub = await queries.subscription(session, subscription_id)
            if sub is None or sub.status != "enabled":
                return None
            at = now()
            if sub.next_attempt_at is not None and sub.next_attempt_at > at:
                wait = (sub.next_attempt_at - at).total_seconds()
            else:
                events = list(await queries.pending_for(session, sub, BATCH))
                if not events:
                    return None
                url, secret = sub.url, box.decrypt(sub.secret_encrypted)
        if wait > INLINE_WAIT:
            return wait
        if wait > 0:
            await asyncio.sleep(wait)  # a short backoff: waited here, the lease in hand
            continue
        for event in events:
            body = webhook_body(event, subscription_id)
            outcome = await send(url, secret, event.id, body, policy, ctx.settings)
            async with ctx.sessionmaker() as session:
                delay = await _settle(session, subscription_id, event, outcome, policy)
                await session.commit()
            metrics.event_delivered(
                "delivered" if outcome.ok else "retrying" if outcome.retry else "refused"
            )
            if delay == STOP:
                return None
            if delay is not None:
                break  # the loop's start waits (or hands the retry to the scheduler)
            if not outcome.ok and not outcome.retry:
                log.info("webhook %s refused by %s: %s", event.id, url, outcome.status)
