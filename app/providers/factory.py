"""One provider client per partner, all on the process's shared ``httpx.AsyncClient``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.crypto import SecretBox
from app.partners import queries as partner_queries
from app.providers.codat import CodatClient, make_http_client
from app.providers.smarty import PLATFORM as SMARTY_PLATFORM
from app.providers.smarty import DbTokenStore, SmartyClient, SmartyProvider
from app.providers.smarty.tokens import OnRefused


class NoProviderKey(Exception):
    """The partner has not configured a provider API key (``PATCH /v1/settings``)."""


class ProviderFactory:
    """Builds (and caches) a :class:`CodatClient` per partner API key.

    ``transport`` lets tests and the in-process sandbox replace the network.
    ``client_options`` go to each :class:`CodatClient`, except ``"smarty"``: a dict for each
    :class:`SmartyClient` (``backoff_base``, ``max_wait``, ``sleep``, ...).

    A connection that holds its own credentials (Smarty Accounting, platform
    ``smarty_accounting``) gets its own provider: ``for_partner(partner_id, connection=c)``.
    When Smarty refuses such a connection's refresh token, its tokens are dropped and
    ``on_smarty_refused`` is called in the same transaction (the service passes the
    connections layer's ``mark_deauthorized``).
    """

    def __init__(
        self,
        settings: Settings,
        box: SecretBox,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        on_smarty_refused: OnRefused,
        transport: httpx.AsyncBaseTransport | None = None,
        client_options: dict[str, object] | None = None,
    ) -> None:
        self.settings = settings
        self._box = box
        self._sessionmaker = sessionmaker
        self._on_smarty_refused = on_smarty_refused
        self._http = make_http_client(transport=transport)
        self._clients: dict[str, CodatClient] = {}
        self._options = dict(client_options or {})
        self._smarty_options: dict[str, object] = dict(self._options.pop("smarty", None) or {})
        self._smarty: dict[uuid.UUID, SmartyProvider] = {}

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

    def smarty_client(self, store: object) -> SmartyClient:
        """A Smarty API client over the shared HTTP client, with ``store``'s tokens."""
        return SmartyClient(
            self.settings.smarty_api_base,
            self.settings.smarty_oauth_base,
            self.settings.smarty_client_id,
            self.settings.smarty_client_secret,
            store,  # type: ignore[arg-type]
            http=self._http,
            **self._smarty_options,  # type: ignore[arg-type]
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared HTTP client (connecting a Smarty user calls Smarty's OAuth with it)."""
        return self._http

    def forget_smarty(self, connection_id: uuid.UUID) -> None:
        """Drop the cached provider of a connection (its organisation or tokens changed)."""
        self._smarty.pop(connection_id, None)

    def for_smarty_connection(self, connection: Any) -> SmartyProvider:
        """The Smarty provider of one connection (cached: its token is reused)."""
        provider = self._smarty.get(connection.id)
        if provider is None:
            store = DbTokenStore(
                self._sessionmaker, self._box, connection.id, self._on_smarty_refused
            )
            provider = SmartyProvider(self.smarty_client(store), connection.provider_company_id)
            self._smarty[connection.id] = provider
        return provider

    async def for_partner(self, partner_id: uuid.UUID, connection: Any = None) -> Any:
        """The partner's client; for a ``connection`` whose platform holds its own
        credentials (Smarty Accounting), that connection's provider.

        Raises:
            NoProviderKey: the partner has no provider API key configured.
        """
        if connection is not None and connection.platform == SMARTY_PLATFORM:
            return self.for_smarty_connection(connection)
        async with self._sessionmaker() as session:
            row = await partner_queries.settings_of(session, partner_id)
        if row is None or not row.provider_token_encrypted:
            raise NoProviderKey(str(partner_id))
        return self.client_for_key(self._box.decrypt(row.provider_token_encrypted))

    async def aclose(self) -> None:
        await self._http.aclose()
