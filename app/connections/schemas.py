"""Connection bodies, in Monite's shape (``AccountingConnectionResponse``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from app.schemas import Request, Response

ConnectionStatus = Literal["pending_auth", "connected", "disconnected", "deauthorized"]


class ConnectionCreate(Request):
    """Optional body: without ``platform``, the user picks one on the provider's link page."""

    platform: str | None = None


class ErrorOut(Response):
    """A current problem of the connection (``data_type``: Codat's name of the data type it
    concerns, null for the whole connection)."""

    code: str
    message: str
    data_type: str | None = None
    first_seen_at: dt.datetime | None = None
    last_seen_at: dt.datetime | None = None


class DataTypeSyncStatus(Response):
    """The pull state of one data type: times are the ends of the last attempt and of the
    last successful one; counts are of the last successful pull; ``error`` is its current
    problem (null when healthy)."""

    data_type: str
    last_attempt_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    records_read: int = 0
    records_changed: int = 0
    error: ErrorOut | None = None


class SyncStatusOut(Response):
    """A connection's health at a glance: ``healthy`` is true when it is connected, has no
    current problem, is not ``stale`` (its last complete pull is no older than two pull
    intervals and ten minutes) and every data type has pulled successfully."""

    connection_id: uuid.UUID
    status: ConnectionStatus
    healthy: bool
    stale: bool
    last_pull: dt.datetime | None
    data: list[DataTypeSyncStatus]
    errors: list[ErrorOut]


class ConnectionOut(Response):
    id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    connection_url: str
    status: ConnectionStatus
    platform: str | None = None
    last_pull: dt.datetime | None = None
    errors: list[ErrorOut] | None = None


class Message(Response):
    message: str
