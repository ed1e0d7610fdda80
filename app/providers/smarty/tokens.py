"""A connection's Smarty tokens in the database: encrypted (``SecretBox``) in
``provider_credentials``, never returned by the API nor logged."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.crypto import SecretBox
from app.db.models import ProviderCredential
from app.providers.smarty.client import TokenSet

log = logging.getLogger("acctsync.providers.smarty")

#: Called with ``(session, connection_id)`` when Smarty refuses a connection's refresh token,
#: in the transaction that drops its tokens (the caller commits): what becomes of the
#: connection is the connections layer's to write.
OnRefused = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


async def store_tokens(
    session: AsyncSession, box: SecretBox, connection_id: uuid.UUID, tokens: TokenSet
) -> None:
    """Keep ``tokens`` for the connection (replacing any), in the caller's transaction."""
    row = await session.scalar(
        select(ProviderCredential).where(ProviderCredential.connection_id == connection_id)
    )
    secret = box.encrypt(msgspec.json.encode(tokens).decode())
    expires = dt.datetime.fromtimestamp(tokens.expires_at, dt.UTC)
    if row is None:
        session.add(
            ProviderCredential(
                connection_id=connection_id, secret_encrypted=secret, expires_at=expires
            )
        )
    else:
        row.secret_encrypted, row.expires_at = secret, expires
    await session.flush()


async def load_tokens(
    session: AsyncSession, box: SecretBox, connection_id: uuid.UUID
) -> TokenSet | None:
    """The connection's tokens, None when it has none."""
    row = await session.scalar(
        select(ProviderCredential).where(ProviderCredential.connection_id == connection_id)
    )
    if row is None:
        return None
    return msgspec.json.decode(box.decrypt(row.secret_encrypted), type=TokenSet)


async def forget_tokens(session: AsyncSession, connection_id: uuid.UUID) -> None:
    """Drop the connection's tokens (disconnected), in the caller's transaction."""
    row = await session.scalar(
        select(ProviderCredential).where(ProviderCredential.connection_id == connection_id)
    )
    if row is not None:
        await session.delete(row)
        await session.flush()


class DbTokenStore:
    """:class:`~app.providers.smarty.client.TokenStore` of one connection: each call in a
    transaction of its own. ``refused`` forgets the tokens and calls ``on_refused`` in the
    same transaction (the service marks the connection ``deauthorized``: the user connects
    again; the pull records the error)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        box: SecretBox,
        connection_id: uuid.UUID,
        on_refused: OnRefused,
    ) -> None:
        self._sessionmaker, self._box, self.connection_id = sessionmaker, box, connection_id
        self._on_refused = on_refused

    async def load(self) -> TokenSet | None:
        async with self._sessionmaker() as session:
            return await load_tokens(session, self._box, self.connection_id)

    async def save(self, tokens: TokenSet) -> None:
        async with self._sessionmaker() as session:
            await store_tokens(session, self._box, self.connection_id, tokens)
            await session.commit()

    async def refused(self, reason: str) -> None:
        async with self._sessionmaker() as session:
            await forget_tokens(session, self.connection_id)
            await self._on_refused(session, self.connection_id)
            await session.commit()
        log.warning("smarty connection %s deauthorized: %s", self.connection_id, reason)


class MemoryTokenStore:
    """A :class:`~app.providers.smarty.client.TokenStore` held in memory: tokens of a user who
    is still connecting (nothing is stored before the user is in), and tests."""

    def __init__(self, tokens: TokenSet) -> None:
        self.tokens: TokenSet | None = tokens

    async def load(self) -> TokenSet | None:
        return self.tokens

    async def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens

    async def refused(self, reason: str) -> None:
        self.tokens = None
