"""The Codat implementation of :class:`~app.providers.base.AccountingProvider`.

One :class:`CodatClient` per API key (per partner), all of them on one shared
``httpx.AsyncClient`` per process (:func:`make_http_client`). Every call goes through
:meth:`CodatClient._send`, the only place that talks HTTP:

- auth: ``Authorization: Basic base64(api_key)`` (Codat: the key itself is base64-encoded,
  no user name, no colon);
- timeouts on every request (connect 5 s, read 30 s by default);
- ``Idempotency-Key`` on every POST/PUT/PATCH: the caller's, or a fresh uuid4 that stays the
  same across the retries of that one call (Codat: "a repeat with the same key returns the
  first response");
- retries: 429 waits for ``Retry-After`` (seconds or an HTTP date); 408, 5xx and connection
  errors / timeouts back off exponentially with full jitter (``uniform(0, min(cap, base *
  2**n))``, AWS "Exponential Backoff And Jitter"); after ``max_attempts`` requests the call
  raises :class:`~app.providers.base.ProviderUnavailable`; other 4xx raise
  :class:`~app.providers.base.ProviderRejected` at once (404:
  :class:`~app.providers.base.ProviderNotFound`, 401/403:
  :class:`~app.providers.base.ProviderAuthError`), carrying Codat's error body;
- rate limit: ``X-Rate-Limit-Remaining`` / ``X-Rate-Limit-Reset`` are read from every
  response; when Remaining is 0 the next call first waits until Reset.

Waits longer than ``max_wait`` seconds are not slept: the call raises ``ProviderUnavailable``
with ``retry_after`` so the job can be rescheduled instead of holding a worker.

Rate-limit state is per client instance, i.e. per process and API key. Several worker
processes sharing one key coordinate only coarsely: each learns the limit from its own
responses, and one that overshoots gets a 429 with ``Retry-After``, which it honours.

The API key is never logged and never part of an exception, a ``repr`` or a log line.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from app import metrics
from app.providers.base import (
    PUSH_DATA_TYPES,
    Company,
    CompanyInfo,
    Connection,
    DataStatus,
    ErrorMessage,
    Page,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
    PullOperation,
    PushOperation,
    RateLimitState,
    parse_datetime,
)
from app.providers.codat.records import decode_object, decode_page, record_type_for

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "CodatClient",
    "format_cursor",
    "make_http_client",
]

logger = logging.getLogger("acctsync.providers")

S = TypeVar("S", bound=msgspec.Struct)

#: Codat: ``pageSize`` is 1..5000 (default 100).
MAX_PAGE_SIZE = 5000
DEFAULT_PAGE_SIZE = 1000
#: Connect 5 s, read and write 30 s, waiting for a pooled connection 10 s.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ENCODER = msgspec.json.Encoder(decimal_format="number")

Sleep = Callable[[float], Awaitable[None]]


def _elapsed(response: httpx.Response) -> float | None:
    """Seconds from sending the request to reading the whole answer."""
    try:
        return response.elapsed.total_seconds()
    except RuntimeError:  # not closed yet
        return None


def make_http_client(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    max_connections: int = 50,
    max_keepalive_connections: int = 20,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    """The process-wide ``httpx.AsyncClient`` to share between :class:`CodatClient`\\ s.

    No base URL and no auth on it: each ``CodatClient`` sends its own, so partners with their
    own Codat accounts share the connection pool. Close it on shutdown (``await
    client.aclose()``). ``transport`` lets tests or the in-process sandbox plug in.
    """
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
        ),
        follow_redirects=False,
    )


def format_cursor(value: datetime) -> str:
    """A ``modifiedDate`` cursor as Codat's query wants it: UTC, whole seconds, ``Z``.

    Fractions are truncated (``>=`` then reads a few records twice, never misses one); a naive
    datetime is taken as UTC.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query(modified_since: datetime | None, query: str | None) -> str | None:
    parts = []
    if modified_since is not None:
        parts.append(f"modifiedDate>={format_cursor(modified_since)}")
    if query:
        parts.append(query)
    return "&&".join(parts) or None


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After``: delta seconds or an HTTP date (RFC 9110 10.2.3); seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _parse_reset(value: str | None, now: float) -> float | None:
    """``X-Rate-Limit-Reset`` as Unix seconds: accepts Unix seconds or milliseconds, delta
    seconds (a small number), an HTTP date or an ISO 8601 datetime."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if number > 1e12:  # Unix milliseconds
            return number / 1000
        if number > 1e9:  # Unix seconds
            return number
        return now + max(0.0, number)
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed else None


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def _error_body(response: httpx.Response) -> ErrorMessage | None:
    if not response.content:
        return None
    try:
        body = decode_object(ErrorMessage, response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = response.text.strip()[:500]
        return ErrorMessage(status_code=response.status_code, error=text or None)
    return body


class CodatClient:
    """Codat's API as :class:`~app.providers.base.AccountingProvider` (see the module doc).

    ``base_url``: Codat's (``https://api.codat.io``) or the sandbox's, path prefix allowed.
    ``api_key``: the partner's Codat API key (sent as ``Basic base64(api_key)``).
    ``client``: a shared ``httpx.AsyncClient`` (not closed by :meth:`aclose`); or
    ``transport``: a transport for a client this instance creates and owns (tests:
    ``httpx.MockTransport``; the in-process sandbox: ``httpx.ASGITransport``).
    ``timeout``: per request. ``max_attempts``: requests per call, first one included (>= 1).
    ``backoff_base`` / ``backoff_cap``: seconds for the full-jitter backoff.
    ``max_wait``: the longest single wait (``Retry-After``, rate-limit reset) slept inside a
    call; longer waits raise ``ProviderUnavailable(retry_after=...)``.
    ``page_size``: default for reads (1..5000). ``sleep``, ``clock`` (Unix seconds) and ``rng``
    are injectable so tests neither wait nor depend on chance.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_wait: float = 60.0,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if client is not None and transport is not None:
            raise ValueError("pass either client or transport, not both")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self._base_url = base_url.rstrip("/")
        self._auth = "Basic " + base64.b64encode(api_key.encode()).decode("ascii")
        self._owns_client = client is None
        self._http = client or make_http_client(transport=transport)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_wait = max_wait
        self._page_size = page_size
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.rate_limit = RateLimitState()

    def __repr__(self) -> str:
        return f"CodatClient(base_url={self._base_url!r})"

    async def aclose(self) -> None:
        """Close the HTTP client if this instance created it (not a shared one)."""
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> CodatClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------------------------------
    # Companies and connections
    # ----------------------------------------------------------------------------------------

    async def create_company(
        self, name: str, *, description: str | None = None, idempotency_key: str | None = None
    ) -> Company:
        """``POST /companies`` ``{name, description}`` -> :class:`Company`."""
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        path = "/companies"
        response = await self._send("POST", path, json=body, idempotency_key=idempotency_key)
        return self._decode(Company, response, "POST", path)

    async def get_company(self, company_id: str) -> Company:
        """``GET /companies/{companyId}`` -> :class:`Company`; 404 -> ``ProviderNotFound``."""
        path = f"/companies/{_seg(company_id)}"
        return self._decode(Company, await self._send("GET", path), "GET", path)

    async def get_company_info(self, company_id: str) -> CompanyInfo:
        """``GET /companies/{companyId}/data/info`` -> :class:`CompanyInfo` (``baseCurrency``
        upper-cased, None when empty); 404 -> ``ProviderNotFound``."""
        path = f"/companies/{_seg(company_id)}/data/info"
        info = self._decode(CompanyInfo, await self._send("GET", path), "GET", path)
        currency = (info.base_currency or "").strip().upper()
        info.base_currency = currency if len(currency) == 3 and currency.isalpha() else None
        return info

    async def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str | None = None
    ) -> Connection:
        """``POST /companies/{companyId}/connections`` ``{platformKey}`` -> :class:`Connection`
        (status ``PendingAuth``, ``link_url`` for the user). Platform keys by our platform
        names: ``app.connections.platforms.PLATFORM_KEYS``."""
        path = f"/companies/{_seg(company_id)}/connections"
        response = await self._send(
            "POST", path, json={"platformKey": platform_key}, idempotency_key=idempotency_key
        )
        return self._decode(Connection, response, "POST", path)

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        """``GET /companies/{companyId}/connections/{connectionId}`` -> :class:`Connection`."""
        path = f"/companies/{_seg(company_id)}/connections/{_seg(connection_id)}"
        return self._decode(Connection, await self._send("GET", path), "GET", path)

    async def list_connections(self, company_id: str) -> list[Connection]:
        """``GET /companies/{companyId}/connections``, every page -> list of connections."""
        path = f"/companies/{_seg(company_id)}/connections"
        connections: list[Connection] = []
        page_number = 1
        while True:
            params = {"page": page_number, "pageSize": 100}
            response = await self._send("GET", path, params=params)
            page = self._decode_page("connections", response, "GET", path, Connection)
            connections.extend(page.records)
            if not page.has_next:
                return connections
            page_number += 1

    async def unlink_connection(
        self, company_id: str, connection_id: str, *, idempotency_key: str | None = None
    ) -> Connection:
        """``PATCH .../connections/{connectionId}`` ``{status: "Unlinked"}`` -> the connection
        (Codat: disconnects; the data already read stays at the provider)."""
        path = f"/companies/{_seg(company_id)}/connections/{_seg(connection_id)}"
        response = await self._send(
            "PATCH", path, json={"status": "Unlinked"}, idempotency_key=idempotency_key
        )
        return self._decode(Connection, response, "PATCH", path)

    # ----------------------------------------------------------------------------------------
    # Reads
    # ----------------------------------------------------------------------------------------

    async def get_page(
        self,
        company_id: str,
        data_type: str,
        *,
        page: int = 1,
        page_size: int | None = None,
        modified_since: datetime | None = None,
        query: str | None = None,
        order_by: str | None = None,
    ) -> Page[Any]:
        """``GET /companies/{companyId}/data/{dataType}?page&pageSize&query&orderBy``.

        Returns a :class:`~app.providers.base.Page` of records (the struct of
        :func:`~app.providers.codat.records.record_type_for` ``data_type``) with their raw JSON.
        ``modified_since`` adds ``modifiedDate>={cursor}`` (see :func:`format_cursor`) to
        ``query`` with ``&&``. ``order_by`` e.g. ``modifiedDate`` or ``-modifiedDate``.
        """
        size = page_size or self._page_size
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        if page < 1:
            raise ValueError("page starts at 1")
        params: dict[str, Any] = {"page": page, "pageSize": size}
        combined = _query(modified_since, query)
        if combined:
            params["query"] = combined
        if order_by:
            params["orderBy"] = order_by
        path = f"/companies/{_seg(company_id)}/data/{_seg(data_type)}"
        response = await self._send("GET", path, params=params)
        return self._decode_page(data_type, response, "GET", path)

    async def iter_pages(
        self,
        company_id: str,
        data_type: str,
        *,
        modified_since: datetime | None = None,
        query: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        start_page: int = 1,
    ) -> AsyncIterator[Page[Any]]:
        """Every page of a data type from ``start_page`` on (filters as :meth:`get_page`).

        Stops after a page with ``has_next`` false (no ``_links.next``; without links, when
        ``pageNumber * pageSize >= totalResults``; always on an empty page). Records changed
        while paging may move between pages: read with a cursor and upsert, as the pull does.
        """
        page_number = start_page
        while True:
            page = await self.get_page(
                company_id,
                data_type,
                page=page_number,
                page_size=page_size,
                modified_since=modified_since,
                query=query,
                order_by=order_by,
            )
            yield page
            if not page.has_next:
                return
            page_number += 1

    async def get_record(self, company_id: str, data_type: str, record_id: str) -> Any:
        """``GET /companies/{companyId}/data/{dataType}/{id}`` -> one record struct."""
        path = f"/companies/{_seg(company_id)}/data/{_seg(data_type)}/{_seg(record_id)}"
        response = await self._send("GET", path)
        return self._decode(record_type_for(data_type), response, "GET", path)

    async def queue_refresh(
        self,
        company_id: str,
        data_type: str,
        *,
        connection_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> PullOperation:
        """``POST /companies/{companyId}/data/queue/{dataType}`` -> :class:`PullOperation`."""
        path = f"/companies/{_seg(company_id)}/data/queue/{_seg(data_type)}"
        params = {"connectionId": connection_id} if connection_id else None
        response = await self._send("POST", path, params=params, idempotency_key=idempotency_key)
        return self._decode(PullOperation, response, "POST", path)

    async def get_data_status(self, company_id: str) -> dict[str, DataStatus]:
        """``GET /companies/{companyId}/dataStatus`` -> ``{dataType: DataStatus}``."""
        path = f"/companies/{_seg(company_id)}/dataStatus"
        response = await self._send("GET", path)
        statuses = self._decode(dict[str, DataStatus | None], response, "GET", path)
        return {key: value for key, value in statuses.items() if value is not None}

    # ----------------------------------------------------------------------------------------
    # Writes
    # ----------------------------------------------------------------------------------------

    async def push_create(
        self,
        company_id: str,
        connection_id: str,
        data_type: str,
        payload: Mapping[str, Any] | msgspec.Struct,
        *,
        idempotency_key: str | None = None,
        timeout_in_minutes: int | None = None,
    ) -> PushOperation:
        """``POST /companies/{companyId}/connections/{connectionId}/push/{dataType}``.

        ``data_type`` is one of ``bills | invoices | customers | suppliers | items``;
        ``payload`` is the record in Codat's shape (money as decimals in major units; a
        ``Decimal`` is sent as a JSON number). Returns the push operation, usually
        ``Pending``: store its ``push_operation_key`` before anything else.
        """
        path = self._push_path(company_id, connection_id, data_type)
        params = {"timeoutInMinutes": timeout_in_minutes} if timeout_in_minutes else None
        response = await self._send(
            "POST", path, params=params, json=payload, idempotency_key=idempotency_key
        )
        return self._decode(PushOperation, response, "POST", path)

    async def push_update(
        self,
        company_id: str,
        connection_id: str,
        data_type: str,
        record_id: str,
        payload: Mapping[str, Any] | msgspec.Struct,
        *,
        idempotency_key: str | None = None,
        timeout_in_minutes: int | None = None,
        force_update: bool = False,
    ) -> PushOperation:
        """``PUT .../push/{dataType}/{recordId}`` (e.g. an invoice with ``status: "Void"``).

        ``force_update`` skips Codat's check that the record did not change on the platform
        since it was read (Codat: ``forceUpdate``).
        """
        path = f"{self._push_path(company_id, connection_id, data_type)}/{_seg(record_id)}"
        params: dict[str, Any] = {}
        if timeout_in_minutes:
            params["timeoutInMinutes"] = timeout_in_minutes
        if force_update:
            params["forceUpdate"] = "true"
        response = await self._send(
            "PUT", path, params=params or None, json=payload, idempotency_key=idempotency_key
        )
        return self._decode(PushOperation, response, "PUT", path)

    async def get_push_operation(self, company_id: str, push_operation_key: str) -> PushOperation:
        """``GET /companies/{companyId}/push/{pushOperationKey}`` -> :class:`PushOperation`."""
        path = f"/companies/{_seg(company_id)}/push/{_seg(push_operation_key)}"
        return self._decode(PushOperation, await self._send("GET", path), "GET", path)

    @staticmethod
    def _push_path(company_id: str, connection_id: str, data_type: str) -> str:
        if data_type not in PUSH_DATA_TYPES:
            raise ValueError(f"cannot push {data_type!r}; one of {', '.join(PUSH_DATA_TYPES)}")
        return f"/companies/{_seg(company_id)}/connections/{_seg(connection_id)}/push/{data_type}"

    # ----------------------------------------------------------------------------------------
    # HTTP
    # ----------------------------------------------------------------------------------------

    def _decode(self, tp: Any, response: httpx.Response, method: str, path: str) -> Any:
        try:
            return decode_object(tp, response.content)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProviderResponseError(
                f"{method} {path}: undecodable {response.status_code} body: {exc}",
                method=method,
                path=path,
                status_code=response.status_code,
            ) from None

    def _decode_page(
        self,
        data_type: str,
        response: httpx.Response,
        method: str,
        path: str,
        record_type: type[S] | None = None,
    ) -> Page[Any]:
        try:
            return decode_page(data_type, response.content, record_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProviderResponseError(
                f"{method} {path}: undecodable page: {exc}",
                method=method,
                path=path,
                status_code=response.status_code,
            ) from None

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**(attempt - 1)))."""
        ceiling = min(self._backoff_cap, self._backoff_base * (2 ** (attempt - 1)))
        return self._rng.uniform(0, ceiling)

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        remaining = _int_header(headers, "X-Rate-Limit-Remaining")
        if remaining is None:
            return
        self.rate_limit = RateLimitState(
            limit=_int_header(headers, "X-Rate-Limit-Limit"),
            remaining=remaining,
            reset_at=_parse_reset(headers.get("X-Rate-Limit-Reset"), self._clock()),
        )

    async def _respect_rate_limit(self, method: str, path: str, attempts: int) -> None:
        state = self.rate_limit
        if state.remaining is None or state.remaining > 0 or state.reset_at is None:
            return
        wait = state.reset_at - self._clock()
        if wait <= 0:
            return
        if wait > self._max_wait:
            raise ProviderUnavailable(
                f"{method} {path}: provider rate limit used up for {wait:.0f} s",
                method=method,
                path=path,
                retry_after=wait,
                attempts=attempts,
            )
        logger.info("provider rate limit used up: waiting %.1f s before %s %s", wait, method, path)
        await self._sleep(wait)
        # The window has passed; learn the new state from the next response (unless a
        # concurrent call already did).
        if self.rate_limit is state:
            self.rate_limit = RateLimitState(limit=state.limit)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | msgspec.Struct | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one API call with retries; return the 2xx response or raise a ProviderError."""
        headers = {"Authorization": self._auth, "Accept": "application/json"}
        content: bytes | None = None
        if json is not None:
            content = _ENCODER.encode(json)
            headers["Content-Type"] = "application/json"
        if method in _WRITE_METHODS:
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        url = self._base_url + path
        last_status: int | None = None
        last_body: ErrorMessage | None = None
        reason = ""
        for attempt in range(1, self._max_attempts + 1):
            await self._respect_rate_limit(method, path, attempt - 1)
            retry_after: float | None = None
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=self._timeout,
                )
            except httpx.UnsupportedProtocol as exc:  # a misconfigured base URL: no retry
                raise ProviderError(f"{method} {path}: {exc}", method=method, path=path) from None
            except httpx.TransportError as exc:  # connect / read / write / pool errors
                metrics.provider_call("codat", method, path, None, None, attempt)
                last_status, last_body = None, None
                reason = f"{type(exc).__name__}"
            else:
                metrics.provider_call(
                    "codat", method, path, response.status_code, _elapsed(response), attempt
                )
                self._note_rate_limit(response.headers)
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status == 429 or status == 408 or status >= 500:
                    last_status, last_body = status, _error_body(response)
                    reason = f"HTTP {status}"
                    retry_after = _parse_retry_after(
                        response.headers.get("Retry-After"), self._clock()
                    )
                else:
                    raise self._rejected(response, method, path)
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt == self._max_attempts:
                break
            if delay > self._max_wait:
                raise ProviderUnavailable(
                    f"{method} {path}: {reason}; provider asks to wait {delay:.0f} s",
                    method=method,
                    path=path,
                    status_code=last_status,
                    body=last_body,
                    retry_after=delay,
                    attempts=attempt,
                )
            logger.warning(
                "provider call %s %s failed (%s), attempt %d/%d; retrying in %.2f s",
                method,
                path,
                reason,
                attempt,
                self._max_attempts,
                delay,
            )
            await self._sleep(delay)
        raise ProviderUnavailable(
            f"{method} {path}: {reason} after {self._max_attempts} attempts",
            method=method,
            path=path,
            status_code=last_status,
            body=last_body,
            retry_after=retry_after,
            attempts=self._max_attempts,
        )

    @staticmethod
    def _rejected(response: httpx.Response, method: str, path: str) -> ProviderError:
        status = response.status_code
        body = _error_body(response)
        detail = body.error if body and body.error else response.reason_phrase
        message = f"{method} {path}: HTTP {status}: {detail}"
        if body and body.correlation_id:
            message += f" (correlationId {body.correlation_id})"
        if status == 404:
            cls: type[ProviderError] = ProviderNotFound
        elif status in (401, 403):
            cls = ProviderAuthError
        elif 400 <= status < 500:
            cls = ProviderRejected
        else:  # 1xx / 3xx: the API documents none
            cls = ProviderResponseError
        logger.info("provider call %s %s rejected: HTTP %s", method, path, status)
        return cls(message, method=method, path=path, status_code=status, body=body)
