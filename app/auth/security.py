"""The bearer-token guard on ``/v1``: Litestar's JWTAuth, checking revocation in the database
through an in-process cache of verified tokens.

A request's token is verified (signature, expiry) and checked against the database (the
partner exists, the ``jti`` is not revoked) once; the result is kept in this process's
:class:`TokenCache`, keyed by the exact encoded token, for at most
:data:`REVOCATION_STALENESS_S` seconds and never past the token's ``exp``. Later requests with
the same token cost no database round trip and no signature check, so a typical request makes
one round trip: its tenancy check (the entity looked up with the partner's id, on every
request) joined to its own read.

Revocation guarantees:

- In the process that handles ``POST /v1/auth/revoke`` the token stops working at once: the
  revoke drops it from the cache and remembers its ``jti`` until the token expires, so a
  request whose database check raced the revoke cannot put it back.
- In any other process on the same database (another API node or worker) a revoked token is
  accepted for at most :data:`REVOCATION_STALENESS_S` seconds after the revoke committed,
  the age of that process's last database check of the token.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from app.auth import queries
from app.auth.service import Principal

#: Routes reachable without a token.
PUBLIC_PATHS = [
    "^/v1/auth/token$",
    "^/v1/auth/revoke$",
    "^/v1/webhooks/",
    "^/health/",
    "^/metrics",
    "^/schema",
    "^/sandbox",
]

#: Seconds another process may keep accepting a token after it was revoked (the longest a
#: verified token stays in a process's cache before its revocation is read again).
REVOCATION_STALENESS_S = 5.0
#: Tokens kept per process; past it the oldest entries go first.
CACHE_MAX_TOKENS = 10_000


@dataclass(slots=True)
class _Entry:
    principal: Principal
    token: Token
    expires_at: float  # the token's exp, epoch seconds (inf without one)
    checked_at: float  # monotonic time of the database check


class TokenCache:
    """Verified, unrevoked tokens of this process (see the module docstring for the bounds).

    ``staleness_s``: how long a database check of a token counts (seconds);
    ``max_tokens``: the most tokens kept. ``clock``/``wall`` are injectable for tests
    (monotonic seconds / epoch seconds).
    """

    def __init__(
        self,
        staleness_s: float = REVOCATION_STALENESS_S,
        max_tokens: int = CACHE_MAX_TOKENS,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.staleness_s = staleness_s
        self.max_tokens = max_tokens
        self.clock = clock
        self._wall = wall
        self._entries: dict[str, _Entry] = {}
        #: jti -> the token's exp (epoch seconds): revoked here, refused without a look-up.
        self._revoked: dict[str, float] = {}

    def get(self, encoded: str) -> _Entry | None:
        """The entry of ``encoded`` if it was checked less than ``staleness_s`` ago, has not
        expired and was not revoked in this process."""
        entry = self._entries.get(encoded)
        if entry is None:
            return None
        if (
            self.clock() - entry.checked_at >= self.staleness_s
            or self._wall() >= entry.expires_at
            or entry.principal.jti in self._revoked
        ):
            self._entries.pop(encoded, None)
            return None
        return entry

    def put(self, encoded: str, principal: Principal, token: Token, checked_at: float) -> None:
        """Remember a token that passed the database check started at ``checked_at``
        (``clock()`` before the query), unless it was revoked here meanwhile."""
        if principal.jti in self._revoked:
            return
        if len(self._entries) >= self.max_tokens:
            for stale in list(self._entries)[: max(1, self.max_tokens // 10)]:
                del self._entries[stale]
        expires = token.exp.timestamp() if token.exp else float("inf")
        self._entries[encoded] = _Entry(principal, token, expires, checked_at)

    def revoke(self, jti: str, expires_at: float) -> None:
        """Refuse ``jti`` from now on in this process (until ``expires_at``, epoch seconds,
        after which the token is refused as expired anyway)."""
        now = self._wall()
        for key in [k for k, v in self._revoked.items() if v <= now]:
            del self._revoked[key]
        self._revoked[jti] = expires_at
        for key in [k for k, e in self._entries.items() if e.principal.jti == jti]:
            del self._entries[key]

    def now(self) -> float:
        return self.clock()


class CachedJWTAuthenticationMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, answering from :class:`TokenCache` when it can."""

    def __init__(self, *, token_cache: TokenCache, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token_cache = token_cache

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """As Litestar's, with the cache in front of decoding and the database check.

        Raises:
            NotAuthorizedException: bad signature, expired, revoked, unknown partner.
        """
        entry = self.token_cache.get(encoded_token)
        if entry is not None:
            return AuthenticationResult(user=entry.principal, auth=entry.token)
        token = self.token_cls.decode(
            encoded_token=encoded_token,
            secret=self.token_secret,
            algorithm=self.algorithm,
            audience=self.token_audience,
            issuer=self.token_issuer,
            require_claims=self.require_claims,
            verify_exp=self.verify_expiry,
            verify_nbf=self.verify_not_before,
            strict_audience=self.strict_audience,
        )
        checked_at = self.token_cache.now()
        principal = await _retrieve_principal(token, connection)
        if principal is None:
            raise NotAuthorizedException()
        self.token_cache.put(encoded_token, principal, token, checked_at)
        return AuthenticationResult(user=principal, auth=token)


async def _retrieve_principal(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    """The caller, if the partner exists and the token's ``jti`` is not revoked (one query)."""
    sessionmaker = connection.app.state.sessionmaker
    try:
        partner_id = uuid.UUID(token.sub)
    except ValueError:
        return None
    jti = str(token.jti or "")
    if not jti:
        return None
    async with sessionmaker() as session:
        if not await queries.token_is_live(session, partner_id, jti):
            return None
    return Principal(partner_id, str(token.extras.get("client_id", "")), jti)


@dataclass
class CachedJWTAuth(JWTAuth[Principal, Token]):
    """JWTAuth whose middleware answers from :attr:`token_cache`; revoking through
    ``app.auth.service.revoke_token`` invalidates it."""

    token_cache: TokenCache = field(default_factory=TokenCache)
    authentication_middleware_class: type[JWTAuthenticationMiddleware] = field(
        default=CachedJWTAuthenticationMiddleware
    )

    @property
    def middleware(self) -> DefineMiddleware:
        define = super().middleware
        define.kwargs["token_cache"] = self.token_cache
        return define


def build_jwt_auth(
    signing_key: str, token_cache: TokenCache | None = None
) -> JWTAuth[Principal, Token]:
    """JWTAuth over every route except :data:`PUBLIC_PATHS`, with a :class:`TokenCache`
    (a new one unless given)."""
    return CachedJWTAuth(
        token_secret=signing_key,
        retrieve_user_handler=_retrieve_principal,
        exclude=PUBLIC_PATHS,
        algorithm="HS256",
        token_cache=token_cache or TokenCache(),
    )
