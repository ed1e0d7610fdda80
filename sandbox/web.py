"""HTTP helpers shared by the sandbox's routes: auth, JSON and paged responses, paging
parameters, idempotency."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response

from sandbox.errors import CodatError, bad_request
from sandbox.query import QueryError, compile_query, sort_records
from sandbox.state import SandboxState

_encoder = msgspec.json.Encoder()
MAX_PAGE_SIZE = 5000
DEFAULT_PAGE_SIZE = 100


def sandbox_state(request: Request) -> SandboxState:
    """The app's :class:`SandboxState`."""
    return request.app.state.sandbox


def api_key_from_header(state: SandboxState, authorization: str | None) -> str | None:
    """The accepted API key in ``Authorization: Basic base64(apiKey)``, or None.

    Codat: the header is the API key base64-encoded; ``base64(key:)`` is accepted too.
    """
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    for candidate in (decoded, decoded.removesuffix(":")):
        if candidate in state.config.api_keys:
            return candidate
    return None


def require_api_key(request: Request) -> str:
    """The request's API key. Raises CodatError 401."""
    key = request.scope.get("state", {}).get("sandbox_api_key")
    if key:
        return key
    key = api_key_from_header(sandbox_state(request), request.headers.get("authorization"))
    if key is None:
        raise CodatError(401, "Unauthorized. Invalid or missing API key.", can_be_retried="False")
    return key


def json_response(body: Any, status_code: int = 200) -> Response:
    """A JSON response encoded with msgspec."""
    return Response(
        content=body if isinstance(body, bytes) else _encoder.encode(body),
        status_code=status_code,
        media_type="application/json",
    )


def paging(request: Request) -> tuple[int, int, str | None, str | None]:
    """(page, pageSize, query, orderBy) from the query string. Raises CodatError 400."""
    params = request.query_params

    def integer(name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"{name} must be an integer.") from None

    page = integer("page", 1)
    page_size = integer("pageSize", DEFAULT_PAGE_SIZE)
    if page < 1:
        raise bad_request("page must be 1 or more.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise bad_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return page, page_size, params.get("query"), params.get("orderBy")


def _links(
    base: str,
    path: str,
    page: int,
    page_size: int,
    total: int,
    query: str | None,
    order: str | None,
) -> dict[str, Any]:
    def href(number: int) -> dict[str, str]:
        params: dict[str, Any] = {"page": number, "pageSize": page_size}
        if query:
            params["query"] = query
        if order:
            params["orderBy"] = order
        return {"href": f"{base}{path}?{urlencode(params)}"}

    links: dict[str, Any] = {"self": {"href": f"{base}{path}"}, "current": href(page)}
    if page * page_size < total:
        links["next"] = href(page + 1)
    if page > 1:
        links["previous"] = href(page - 1)
    return links


def page_response(
    state: SandboxState,
    path: str,
    encoded: list[bytes],
    total: int,
    page: int,
    page_size: int,
    query: str | None,
    order_by: str | None,
) -> Response:
    """Codat's page ``{results, pageNumber, pageSize, totalResults, _links}`` from
    pre-encoded records; ``_links`` hrefs are absolute, built from ``public_url``."""
    links = _links(state.config.base_url, path, page, page_size, total, query, order_by)
    body = b"".join(
        (
            b'{"results":[',
            b",".join(encoded),
            b'],"pageNumber":%d,"pageSize":%d,"totalResults":%d,"_links":'
            % (page, page_size, total),
            _encoder.encode(links),
            b"}",
        )
    )
    return json_response(body)


def page_of_dicts(request: Request, path: str, records: list[dict[str, Any]]) -> Response:
    """Filter, order and page a small list of dicts (companies, connections, pushes)."""
    state = sandbox_state(request)
    page, page_size, query, order_by = paging(request)
    try:
        predicate = compile_query(query)
        if predicate is not None:
            records = [r for r in records if predicate(r)]
        if order_by:
            records = sort_records(records, order_by, key=lambda r: r)
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    start = (page - 1) * page_size
    chosen = [_encoder.encode(r) for r in records[start : start + page_size]]
    return page_response(state, path, chosen, len(records), page, page_size, query, order_by)


async def read_json(request: Request) -> Any:
    """The request body as JSON (None when empty). Raises CodatError 400."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise bad_request("The request body is not valid JSON.") from None


async def idempotent(
    request: Request, api_key: str, produce: Callable[[], Awaitable[tuple[int, bytes]]]
) -> Response:
    """Run ``produce`` once per ``Idempotency-Key``: a repeat with the same key and request
    replays the first response (header ``Idempotent-Replayed: true``); the same key with a
    different method, path or body is 422. 4xx answers are stored too; faults are not
    (they happen before the handler), so a retried 429/5xx runs the request."""
    key = request.headers.get("idempotency-key")
    if not key:
        status, body = await produce()
        return json_response(body, status)
    state = sandbox_state(request)
    raw = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + raw
    ).hexdigest()
    stored = state.idempotency.get((api_key, key))
    if stored is not None:
        if stored[0] != fingerprint:
            raise CodatError(
                422,
                "This Idempotency-Key was already used with a different request.",
                can_be_retried="False",
            )
        response = json_response(stored[2], stored[1])
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        status, body = await produce()
    except CodatError as exc:
        if exc.status_code >= 500:
            raise
        status, body = exc.status_code, _encoder.encode(exc.body())
    state.idempotency[(api_key, key)] = (fingerprint, status, body)
    return json_response(body, status)


def encode(value: Any) -> bytes:
    """msgspec JSON encoding."""
    return _encoder.encode(value)
