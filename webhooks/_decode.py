"""Decoding of Codat's two webhook envelopes into normalised events (`webhooks._events`).

Codat: current envelope `{id, eventType, generatedDate, payload}`; legacy rule envelope
`{ClientId, ClientName, CompanyId, DataConnectionId, RuleId, RuleType, AlertId, Message, Data}`.
Field names and casing follow Codat's published examples (tests/fixtures).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import msgspec

from webhooks._errors import WebhookDecodeError
from webhooks._events import (
    ConnectionStatus,
    ConnectionStatusChanged,
    DataSyncCompleted,
    DataSyncError,
    Ignored,
    PushOperationChanged,
    PushStatus,
    WebhookEvent,
)

_T = TypeVar("_T")
_NULL = msgspec.Raw(b"null")

# ---------------------------------------------------------------------------------------------
# Wire shapes (only the fields we read; unknown fields are ignored by msgspec).


class _Envelope(msgspec.Struct):
    # current
    id: str | None = None
    eventType: str | None = None
    generatedDate: str | None = None
    payload: msgspec.Raw = _NULL
    # legacy
    CompanyId: str | None = None
    DataConnectionId: str | None = None
    RuleType: str | None = None
    AlertId: str | None = None
    Message: str | None = None
    Data: msgspec.Raw = _NULL


class _Ref(msgspec.Struct):
    id: str | None = None


class _ConnectionError(msgspec.Struct):
    statusText: str | None = None
    errorMessage: str | None = None
    status: str | None = None


class _Connection(msgspec.Struct):
    id: str | None = None
    status: str | None = None
    integrationKey: str | None = None
    platformKey: str | None = None
    dataConnectionErrors: list[_ConnectionError] | None = None


class _ConnectionPayload(msgspec.Struct):
    referenceCompany: _Ref | None = None
    companyId: str | None = None
    connection: _Connection | None = None


class _ReadDataType(msgspec.Struct):
    dataType: str | None = None
    connectionId: str | None = None
    status: str | None = None


class _ReadPayload(msgspec.Struct):
    referenceCompany: _Ref | None = None
    companyId: str | None = None
    connectionId: str | None = None
    dataTypes: list[_ReadDataType] | None = None


class _WritePayload(msgspec.Struct):
    id: str | None = None
    pushOperationKey: str | None = None
    type: str | None = None
    referenceCompany: _Ref | None = None
    companyId: str | None = None
    connectionId: str | None = None
    dataType: str | None = None
    status: str | None = None
    record: _Ref | None = None
    attachmentId: str | None = None


class _LegacyData(msgspec.Struct):
    dataConnectionId: str | None = None
    newStatus: str | None = None
    oldStatus: str | None = None
    platformKey: str | None = None
    dataType: str | None = None
    datasetId: str | None = None
    datasetStatus: str | None = None
    status: str | None = None
    pushOperationKey: str | None = None
    pushOperationGuid: str | None = None


_ENVELOPE_DECODER = msgspec.json.Decoder(_Envelope)
_CONNECTION_DECODER = msgspec.json.Decoder(_ConnectionPayload | None)
_READ_DECODER = msgspec.json.Decoder(_ReadPayload | None)
_WRITE_DECODER = msgspec.json.Decoder(_WritePayload | None)
_LEGACY_DATA_DECODER = msgspec.json.Decoder(_LegacyData | None)

# ---------------------------------------------------------------------------------------------
# Normalisation tables.

_CONNECTION_STATUSES: dict[str, ConnectionStatus] = {
    "pendingauth": "PendingAuth",
    "linked": "Linked",
    "unlinked": "Unlinked",
    "deauthorized": "Deauthorized",
    "deauthorised": "Deauthorized",
}

_PUSH_STATUSES: dict[str, PushStatus] = {
    "pending": "Pending",
    "success": "Success",
    "failed": "Failed",
    "timedout": "TimedOut",
}

# Codat current connection event -> status when the payload has none (or an unknown one).
_CONNECTION_EVENTS: dict[str, ConnectionStatus] = {
    "connection.created": "PendingAuth",
    "connection.connected": "Linked",
    "connection.failed": "PendingAuth",
    "connection.disconnected": "Unlinked",
    "connection.reconnected": "Linked",
    "connection.deleted": "Unlinked",
}

_READ_EVENTS = frozenset({"read.completed", "read.completed.initial"})
_WRITE_SUFFIXES: dict[str, PushStatus] = {
    ".write.successful": "Success",
    ".write.unsuccessful": "Failed",
}


def _key(text: str | None) -> str:
    """Case-, space- and bracket-insensitive form of a status or legacy rule name."""
    if not text:
        return ""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _connection_status(text: str | None) -> ConnectionStatus | None:
    return _CONNECTION_STATUSES.get(_key(text))


def _push_status(text: str | None) -> PushStatus | None:
    return _PUSH_STATUSES.get(_key(text))


def _occurred_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _data_type_of(event_type: str, suffix: str) -> str | None:
    """`bills.write.successful` -> "bills"; a placeholder like `{dataType}` -> None."""
    prefix = event_type[: -len(suffix)]
    if prefix and all(ch.isalnum() or ch == "-" for ch in prefix):
        return prefix
    return None


def _require(value: str | None, what: str, event_type: str) -> str:
    if not value:
        raise WebhookDecodeError(f"{event_type!r} event has no {what}")
    return value


def _decode_part(
    decoder: msgspec.json.Decoder[_T | None], raw: msgspec.Raw, where: str
) -> _T | None:
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise WebhookDecodeError(f"{where}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Current envelope.


def _company_of(payload: _ConnectionPayload | _ReadPayload | _WritePayload) -> str | None:
    if payload.referenceCompany is not None and payload.referenceCompany.id:
        return payload.referenceCompany.id
    return payload.companyId


def _decode_current(env: _Envelope, event_type: str, message_id: str) -> WebhookEvent:
    common = {
        "message_id": message_id,
        "event_type": event_type,
        "occurred_at": _occurred_at(env.generatedDate),
    }
    if event_type in _CONNECTION_EVENTS:
        payload = _decode_part(_CONNECTION_DECODER, env.payload, "payload") or _ConnectionPayload()
        connection = payload.connection or _Connection()
        deleted = event_type == "connection.deleted"
        status = None if deleted else _connection_status(connection.status)
        errors = tuple(
            text
            for err in connection.dataConnectionErrors or ()
            if _key(err.status) in ("", "active") and (text := err.errorMessage or err.statusText)
        )
        return ConnectionStatusChanged(
            **common,
            company_id=_require(_company_of(payload), "company id", event_type),
            connection_id=_require(connection.id, "connection id", event_type),
            status=status or _CONNECTION_EVENTS[event_type],
            platform_key=connection.integrationKey or connection.platformKey,
            deleted=deleted,
            errors=errors,
        )
    if event_type in _READ_EVENTS:
        payload = _decode_part(_READ_DECODER, env.payload, "payload") or _ReadPayload()
        items = payload.dataTypes or []
        done = tuple(i.dataType for i in items if i.dataType and _key(i.status) in ("", "complete"))
        failed = tuple(
            i.dataType for i in items if i.dataType and _key(i.status) not in ("", "complete")
        )
        connection_id = payload.connectionId or next(
            (i.connectionId for i in items if i.connectionId), None
        )
        return DataSyncCompleted(
            **common,
            company_id=_require(_company_of(payload), "company id", event_type),
            connection_id=connection_id,
            data_types=done,
            failed_data_types=failed,
        )
    for suffix, default_status in _WRITE_SUFFIXES.items():
        if event_type.endswith(suffix):
            payload = _decode_part(_WRITE_DECODER, env.payload, "payload") or _WritePayload()
            return PushOperationChanged(
                **common,
                company_id=_require(_company_of(payload), "company id", event_type),
                connection_id=payload.connectionId,
                push_operation_key=_require(
                    payload.id or payload.pushOperationKey, "push operation key", event_type
                ),
                data_type=_data_type_of(event_type, suffix) or payload.dataType,
                status=_push_status(payload.status) or default_status,
                record_id=payload.record.id if payload.record is not None else None,
                operation_type=payload.type,
                attachment_id=payload.attachmentId,
            )
    company_id = None
    try:
        loose = _CONNECTION_DECODER.decode(env.payload)
    except msgspec.DecodeError:
        loose = None  # an ignored event's payload may have any shape
    if loose is not None:
        company_id = _company_of(loose)
    return Ignored(**common, company_id=company_id, reason="unhandled event type")


# ---------------------------------------------------------------------------------------------
# Legacy envelope.


def _legacy_status_changed(
    env: _Envelope, data: _LegacyData, common: dict[str, object]
) -> WebhookEvent:
    status = _connection_status(data.newStatus)
    if status is None:
        return Ignored(**common, company_id=env.CompanyId, reason="unknown connection status")
    rule = common["event_type"]
    return ConnectionStatusChanged(
        **common,
        company_id=_require(env.CompanyId, "company id", rule),
        connection_id=_require(
            data.dataConnectionId or env.DataConnectionId, "connection id", rule
        ),
        status=status,
        old_status=_connection_status(data.oldStatus),
        platform_key=data.platformKey,
    )


def _legacy_sync_completed(
    env: _Envelope, data: _LegacyData, common: dict[str, object]
) -> WebhookEvent:
    return DataSyncCompleted(
        **common,
        company_id=_require(env.CompanyId, "company id", common["event_type"]),
        connection_id=env.DataConnectionId or data.dataConnectionId,
        data_types=(data.dataType,) if data.dataType else (),
        dataset_id=data.datasetId,
    )


def _legacy_sync_error(
    env: _Envelope, data: _LegacyData, common: dict[str, object]
) -> WebhookEvent:
    return DataSyncError(
        **common,
        company_id=_require(env.CompanyId, "company id", common["event_type"]),
        connection_id=env.DataConnectionId or data.dataConnectionId,
        data_type=data.dataType,
        dataset_status=data.datasetStatus,
        dataset_id=data.datasetId,
        message=env.Message,
    )


def _legacy_push(
    env: _Envelope, data: _LegacyData, common: dict[str, object], status: PushStatus | None
) -> WebhookEvent:
    if status is None:
        return Ignored(**common, company_id=env.CompanyId, reason="unknown push status")
    rule = common["event_type"]
    return PushOperationChanged(
        **common,
        company_id=_require(env.CompanyId, "company id", rule),
        connection_id=env.DataConnectionId or data.dataConnectionId,
        push_operation_key=_require(
            data.pushOperationKey or data.pushOperationGuid, "push operation key", rule
        ),
        data_type=data.dataType,
        status=status,
    )


_LegacyHandler = Callable[[_Envelope, _LegacyData, dict[str, object]], WebhookEvent]

_LEGACY_RULES: dict[str, _LegacyHandler] = {
    _key("DataConnectionStatusChanged"): _legacy_status_changed,
    _key("Data sync completed"): _legacy_sync_completed,
    _key("Dataset data changed"): _legacy_sync_completed,
    _key("Data Sync Status Changed To Error"): _legacy_sync_error,
    _key("Push Operation Status Changed()"): lambda env, data, common: _legacy_push(
        env, data, common, _push_status(data.status)
    ),
    _key("Push Operation Timed Out"): lambda env, data, common: _legacy_push(
        env, data, common, "TimedOut"
    ),
}


def _decode_legacy(env: _Envelope, rule_type: str) -> WebhookEvent:
    message_id = _require(env.AlertId, "AlertId", rule_type)
    common: dict[str, object] = {"message_id": message_id, "event_type": rule_type}
    handler = _LEGACY_RULES.get(_key(rule_type))
    if handler is None:
        return Ignored(**common, company_id=env.CompanyId, reason="unhandled event type")
    data = _decode_part(_LEGACY_DATA_DECODER, env.Data, "Data") or _LegacyData()
    return handler(env, data, common)


# ---------------------------------------------------------------------------------------------


def decode_event(body: bytes, *, message_id: str | None = None) -> WebhookEvent:
    """Decode one verified webhook body (either Codat envelope) into a normalised event.

    Args:
        body: the raw request body (UTF-8 JSON object).
        message_id: the `webhook-id` / `svix-id` header, used as the message id when a
            current-envelope body has no `id`. Legacy bodies always use `AlertId`.

    Returns:
        `ConnectionStatusChanged`, `DataSyncCompleted`, `DataSyncError`,
        `PushOperationChanged`, or `Ignored` for an event type this service does not act on
        (e.g. `client.rateLimit.reached`, legacy `New company synchronised`) or a legacy
        status value it does not know.

    Raises:
        WebhookDecodeError: malformed JSON; not a JSON object; neither `eventType` nor
            `RuleType`; a field of the wrong JSON type; no message id; or a handled event
            type without its company id, connection id (connection events) or push
            operation key (push events).
    """
    try:
        env = _ENVELOPE_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise WebhookDecodeError(f"body: {exc}") from None
    if env.eventType:
        event_id = _require(env.id or message_id, "message id", env.eventType)
        return _decode_current(env, env.eventType, event_id)
    if env.RuleType:
        return _decode_legacy(env, env.RuleType)
    raise WebhookDecodeError("body has neither eventType (current) nor RuleType (legacy)")
