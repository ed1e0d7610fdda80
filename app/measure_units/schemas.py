"""Measure unit bodies, in Monite's shape (``UnitRequest``, ``UnitUpdate``, ``UnitResponse``,
``UnitListResponse``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from app.schemas import Request, Response

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=200)]


class UnitCreate(Request):
    """Monite ``UnitRequest``: ``name`` 1-100 characters, ``description`` up to 200."""

    name: Name
    description: Description | None = None


class UnitUpdate(Request):
    """Monite ``UnitUpdate``: the fields given are changed, the others kept."""

    name: Name | None = None
    description: Description | None = None


class UnitOut(Response):
    """Monite ``UnitResponse``."""

    id: uuid.UUID
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str | None = None


class UnitList(Response):
    """Monite ``UnitListResponse``: every unit of the entity in one array (not paged)."""

    data: list[UnitOut]
