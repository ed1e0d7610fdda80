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
    message: str


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
