"""``POST /v1/webhooks/codat`` (deployment-wide secrets) and ``/v1/webhooks/codat/{partner_id}``.

Verify, parse, store unique on the message id, answer 2xx; a job applies the event later.
The answer never depends on handling, so the provider (which retries for about a day and
wants an answer within 15 s) never sees our internal failures.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import State

import webhooks
from app import metrics
from app.errors import ApiError
from app.webhook_receiver.drain_requests import requester_for
from app.webhook_receiver.secrets import secrets_for
from app.webhook_receiver.writer import writer_for

log = logging.getLogger("acctsync.webhooks")
MAX_BODY = 1024 * 1024


async def _read_limited(request: Request[Any, Any, Any]) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        metrics.webhook_received("refused", "too_large")
        raise ApiError("Request body is larger than 1 MiB", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            metrics.webhook_received("refused", "too_large")
            raise ApiError("Request body is larger than 1 MiB", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(
    request: Request[Any, Any, Any], state: State, partner_id: uuid.UUID | None
) -> Response[dict[str, str]]:
    body = await _read_limited(request)
    secrets, authorizations = await secrets_for(state, partner_id)
    try:
        verified = webhooks.verify_request(
            request.headers, body, secrets=secrets, authorizations=authorizations
        )
    except webhooks.WebhookVerificationError as exc:
        log.warning("webhook rejected: %s (%s)", exc.reason, exc.detail)
        metrics.webhook_received("refused", "signature")
        return Response({"error": {"message": "Unauthorized"}}, status_code=401)  # type: ignore[dict-item]
    try:
        event = webhooks.decode_event(body, message_id=verified.message_id)
    except webhooks.WebhookDecodeError as exc:
        log.warning("webhook malformed: %s", exc)
        metrics.webhook_received("refused", "malformed")
        raise ApiError(f"Malformed webhook body: {exc}", 400) from None
    company_id = getattr(event, "company_id", None)
    for what, value, limit in (
        ("webhook-id", event.message_id, 200),
        ("event type", event.event_type, 100),
        ("company id", company_id, 64),
    ):
        if value is not None and len(value) > limit:
            # A signed delivery we can never store: 400 (the provider stops), not a 500 (the
            # provider retries for a day); said once in the log, without a traceback.
            log.warning("webhook refused: %s longer than %d characters", what, limit)
            metrics.webhook_received("refused", "unstorable")
            raise ApiError(f"Malformed webhook: the {what} is longer than {limit} characters", 400)
    now = dt.datetime.now(dt.UTC)
    created = await writer_for(state.engine).insert(
        {
            "message_id": event.message_id,
            "partner_id": partner_id,
            "event_type": event.event_type,
            "company_id": company_id,
            "body": body,
            "received_at": now,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
    )
    metrics.webhook_received("accepted" if created else "duplicate")
    if created:
        jobs = state.get("jobs")
        if jobs is not None:
            requester_for(jobs).want()
    return Response({"status": "accepted" if created else "duplicate"}, status_code=200)


@post(
    "/v1/webhooks/codat",
    operation_id="post_webhooks_codat",
    tags=["webhooks"],
    exclude_from_auth=True,
    request_max_body_size=None,
    status_code=200,
)
async def receive_codat(request: Request[Any, Any, Any], state: State) -> Response[dict[str, str]]:
    """Codat webhooks signed with the deployment's secret (or legacy Authorization value)."""
    return await _receive(request, state, None)


@post(
    "/v1/webhooks/codat/{partner_id:uuid}",
    operation_id="post_webhooks_codat_partner",
    tags=["webhooks"],
    exclude_from_auth=True,
    request_max_body_size=None,
    status_code=200,
)
async def receive_codat_for_partner(
    partner_id: uuid.UUID, request: Request[Any, Any, Any], state: State
) -> Response[dict[str, str]]:
    """Codat webhooks of a partner's own Codat account, applied to that partner's entities only."""
    return await _receive(request, state, partner_id)
