"""Issuing and revoking partner tokens (OAuth2 client credentials, as Monite's ``/auth/token``)."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

import jwt
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import queries
from app.crypto import hash_client_secret, new_client_secret, verify_client_secret
from app.errors import ApiError


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a partner API request."""

    partner_id: uuid.UUID
    client_id: str
    jti: str


@dataclass(frozen=True, slots=True)
class NewPartner:
    """A created partner with its client credentials (the secret is shown only once)."""

    partner_id: uuid.UUID
    client_id: str
    client_secret: str


async def create_partner(session: AsyncSession, name: str) -> NewPartner:
    """Create a partner and one client; the caller prints the secret once."""
    client_id = str(uuid.uuid4())
    secret = new_client_secret()
    partner = await queries.create_partner(session, name, client_id, hash_client_secret(secret))
    return NewPartner(partner.id, client_id, secret)


async def issue_token(
    session: AsyncSession,
    jwt_auth: JWTAuth[Principal, Token],
    client_id: str,
    secret: str,
    ttl: dt.timedelta,
) -> str:
    """Exchange client credentials for a signed JWT (``sub`` = partner id, ``jti`` random).

    Raises:
        ApiError(401): unknown client or wrong secret (one message for both).
    """
    client = await queries.client_by_client_id(session, client_id)
    if client is None or not verify_client_secret(secret, client.secret_hash):
        raise ApiError("Invalid client credentials", 401)
    return jwt_auth.create_token(
        identifier=str(client.partner_id),
        token_expiration=ttl,
        token_unique_jwt_id=secrets.token_hex(16),
        token_extras={"client_id": client.client_id},
    )


async def revoke_token(
    session: AsyncSession,
    jwt_auth: JWTAuth[Principal, Token],
    client_id: str,
    secret: str,
    token: str,
) -> None:
    """Revoke ``token`` (it must belong to the same partner as the credentials); this
    process refuses it at once, others within ``app.auth.security.REVOCATION_STALENESS_S``.

    Raises:
        ApiError(401): bad credentials. ApiError(400): the token is not one of this partner's.
    """
    client = await queries.client_by_client_id(session, client_id)
    if client is None or not verify_client_secret(secret, client.secret_hash):
        raise ApiError("Invalid client credentials", 401)
    try:
        claims = jwt.decode(
            token,
            jwt_auth.token_secret,
            algorithms=[jwt_auth.algorithm],
            options={"verify_exp": False},
        )
    except jwt.PyJWTError:
        raise ApiError("token is not a valid access token", 400) from None
    if claims.get("sub") != str(client.partner_id) or not claims.get("jti"):
        raise ApiError("token was not issued to this partner", 400)
    expires = dt.datetime.fromtimestamp(int(claims.get("exp", 0)), dt.UTC)
    await queries.add_revoked(session, claims["jti"], expires)
    # This process refuses the token at once (app.auth.security.TokenCache); other processes
    # within their cache's staleness bound.
    cache = getattr(jwt_auth, "token_cache", None)
    if cache is not None:
        cache.revoke(claims["jti"], expires.timestamp())
