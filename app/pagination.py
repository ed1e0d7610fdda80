"""Cursor pagination, as in Monite (API.md "Pagination").

A page is ``{data, next_pagination_token, prev_pagination_token}``. A token is an HMAC-signed,
URL-safe blob that carries the original query (filters, sort, order), the entity it was made
for, the direction and the keyset position (sort value, id) of the row it continues from. With a
token, every other parameter except ``limit`` is ignored. A token that was tampered with, made
for another entity or for another list is a 422 on ``pagination_token``.

Keyset ("seek") pagination, not offsets: a page deep in the list costs the same as the first,
given an index on ``(scope..., sort column, id)``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import msgspec
from sqlalchemy import Select, bindparam, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import Unprocessable

T = TypeVar("T")
TOKEN_LOC: list[str | int] = ["query", "pagination_token"]


class Page(msgspec.Struct, Generic[T]):
    """A page of a list endpoint."""

    data: list[T]
    next_pagination_token: str | None = None
    prev_pagination_token: str | None = None


class Cursor(msgspec.Struct, array_like=True):
    list_name: str
    scope: str
    query: dict[str, Any]
    direction: str  # "next" | "prev"
    value: Any
    id: str


class Bound(NamedTuple):
    """A list's statement whose values are all bind parameters, with their values.

    A list that builds its ``stmt`` once per shape (which filters, which sort) and passes
    ``Bound(stmt, params)`` has the page's keyset, order and limit added once per shape too:
    building a statement and computing SQLAlchemy's cache key for it cost more than running a
    100-row page (``bench.api``, issue 17). Its rows are read as Core rows (``stmt`` selects
    columns, not ORM entities). Parameter names starting ``page_`` are the paginator's.
    """

    stmt: Select[Any]
    params: dict[str, Any]


#: Derived statements kept per process (shapes x sort directions x first/later page).
SHAPES_KEPT = 512


class Paginator:
    """Signs and reads tokens with a key derived from the service secret."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        #: (id(base), sort key, ascending scan, seek) -> (base, the page's statement); the
        #: base is kept so that its id is not reused while the entry lives.
        self._shapes: dict[tuple[int, str, bool, bool], tuple[Select[Any], Select[Any]]] = {}

    def _shaped(
        self,
        base: Select[Any],
        sort_col: InstrumentedAttribute[Any],
        id_col: InstrumentedAttribute[Any],
        scan_ascending: bool,
        seek: bool,
    ) -> Select[Any]:
        """:func:`_complete` of ``base``, built once per shape."""
        key = (id(base), sort_col.key, scan_ascending, seek)
        kept = self._shapes.get(key)
        if kept is not None and kept[0] is base:
            return kept[1]
        stmt = _complete(base, sort_col, id_col, scan_ascending, seek)
        if len(self._shapes) >= SHAPES_KEPT:
            self._shapes.clear()
        self._shapes[key] = (base, stmt)
        return stmt

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, cursor: Cursor) -> str:
        payload = msgspec.msgpack.encode(cursor)
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def decode(self, token: str, list_name: str, scope: str) -> Cursor:
        """Read a token made for ``list_name`` within ``scope`` (the entity id).

        Raises:
            Unprocessable: malformed, tampered with, or made for another list or entity.
        """
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, payload = raw[:16], raw[16:]
            if not hmac.compare_digest(mac, self._sign(payload)):
                raise ValueError
            cursor = msgspec.msgpack.decode(payload, type=Cursor)
        except (ValueError, msgspec.DecodeError):
            raise Unprocessable.field(TOKEN_LOC, "invalid pagination token") from None
        if cursor.list_name != list_name or cursor.scope != scope:
            raise Unprocessable.field(
                TOKEN_LOC, "pagination token belongs to another list or entity"
            )
        return cursor

    async def page(
        self,
        session: AsyncSession,
        stmt: Select[Any] | Bound,
        *,
        list_name: str,
        scope: str,
        query: dict[str, Any],
        sort_col: InstrumentedAttribute[Any],
        id_col: InstrumentedAttribute[Any],
        order: str,
        limit: int,
        token: str | None,
    ) -> tuple[Sequence[Any], str | None, str | None, dict[str, Any]]:
        """Run one page of ``stmt`` (already filtered by scope and query; a :class:`Bound`
        statement is completed once per shape and read as Core rows).

        Returns ``(rows, next_token, prev_token, query)`` where ``query`` is the one in force
        (the token's, when a token was given, so the caller can re-apply its filters).
        """
        direction = "next"
        after: tuple[Any, Any] | None = None
        if token:
            cursor = self.decode(token, list_name, scope)
            query, direction = cursor.query, cursor.direction
            order = query.get("order", order)
            after = (_decode_value(cursor.value), uuid.UUID(cursor.id))
        ascending = order == "asc"
        forward = direction == "next"
        scan_ascending = ascending == forward
        params: dict[str, Any] = {"page_limit": limit + 1}
        if after is not None:
            params["page_after_value"], params["page_after_id"] = after
        seek = after is not None
        if isinstance(stmt, Bound):
            shaped = self._shaped(stmt.stmt, sort_col, id_col, scan_ascending, seek)
            # Core execution on the session's connection: the ORM's row loading is skipped.
            connection = await session.connection()
            rows = list((await connection.execute(shaped, {**stmt.params, **params})).all())
        else:
            shaped = _complete(stmt, sort_col, id_col, scan_ascending, seek)
            result = await session.execute(shaped, params)
            # One ORM entity per row, or (a statement of columns) the Core rows themselves.
            rows = list(result.scalars().all() if len(result.keys()) == 1 else result.all())
        more = len(rows) > limit
        rows = rows[:limit]
        if not forward:
            rows.reverse()
        next_token = prev_token = None
        key = sort_col.key

        def make(direction: str, row: Any) -> str:
            return self.encode(
                Cursor(
                    list_name,
                    scope,
                    query,
                    direction,
                    _encode_value(getattr(row, key)),
                    str(row.id),
                )
            )

        if rows:
            has_next = more if forward else after is not None
            has_prev = after is not None if forward else more
            if has_next:
                next_token = make("next", rows[-1])
            if has_prev:
                prev_token = make("prev", rows[0])
        return rows, next_token, prev_token, query


#: A list's statement: fixed, or built from the query in force and the token's cursor (None
#: on a first page).
Statement = Select[Any] | Bound | Callable[[dict[str, Any], Cursor | None], Select[Any] | Bound]


async def paginate(
    session: AsyncSession,
    paginator: Paginator,
    stmt: Statement,
    *,
    list_name: str,
    scope: uuid.UUID | str,
    model: Any,
    query: dict[str, Any],
    limit: int,
    token: str | None,
    out: Callable[[Any], Any] | None = None,
) -> Page[Any]:
    """One page of a list route: what every list route answers with.

    ``query`` is the request's (``order``, the filters and, where the list offers a choice,
    ``sort``); with a ``token`` the token's query is in force instead (the other parameters
    except ``limit`` are ignored). Rows are sorted by ``model``'s ``query["sort"]`` column
    (``created_at`` where the query has none), then its ``id``. ``out`` turns each row into
    the page's item (default: the rows themselves).

    Raises:
        Unprocessable: the token is malformed, or made for another list or scope.
    """
    cursor = paginator.decode(token, list_name, str(scope)) if token else None
    if cursor is not None:
        query = cursor.query
    if callable(stmt):
        stmt = stmt(query, cursor)
    rows, nxt, prev, _ = await paginator.page(
        session,
        stmt,
        list_name=list_name,
        scope=str(scope),
        query=query,
        sort_col=getattr(model, query.get("sort", "created_at")),
        id_col=model.id,
        order=query["order"],
        limit=limit,
        token=token,
    )
    return Page([out(row) for row in rows] if out else list(rows), nxt, prev)


def _complete(
    base: Select[Any],
    sort_col: InstrumentedAttribute[Any],
    id_col: InstrumentedAttribute[Any],
    scan_ascending: bool,
    seek: bool,
) -> Select[Any]:
    """``base`` with a page's keyset condition (when ``seek``: rows after the bind parameters
    ``page_after_value``, ``page_after_id`` in scan order), its order and its limit (bind
    parameter ``page_limit``). The keyset is a row-value comparison, which both SQLite and
    PostgreSQL use as an index seek (the equivalent OR/AND form scans from the start of the
    list)."""
    stmt = base
    if seek:
        position = tuple_(sort_col, id_col)
        after_row = tuple_(
            bindparam("page_after_value", type_=sort_col.type),
            bindparam("page_after_id", type_=id_col.type),
        )
        stmt = stmt.where(position > after_row if scan_ascending else position < after_row)
    if scan_ascending:
        stmt = stmt.order_by(sort_col.asc(), id_col.asc())
    else:
        stmt = stmt.order_by(sort_col.desc(), id_col.desc())
    return stmt.limit(bindparam("page_limit"))


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "uuid" in value:
            return uuid.UUID(value["uuid"])
    return value
