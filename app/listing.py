"""List-endpoint parameters shared by every domain (Monite cursor pagination)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.params import Parameter

Limit = Annotated[int, Parameter(ge=1, le=250, description="Page size, 1-250.")]
Order = Literal["asc", "desc"]
Token = Annotated[
    str | None,
    Parameter(
        description="Cursor from a previous page; other parameters except limit are ignored."
    ),
]
