"""Partner settings use cases."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.crypto import SecretBox
from app.db.models import PartnerSettings
from app.errors import Unprocessable
from app.partners import queries
from app.partners.schemas import AccountingSettingsOut, PartnerSettingsOut, PartnerSettingsUpdate


def to_out(row: PartnerSettings | None) -> PartnerSettingsOut:
    return PartnerSettingsOut(
        accounting=AccountingSettingsOut(
            provider=row.provider if row else "codat",
            token_configured=bool(row and row.provider_token_encrypted),
            webhook_secret_configured=bool(row and row.webhook_secret_encrypted),
            webhook_authorization_configured=bool(row and row.webhook_authorization_encrypted),
        )
    )


async def get(session: AsyncSession, partner_id: uuid.UUID) -> PartnerSettingsOut:
    return to_out(await queries.settings_of(session, partner_id))


async def update(
    session: AsyncSession, box: SecretBox, partner_id: uuid.UUID, data: PartnerSettingsUpdate
) -> PartnerSettingsOut:
    """Store the provider settings; secrets are encrypted before they touch the database.

    Raises:
        Unprocessable: an empty token, or a webhook secret without the ``whsec_`` prefix.
    """
    row = await queries.get_or_create_settings(session, partner_id)
    accounting = data.accounting
    if accounting is not None:
        row.provider = accounting.provider
        if accounting.token is not None:
            if not accounting.token.strip():
                raise Unprocessable.field(["body", "accounting", "token"], "must not be empty")
            row.provider_token_encrypted = box.encrypt(accounting.token.strip())
        if accounting.webhook_secret is not None:
            if not accounting.webhook_secret.startswith("whsec_"):
                raise Unprocessable.field(
                    ["body", "accounting", "webhook_secret"], "must start with whsec_"
                )
            row.webhook_secret_encrypted = box.encrypt(accounting.webhook_secret)
        if accounting.webhook_authorization is not None:
            row.webhook_authorization_encrypted = box.encrypt(accounting.webhook_authorization)
    await session.flush()
    return to_out(row)


async def provider_token(
    session: AsyncSession, box: SecretBox, partner_id: uuid.UUID
) -> str | None:
    """The partner's decrypted provider API key, or None when none is configured."""
    row = await queries.settings_of(session, partner_id)
    if row is None or not row.provider_token_encrypted:
        return None
    return box.decrypt(row.provider_token_encrypted)
