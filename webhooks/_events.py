"""Normalised provider events: one msgspec struct per kind, a tagged union on `kind`.

Every event carries `message_id` (the dedup key: current envelope `id`, else the
`webhook-id` header; legacy `AlertId`), `event_type` exactly as received (current
`eventType`, legacy `RuleType`), `occurred_at` (current `generatedDate`; legacy: None) and the
provider `company_id`. Encoded with msgspec the union carries `"kind": "<tag>"`, so a stored
event decodes back with `msgspec.json.decode(raw, type=WebhookEvent)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

ConnectionStatus = Literal["PendingAuth", "Linked", "Unlinked", "Deauthorized"]
"""Codat: a data connection's status (`dataConnectionStatus`)."""

PushStatus = Literal["Pending", "Success", "Failed", "TimedOut"]
"""Codat: a push operation's status (`PushOperationStatus`)."""


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    message_id: str
    event_type: str
    occurred_at: datetime | None = None

    @property
    def kind(self) -> str:
        """The event's kind tag, e.g. "connection_status_changed"."""
        return type(self).__struct_config__.tag  # type: ignore[return-value]


class ConnectionStatusChanged(_Event, frozen=True, kw_only=True, tag="connection_status_changed"):
    """A data connection changed status.

    Codat current: `connection.created|connected|failed|disconnected|reconnected|deleted`
    (`payload.connection`); legacy: RuleType `DataConnectionStatusChanged`.

    Attributes:
        connection_id: the provider data connection id.
        status: the new status. Taken from the payload; where it is missing or unknown, from
            the event type (created/failed: PendingAuth, connected/reconnected: Linked,
            disconnected: Unlinked). `connection.deleted` is always Unlinked with
            `deleted=True`, whatever status the deleted connection last had.
        old_status: the previous status (legacy only; None when not sent or unknown).
        platform_key: Codat's integration key, e.g. "gbol" (current `integrationKey`).
        deleted: the connection no longer exists at the provider.
        errors: messages of the connection's active `dataConnectionErrors`.
    """

    company_id: str
    connection_id: str
    status: ConnectionStatus
    old_status: ConnectionStatus | None = None
    platform_key: str | None = None
    deleted: bool = False
    errors: tuple[str, ...] = ()


class DataSyncCompleted(_Event, frozen=True, kw_only=True, tag="data_sync_completed"):
    """A read (pull) of one or more data types finished at the provider: pull them now.

    Codat current: `read.completed`, `read.completed.initial` (`payload.dataTypes[]`);
    legacy: RuleType `Data sync completed` and `Dataset data changed` (`Data.dataType`).

    Attributes:
        connection_id: the data connection, when the envelope names one.
        data_types: Codat data types that completed, e.g. ("invoices",) (status `Complete`
            or no status).
        failed_data_types: data types listed with any other status (e.g. `FetchError`).
        dataset_id: legacy `Data.datasetId`.
    """

    company_id: str
    connection_id: str | None = None
    data_types: tuple[str, ...] = ()
    failed_data_types: tuple[str, ...] = ()
    dataset_id: str | None = None


class DataSyncError(_Event, frozen=True, kw_only=True, tag="data_sync_error"):
    """A data type's read failed at the provider.

    Codat legacy: RuleType `Data Sync Status Changed To Error`
    (`Data: {dataType, datasetStatus, datasetId}`).

    Attributes:
        data_type: the Codat data type, e.g. "invoices".
        dataset_status: Codat's dataset status, e.g. "ProcessingError".
        message: the provider's human-readable message.
    """

    company_id: str
    connection_id: str | None = None
    data_type: str | None = None
    dataset_status: str | None = None
    dataset_id: str | None = None
    message: str | None = None


class PushOperationChanged(_Event, frozen=True, kw_only=True, tag="push_operation_changed"):
    """A push (write) operation reached a status.

    Codat current: `{dataType}.write.successful|unsuccessful` (`payload.id` is the push
    operation key); legacy: RuleType `Push Operation Status Changed()` and
    `Push Operation Timed Out` (status TimedOut).

    Attributes:
        push_operation_key: the key returned when the push was requested.
        data_type: e.g. "bills" (from the event type's prefix or the payload); None if absent.
        status: Pending | Success | Failed | TimedOut. From the payload; where missing or
            unknown, from the event type (successful: Success, unsuccessful: Failed).
        record_id: the id of the written record at the provider, when sent.
        operation_type: Codat's `payload.type`: Create | Update | Delete | UploadAttachment.
        attachment_id: `payload.attachmentId` for attachment uploads.
    """

    company_id: str
    connection_id: str | None = None
    push_operation_key: str
    data_type: str | None = None
    status: PushStatus
    record_id: str | None = None
    operation_type: str | None = None
    attachment_id: str | None = None


class Ignored(_Event, frozen=True, kw_only=True, tag="ignored"):
    """An event this service does not act on (not an error: acknowledge it and move on).

    Attributes:
        company_id: the company, when the envelope names one (rate-limit events do not).
        reason: why it is ignored, e.g. "unhandled event type".
    """

    company_id: str | None = None
    reason: str


WebhookEvent = (
    ConnectionStatusChanged | DataSyncCompleted | DataSyncError | PushOperationChanged | Ignored
)
"""Any normalised event; discriminate with `isinstance` or `event.kind`."""
