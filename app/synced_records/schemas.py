"""Synced record bodies, in Monite's shape (``SyncRecordResource``), plus attempt history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from app.schemas import Request, Response

ObjectType = Literal["product", "customer", "vendor", "receivable", "bill"]
#: Monite's ``ObjectMatchTypes``, which a list may ask for: ``payment_record`` too, though
#: payment records are not synced yet (so its list is empty).
ListedObjectType = Literal["product", "customer", "vendor", "receivable", "bill", "payment_record"]
SyncStatus = Literal["pending", "error", "done"]


class AttemptOut(Response):
    """One push or validation attempt: what was sent (summary) and what came back."""

    number: int
    kind: str
    outcome: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    push_operation_key: str | None
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    error: str | None


class SyncedRecordOut(Response):
    """``errors`` is an object (``{message, details}``) or null, never a list (Monite)."""

    id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    object_type: str
    sync_status: str
    provider: str
    last_pulled_at: dt.datetime
    object_id: uuid.UUID | None = None
    object_updated_at: dt.datetime | None = None
    platform: str | None = None
    platform_object_id: str | None = None
    platform_updated_at: dt.datetime | None = None
    provider_object_id: str | None = None
    provider_updated_at: dt.datetime | None = None
    errors: dict[str, Any] | None = None
    attempts_count: int = 0
    next_attempt_at: dt.datetime | None = None
    attempts: list[AttemptOut] | None = None


class ResolveBody(Request):
    """Support staff decide a record that waits for a person; exactly one field:

    - ``object_id``: a pulled contact or item that matched several: the counterpart or
      product to link it to;
    - ``provider_object_id``: a counterpart being pushed that may already be in the accounting
      system: the existing contact (a pulled customer or supplier id) to link it to;
    - ``create_new``: the same counterpart is none of those contacts: create it at the next
      push.
    """

    object_id: uuid.UUID | None = None
    provider_object_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    create_new: bool = False


class BulkPushBody(Request):
    """Retry up to ``limit`` records of a type that are in ``error`` (after a fix)."""

    object_type: ObjectType
    sync_status: Literal["error"] = "error"
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class BulkPushOut(Response):
    queued: int
