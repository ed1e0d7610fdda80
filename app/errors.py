"""Error bodies, as in Monite's API (API.md "Errors").

Every 4xx/5xx answers ``{"error": {"message": "..."}}``, except validation (422), which
answers ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``. Services raise the
exceptions below; the handlers turn them (and Litestar's own) into those bodies.
"""

from __future__ import annotations

import enum
import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa_exc

log = logging.getLogger("acctsync.api")


class ApiError(HTTPException):
    """An error with a status code and a message a caller can act on."""

    status_code = 400

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(detail=message, status_code=status_code or self.status_code)


class NotFound(ApiError):
    """404: the object does not exist for this entity (or belongs to another)."""

    status_code = 404


class Conflict(ApiError):
    """409: the request conflicts with the object's current state."""

    status_code = 409


class Unprocessable(HTTPException):
    """422 with field details: ``errors`` is ``[(loc, msg, type), ...]``."""

    status_code = 422

    def __init__(self, errors: list[tuple[list[str | int], str, str]]) -> None:
        super().__init__(detail=errors[0][1] if errors else "validation error")
        self.errors = errors

    @classmethod
    def field(cls, loc: list[str | int], msg: str, type_: str = "value_error") -> Unprocessable:
        """A 422 about one field, e.g. ``Unprocessable.field(["body", "currency"], "...")``."""
        return cls([(loc, msg, type_)])


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        {"error": {"message": message}},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers or None,
    )


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    """Monite's error body ``{"error": {"message": ...}}`` with ``status`` (and headers, e.g.
    ``Retry-After``), for handlers wired outside this module (provider failures)."""
    return _error(status, message, headers)


def _detail(items: list[dict[str, Any]]) -> Response[Any]:
    return Response({"detail": items}, status_code=422, media_type=MediaType.JSON)


def _split_path(path: str) -> list[str | int]:
    """``line_items[0].quantity`` -> ``["line_items", 0, "quantity"]``."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    return [int(p) if p.isdigit() else p for p in parts if p]


def _loc_from_litestar(item: dict[str, Any]) -> list[str | int]:
    source = item.get("source") or "body"
    key = str(item.get("key") or "")
    loc: list[str | int] = [source]
    parts = _split_path(key)
    if source == "body" and parts[:1] == ["data"]:
        parts = parts[1:]
    loc.extend(parts)
    return loc


_ENUM = re.compile(r"^Invalid enum value ")


def _inner_types(info: Any) -> list[Any]:
    """``info`` without its wrappers: the members of a union, the type under constraints."""
    if isinstance(info, msgspec.inspect.UnionType):
        return [t for member in info.types for t in _inner_types(member)]
    if isinstance(info, msgspec.inspect.Metadata):
        return _inner_types(info.type)
    return [info]


def _step(info: Any, part: str | int) -> list[Any]:
    """The types found one step down ``info`` along ``part`` (a field name or an index)."""
    found: list[Any] = []
    for t in _inner_types(info):
        if isinstance(part, int) and hasattr(t, "item_type"):
            found.append(t.item_type)
        elif isinstance(part, str) and hasattr(t, "fields"):
            found.extend(f.type for f in t.fields if part in (f.encode_name, f.name))
        elif isinstance(part, str) and hasattr(t, "value_type"):
            found.append(t.value_type)
    return found


def _enum_values(request: Request[Any, Any, Any], loc: list[str | int]) -> list[str]:
    """The values a field accepts, read from the route's signature (a ``Literal`` or an
    ``Enum`` at ``loc``: ``["query", "object_type"]``, ``["body", "line_items", 0, "type"]``),
    sorted; empty when they cannot be told."""
    try:
        model = request.route_handler.signature_model
        source, *path = loc
        if source == "body":
            path = ["data", *path]
        types = [msgspec.inspect.type_info(model)]
        for part in path:
            types = [t for info in types for t in _step(info, part)]
        values: list[str] = []
        for t in (inner for info in types for inner in _inner_types(info)):
            if isinstance(t, msgspec.inspect.LiteralType):
                values.extend(str(v) for v in t.values)
            elif isinstance(t, msgspec.inspect.EnumType) and issubclass(t.cls, enum.Enum):
                values.extend(str(member.value) for member in t.cls)
        return sorted(set(values))
    except Exception:  # never turn a 422 into a 500 for want of a hint
        return []


_MISSING = re.compile(r"Missing required (query|header|path|cookie) parameter '([^']+)'")


def _litestar_validation(
    exc: ValidationException, request: Request[Any, Any, Any] | None = None
) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    message = str(exc.detail)
    if not extra and (missing := _MISSING.search(message)):
        return _detail(
            [
                {
                    "loc": [missing.group(1), missing.group(2)],
                    "msg": "field required",
                    "type": "missing",
                }
            ]
        )
    if not extra and ("JSON is malformed" in message or "malformed" in message.lower()):
        return _error(400, "Malformed JSON body")
    items = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        msg = str(item.get("message", "invalid value"))
        if "JSON is malformed" in msg or "Input data was truncated" in msg:
            return _error(400, f"Malformed JSON body: {msg}")
        path = ""
        if "at `$." in msg:
            msg, _, rest = msg.partition(" - at `$.")
            path = rest.rstrip("`")
        loc = _loc_from_litestar(item)
        if path:
            loc.extend(
                int(p) if p.isdigit() else p
                for p in path.replace("[", ".").replace("]", "").split(".")
                if p
            )
        kind = "missing" if "missing required field" in msg.lower() else "value_error"
        if msg.startswith("Object contains unknown field"):
            kind = "extra_forbidden"
            field_name = msg.split("`")[1] if "`" in msg else ""
            if field_name:
                loc.append(field_name)
        elif "missing required field" in msg.lower() and "`" in msg:
            loc.append(msg.split("`")[1])
        elif _ENUM.match(msg) and request is not None:
            if values := _enum_values(request, loc):
                msg = f"{msg}; permitted: {', '.join(repr(v) for v in values)}"
        items.append({"loc": loc, "msg": msg, "type": kind})
    if not items:
        items.append({"loc": ["body"], "msg": message, "type": "value_error"})
    return _detail(items)


#: A database that is there but cannot answer now (SQLite's one writer held past the busy
#: timeout; PostgreSQL out of connections, a serialisation failure or deadlock victim, a
#: dropped connection): the transaction was rolled back, so the request can simply be retried.
_BUSY = re.compile(
    r"database is locked|database is busy|database table is locked|too many clients"
    r"|could not serialize|deadlock detected|server closed the connection|connection refused"
    r"|the database system is (?:starting up|shutting down)",
    re.IGNORECASE,
)


def _database_busy(exc: Exception) -> bool:
    """True for a transient database condition a client should retry (answered 503)."""
    if isinstance(exc, sa_exc.TimeoutError):  # the connection pool stayed exhausted
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True  # the server ended the connection (restart, terminated backend)
    return isinstance(exc, sa_exc.OperationalError) and bool(_BUSY.search(str(exc.orig)))


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Turn any exception into Monite's error body; 5xx are logged with the request id.

    A transient database condition (see ``_BUSY``) is a 503 with ``Retry-After: 1``, not a
    500: the request's transaction was rolled back and changed nothing."""
    if isinstance(exc, Unprocessable):
        return _detail([{"loc": loc, "msg": msg, "type": t} for loc, msg, t in exc.errors])
    if isinstance(exc, ValidationException):
        return _litestar_validation(exc, request)
    if isinstance(exc, NotAuthorizedException):
        return _error(401, str(exc.detail) or "Not authenticated")
    if isinstance(exc, PermissionDeniedException):
        return _error(403, str(exc.detail))
    if isinstance(exc, NotFoundException) and not isinstance(exc, NotFound):
        return _error(404, str(exc.detail) or "Not found")
    if isinstance(exc, RecursionError):
        return _error(400, "Malformed JSON body: nested more deeply than the service accepts")
    if isinstance(exc, UnicodeDecodeError):
        return _error(400, "The request is not valid UTF-8")
    if isinstance(exc, HTTPException):
        # e.g. a 405's Allow header (RFC 9110), a 429's Retry-After
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))
    if _database_busy(exc):
        log.warning(
            "database busy, answered 503: %s",
            getattr(exc, "orig", exc),
            extra={"request_id": request.scope.get("state", {}).get("request_id")},
        )
        return _error(
            503, "The database is busy; nothing was changed, retry shortly", {"Retry-After": "1"}
        )
    log.exception(
        "unhandled error",
        extra={"request_id": request.scope.get("state", {}).get("request_id")},
    )
    return _error(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error")
