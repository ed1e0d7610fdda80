"""``/v1/auth``: token and revoke."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.auth.schemas import AccessToken, Message, RevokeRequest, TokenRequest


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post("/token", operation_id="post_auth_token", status_code=200)
    async def token(
        self, data: TokenRequest, db_session: AsyncSession, state: State
    ) -> AccessToken:
        """Exchange client credentials for a bearer token (JWT)."""
        ttl = state.settings.token_ttl_seconds
        token = await service.issue_token(
            db_session,
            state.jwt_auth,
            data.client_id,
            data.client_secret,
            dt.timedelta(seconds=ttl),
        )
        return AccessToken(access_token=token, token_type="Bearer", expires_in=ttl)

    @post("/revoke", operation_id="post_auth_revoke", status_code=200)
    async def revoke(self, data: RevokeRequest, db_session: AsyncSession, state: State) -> Message:
        """Revoke an access token; later requests with it get 401."""
        await service.revoke_token(
            db_session, state.jwt_auth, data.client_id, data.client_secret, data.token
        )
        return Message(message="Token revoked")
