"""Smarty Accounting's REST API over HTTP: OAuth tokens, the ``Access-Token`` header,
``organization_id`` on every call, the response envelope, errors and retries.

Smarty (reference: ``../shared/reference/smarty-accounting-api.txt``): an access token comes
from the registered client's id and secret with the user's email and password
(``POST {oauth}/authenticate/accesstoken``), expires after ``expires_in`` seconds and is
renewed with the permanent refresh token (``POST {oauth}/authenticate/refreshtoken``). Every
answer is ``{"status": "success" | "error", "message": ..., <resource node>: ...}``.

Retries: a 429 is retried after ``Retry-After`` (the call was not served); a read is retried
on 5xx and connection errors with full-jitter backoff; a write is sent once and a 5xx, a 504
or a lost connection raises :class:`~app.providers.ProviderUnavailable` at once, since the
write may have landed (Smarty has no idempotency keys: the caller looks before it repeats).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx
import msgspec

from app import metrics
from app.providers.base import (
    ErrorMessage,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
    PushValidation,
    ValidationItem,
)

log = logging.getLogger("acctsync.providers.smarty")

#: Refresh the access token this many seconds before it expires.
REFRESH_MARGIN = 300.0
_WRITES = frozenset({"POST", "PUT", "DELETE"})


class TokenSet(msgspec.Struct, kw_only=True):
    """A connection's Smarty tokens; ``expires_at`` is when the access token expires (Unix
    seconds). Never logged: ``repr`` hides the tokens."""

    access_token: str
    refresh_token: str
    expires_at: float

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at})"


class TokenStore(Protocol):
    """Where a connection's tokens live (the service: encrypted in ``provider_credentials``)."""

    async def load(self) -> TokenSet | None:
        """The stored tokens, None when the connection has none."""
        ...

    async def save(self, tokens: TokenSet) -> None:
        """Keep renewed tokens."""
        ...

    async def refused(self, reason: str) -> None:
        """Smarty refused the refresh token: the user must connect again."""
        ...


class SmartyDeauthorized(ProviderAuthError):
    """The refresh token was refused (revoked, or the app's access removed): nothing passes
    until the user connects again. The connection is marked ``deauthorized``."""


def tokens_from(answer: Mapping[str, Any], now: float) -> TokenSet:
    """A :class:`TokenSet` from an OAuth answer. Raises ProviderResponseError without one."""
    try:
        return TokenSet(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]),
            expires_at=now + float(answer.get("expires_in") or 3600),
        )
    except (KeyError, TypeError, ValueError):
        raise ProviderResponseError("the OAuth answer holds no tokens") from None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason_phrase


def _rejected(response: httpx.Response, method: str, path: str) -> ProviderError:
    status = response.status_code
    text = _message(response)
    body = ErrorMessage(
        status_code=status,
        service="Smarty Accounting",
        error=text,
        validation=PushValidation(errors=[ValidationItem(message=text)]) if status == 400 else None,
    )
    message = f"{method} {path}: HTTP {status}: {text}"
    if status == 404:
        return ProviderNotFound(message, method=method, path=path, status_code=status, body=body)
    if status in (401, 403):
        return ProviderAuthError(message, method=method, path=path, status_code=status, body=body)
    if 400 <= status < 500:
        return ProviderRejected(message, method=method, path=path, status_code=status, body=body)
    return ProviderResponseError(message, method=method, path=path, status_code=status, body=body)


async def oauth_call(
    http: httpx.AsyncClient, url: str, body: Mapping[str, Any], seconds: float = 30.0
) -> dict[str, Any]:
    """POST one OAuth request; the answer's JSON object.

    Raises ProviderAuthError (401/400: the credentials or refresh token were refused),
    ProviderUnavailable (5xx, 429, connection failure), ProviderResponseError (not JSON).
    """
    path = url.rsplit("/", 2)[-2:]
    label = "/" + "/".join(path)
    try:
        response = await http.post(url, json=dict(body), timeout=seconds)
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"POST {label}: {type(exc).__name__}", method="POST") from None
    if response.status_code in (400, 401, 403):
        text = _message(response)
        raise ProviderAuthError(
            f"POST {label}: HTTP {response.status_code}: {text}",
            method="POST",
            path=label,
            status_code=response.status_code,
            body=ErrorMessage(status_code=response.status_code, error=text),
        )
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailable(
            f"POST {label}: HTTP {response.status_code}",
            method="POST",
            path=label,
            status_code=response.status_code,
        )
    try:
        answer = response.json()
    except ValueError:
        raise ProviderResponseError(f"POST {label}: the answer is not JSON") from None
    if not isinstance(answer, dict) or response.status_code >= 300:
        raise ProviderResponseError(f"POST {label}: HTTP {response.status_code}")
    return answer


class SmartyClient:
    """One connection's calls to Smarty's API.

    ``api_base``: ``https://acc.smartysoftware.net/api/v1`` or the emulator's;
    ``oauth_base``: ``https://oauth.smartysoftware.net`` or the emulator's ``/oauth``;
    ``client_id`` / ``client_secret``: this service's registration with Smarty; ``store``:
    the connection's tokens. ``max_attempts`` requests per read (writes: see the module doc);
    ``max_wait`` the longest ``Retry-After`` slept inside a call; ``sleep``, ``clock`` and
    ``rng`` are injectable for tests.
    """

    def __init__(
        self,
        api_base: str,
        oauth_base: str,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        *,
        http: httpx.AsyncClient,
        max_attempts: int = 5,
        backoff_base: float = 0.2,
        backoff_cap: float = 10.0,
        max_wait: float = 30.0,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._api = api_base.rstrip("/")
        self._oauth = oauth_base.rstrip("/")
        self._client_id, self._client_secret = client_id, client_secret
        self._store = store
        self._http = http
        self._max_attempts = max(1, max_attempts)
        self._backoff_base, self._backoff_cap = backoff_base, backoff_cap
        self._max_wait = max_wait
        self._timeout = timeout
        self._sleep, self._clock = sleep, clock
        self._rng = rng or random.Random()
        self._tokens: TokenSet | None = None
        self._lock = asyncio.Lock()
        #: Requests sent (reads, writes, token refreshes): what a pull or push costs.
        self.requests: dict[str, int] = {"read": 0, "write": 0, "refresh": 0}

    def __repr__(self) -> str:
        return f"SmartyClient({self._api!r})"

    async def _access_token(self, *, force_refresh: bool = False) -> str:
        async with self._lock:
            tokens = self._tokens or await self._store.load()
            if tokens is None:
                raise SmartyDeauthorized(
                    "The connection holds no Smarty tokens; connect again", status_code=401
                )
            if force_refresh or tokens.expires_at - REFRESH_MARGIN <= self._clock():
                tokens = await self._refresh(tokens)
            self._tokens = tokens
            return tokens.access_token

    async def _refresh(self, tokens: TokenSet) -> TokenSet:
        self.requests["refresh"] += 1
        try:
            answer = await oauth_call(
                self._http,
                f"{self._oauth}/authenticate/refreshtoken",
                {
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "refresh_token": tokens.refresh_token,
                },
                self._timeout,
            )
        except ProviderAuthError as exc:
            await self._store.refused(exc.error or str(exc))
            self._tokens = None
            raise SmartyDeauthorized(
                "Smarty refused the refresh token (access revoked); connect again",
                method="POST",
                path="/authenticate/refreshtoken",
                status_code=exc.status_code,
                body=exc.body,
            ) from None
        fresh = tokens_from(answer, self._clock())
        await self._store.save(fresh)
        log.info("smarty: access token renewed")
        return fresh

    @property
    def max_attempts(self) -> int:
        """Requests per read (and per idempotent write the provider repeats itself)."""
        return self._max_attempts

    async def pause(self, attempt: int, retry_after: float | None = None) -> None:
        """Sleep before repeating something after failed attempt ``attempt`` (1-based):
        ``retry_after`` when Smarty said, else the full-jitter backoff."""
        await self._sleep(
            min(self._max_wait, retry_after if retry_after is not None else self._backoff(attempt))
        )

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1)))

    async def request(
        self,
        method: str,
        path: str,
        organisation_id: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        write: bool | None = None,
    ) -> dict[str, Any]:
        """One API call; the envelope's JSON object of a 2xx answer.

        ``write`` (default: the method is POST/PUT/DELETE) makes a 5xx or lost connection
        final (see the module doc); state changes are GETs that write, so pass ``write=True``.
        Raises ProviderNotFound (404), ProviderAuthError (401 after a refresh, 403),
        ProviderRejected (other 4xx, with the message as a validation error),
        ProviderUnavailable, ProviderResponseError.
        """
        is_write = method in _WRITES if write is None else write
        query = dict(params or {})
        if organisation_id is not None:
            query["organization_id"] = organisation_id
        url = self._api + path
        refreshed = False
        reason, status, retry_after = "", None, None
        attempt = 0
        while attempt < self._max_attempts:
            attempt += 1
            token = await self._access_token()
            self.requests["write" if is_write else "read"] += 1
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=query,
                    json=dict(json) if json is not None else None,
                    headers={"Access-Token": token, "Accept": "application/json"},
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                metrics.provider_call("smarty", method, path, None, None, attempt)
                reason, status, retry_after = type(exc).__name__, None, None
                if is_write:
                    break
            else:
                status = response.status_code
                metrics.provider_call(
                    "smarty", method, path, status, response.elapsed.total_seconds(), attempt
                )
                if 200 <= status < 300:
                    try:
                        body = response.json()
                    except ValueError:
                        raise ProviderResponseError(
                            f"{method} {path}: the answer is not JSON", method=method, path=path
                        ) from None
                    if not isinstance(body, dict) or body.get("status") == "error":
                        raise ProviderResponseError(
                            f"{method} {path}: not a success envelope", method=method, path=path
                        )
                    return body
                if status == 401 and not refreshed:
                    # the token was refused before its time (revoked, clock skew): renew once
                    refreshed = True
                    attempt -= 1
                    await self._access_token(force_refresh=True)
                    continue
                if status == 429:
                    reason = "HTTP 429"
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                elif status >= 500:
                    reason, retry_after = f"HTTP {status}", None
                    if is_write:
                        break
                else:
                    raise _rejected(response, method, path)
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt >= self._max_attempts:
                break
            if delay > self._max_wait:
                raise ProviderUnavailable(
                    f"{method} {path}: {reason}; Smarty asks to wait {delay:.0f} s",
                    method=method,
                    path=path,
                    status_code=status,
                    retry_after=delay,
                    attempts=attempt,
                )
            log.info(
                "smarty %s %s: %s (attempt %d); again in %.2f s",
                method,
                path,
                reason,
                attempt,
                delay,
            )
            await self._sleep(delay)
        raise ProviderUnavailable(
            f"{method} {path}: {reason}"
            + (" (a write: its outcome is unknown)" if is_write and status != 429 else ""),
            method=method,
            path=path,
            status_code=status,
            retry_after=retry_after,
            attempts=attempt,
        )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
