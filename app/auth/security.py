"""The bearer-token guard on ``/v1``: Litestar's JWTAuth, checking revocation in the database."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

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


async def _retrieve_principal(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
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


def build_jwt_auth(signing_key: str) -> JWTAuth[Principal, Token]:
    """JWTAuth over every route except :data:`PUBLIC_PATHS`."""
    return JWTAuth[Principal, Token](
        token_secret=signing_key,
        retrieve_user_handler=_retrieve_principal,
        exclude=PUBLIC_PATHS,
        algorithm="HS256",
    )
