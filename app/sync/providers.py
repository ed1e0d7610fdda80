"""The provider a job uses for a connection: the partner's (Codat) or, for a platform whose
connections hold their own credentials (Smarty Accounting), the connection's own."""

from __future__ import annotations

import uuid
from typing import Any

from app.db.models import AccountingConnection
from app.jobs import JobContext

#: Platforms reached directly, each connection with its own tokens (not through Codat).
DIRECT_PLATFORMS = frozenset({"smarty_accounting"})


async def provider_for_connection(
    ctx: JobContext, partner_id: uuid.UUID, connection: AccountingConnection
) -> Any:
    """``ctx.provider_for(partner_id)``, or with ``connection=`` for a direct platform.

    Raises NoProviderKey (Codat path) when the partner has no provider API key.
    """
    if connection.platform in DIRECT_PLATFORMS:
        return await ctx.provider_for(partner_id, connection=connection)  # type: ignore[call-arg]
    return await ctx.provider_for(partner_id)


def provider_flag(provider: Any, name: str, default: bool = True) -> bool:
    """A capability flag of a provider (``idempotency_keys``, ``supports_webhooks``,
    ``supports_modified_since``); Codat's client has none of them: it supports all."""
    return bool(getattr(provider, name, default))
