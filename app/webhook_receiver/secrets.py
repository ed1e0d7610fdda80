"""Which secrets verify a webhook: the deployment's, or one partner's own."""

from __future__ import annotations

import base64
import uuid

from litestar.datastructures import State

from app.config import Settings
from app.crypto import derive_key
from app.partners import queries as partner_queries


def embedded_webhook_secret(settings: Settings) -> str:
    """The ``whsec_`` secret shared by the service and the embedded sandbox when none is set."""
    return "whsec_" + base64.b64encode(derive_key(settings.secret_key, "webhook-secret")).decode()


def deployment_secrets(settings: Settings) -> tuple[list[str], list[str]]:
    """(signing secrets, legacy Authorization values) configured for the deployment."""
    secrets = list(settings.codat_webhook_secret)
    if not secrets and settings.embedded_sandbox:
        secrets = [embedded_webhook_secret(settings)]
    auth = [settings.codat_webhook_auth] if settings.codat_webhook_auth else []
    return secrets, auth


async def secrets_for(state: State, partner_id: uuid.UUID | None) -> tuple[list[str], list[str]]:
    """Secrets for the deployment route (``partner_id`` None) or a partner's own route."""
    if partner_id is None:
        return deployment_secrets(state.settings)
    async with state.sessionmaker() as session:
        row = await partner_queries.settings_of(session, partner_id)
    if row is None:
        return [], []
    box = state.secret_box
    secrets = [box.decrypt(row.webhook_secret_encrypted)] if row.webhook_secret_encrypted else []
    auth = (
        [box.decrypt(row.webhook_authorization_encrypted)]
        if row.webhook_authorization_encrypted
        else []
    )
    return secrets, auth
