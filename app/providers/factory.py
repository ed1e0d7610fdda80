"""One provider client per partner, all on the process's shared ``httpx.AsyncClient``."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.crypto import SecretBox
from app.partners import queries as partner_queries
from app.providers.codat import CodatClient, make_http_client


class NoProviderKey(Exception):
    """The partner has not configured a provider API key (``PATCH /v1/settings``)."""


class ProviderFactory:
    """Builds (and caches) a :class:`CodatClient` per partner API key.

    ``transport`` lets tests and the in-process sandbox replace the network.
    """

    def __init__(
        self,
        settings: Settings,
        box: SecretBox,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        client_options: dict[str, object] | None = None,
    ) -> None:
        self.settings = settings
        self._box = box
        self._sessionmaker = sessionmaker
        self._http = make_http_client(transport=transport)
        self._clients: dict[str, CodatClient] = {}
        self._options = client_options or {}

    def client_for_key(self, api_key: str) -> CodatClient:
        """The client for one provider API key."""
        client = self._clients.get(api_key)
        if client is None:
            client = CodatClient(
                self.settings.provider_base_url,
                api_key,
                client=self._http,
                **self._options,  # type: ignore[arg-type]
            )
            self._clients[api_key] = client
        return client

    async def for_partner(self, partner_id: uuid.UUID) -> CodatClient:
        """The partner's client.

        Raises:
            NoProviderKey: the partner has no provider API key configured.
        """
        async with self._sessionmaker() as session:
            row = await partner_queries.settings_of(session, partner_id)
        if row is None or not row.provider_token_encrypted:
            raise NoProviderKey(str(partner_id))
        return self.client_for_key(self._box.decrypt(row.provider_token_encrypted))

    async def aclose(self) -> None:
        await self._http.aclose()
