"""Signing in to the console: the partner's client credentials buy the same access token as
``POST /v1/auth/token``; the token (and a CSRF token) live in an encrypted, HttpOnly,
SameSite=Strict session cookie; signing out revokes the token, as ``POST /v1/auth/revoke``.

A console request is the partner's while its token is valid and not revoked: the same checks
as the bearer guard on ``/v1`` (signature, expiry, revocation, the partner still there).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import queries as auth_queries
from app.auth import service as auth_service
from app.auth.service import Principal
from app.config import Settings
from app.crypto import derive_key

#: The session cookie's name and path (only the console's requests carry it).
COOKIE = "acctsync_console"
PATH = "/console"
#: The form field every POST of the console carries.
CSRF_FIELD = "csrf_token"
#: A console sign-in lasts at most this long (seconds), whatever the API token's lifetime.
MAX_SESSION_SECONDS = 8 * 3600


def session_config(settings: Settings) -> CookieBackendConfig:
    """Litestar's encrypted cookie session for the console: AES-GCM with a key derived from
    the service secret; HttpOnly, SameSite=Strict, Secure outside development, scoped to
    ``/console``, expiring with the sign-in (:data:`MAX_SESSION_SECONDS`)."""
    return CookieBackendConfig(
        secret=derive_key(settings.secret_key, "console-session", 32),
        key=COOKIE,
        path=PATH,
        max_age=session_seconds(settings),
        httponly=True,
        secure=settings.env != "development",
        samesite="strict",
    )


def session_middleware(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """The console's session middleware, built when the app is (a router's middleware is
    deep-copied at registration, which the session backend's cipher does not allow)."""
    config = session_config(settings)

    def wrap(app: ASGIApp) -> ASGIApp:
        return config.middleware(app)

    return wrap


def session_seconds(settings: Settings) -> int:
    """The lifetime of a console sign-in: the API token's, at most eight hours."""
    return max(60, min(settings.token_ttl_seconds, MAX_SESSION_SECONDS))


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use (before sign-in too: the sign-in form
    carries one)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: dict[str, Any], given: Any) -> bool:
    """Whether ``given`` (the form's field) is the session's CSRF token (constant time)."""
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(given)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


async def sign_in(
    db: AsyncSession,
    jwt_auth: Any,
    settings: Settings,
    client_id: str,
    client_secret: str,
) -> dict[str, Any]:
    """Exchange client credentials for an access token (the API's own exchange); returns the
    new session's contents (a fresh CSRF token: the signed-out one is not carried over).

    Raises:
        ApiError(401): unknown client or wrong secret.
    """
    token = await auth_service.issue_token(
        db,
        jwt_auth,
        client_id,
        client_secret,
        dt.timedelta(seconds=session_seconds(settings)),
    )
    return {"token": token, "csrf": secrets.token_urlsafe(32)}


def _claims(jwt_auth: Any, token: Any, verify_exp: bool = True) -> dict[str, Any] | None:
    if not isinstance(token, str) or not token:
        return None
    try:
        return jwt.decode(
            token,
            jwt_auth.token_secret,
            algorithms=[jwt_auth.algorithm],
            options={"verify_exp": verify_exp},
        )
    except jwt.PyJWTError:
        return None


async def principal(db: AsyncSession, jwt_auth: Any, session: dict[str, Any]) -> Principal | None:
    """The signed-in partner of a console session, or None (no sign-in, token expired or
    revoked, partner gone)."""
    claims = _claims(jwt_auth, session.get("token"))
    if claims is None:
        return None
    try:
        partner_id = uuid.UUID(str(claims.get("sub")))
    except ValueError:
        return None
    jti = str(claims.get("jti") or "")
    if not jti or not await auth_queries.token_is_live(db, partner_id, jti):
        return None
    extras = claims.get("extras") if isinstance(claims.get("extras"), dict) else {}
    return Principal(partner_id, str(extras.get("client_id", "")), jti)


async def sign_out(db: AsyncSession, jwt_auth: Any, session: dict[str, Any]) -> None:
    """Revoke the session's access token (a copy of the cookie is worthless afterwards); the
    caller clears the session and commits."""
    claims = _claims(jwt_auth, session.get("token"), verify_exp=False)
    if claims and claims.get("jti"):
        expires = dt.datetime.fromtimestamp(int(claims.get("exp", 0)), dt.UTC)
        await auth_queries.add_revoked(db, str(claims["jti"]), expires)
