"""``/v1/settings`` bodies. Secrets are accepted, never returned."""

from typing import Literal

from app.schemas import Request, Response


class AccountingSettingsUpdate(Request):
    """``token`` is the provider API key; the webhook values are for a partner's own account."""

    provider: Literal["codat"] = "codat"
    token: str | None = None
    webhook_secret: str | None = None
    webhook_authorization: str | None = None


class PartnerSettingsUpdate(Request):
    accounting: AccountingSettingsUpdate | None = None


class AccountingSettingsOut(Response):
    """What is configured, without the secrets themselves."""

    provider: str
    token_configured: bool
    webhook_secret_configured: bool
    webhook_authorization_configured: bool


class PartnerSettingsOut(Response):
    accounting: AccountingSettingsOut
