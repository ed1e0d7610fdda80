"""``/v1/settings``: the partner's provider settings."""

from litestar import Controller, get, patch
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.partners import service
from app.partners.schemas import PartnerSettingsOut, PartnerSettingsUpdate


class PartnerSettingsController(Controller):
    path = "/v1/settings"
    tags = ["partner settings"]

    @get("/", operation_id="get_settings")
    async def read(self, db_session: AsyncSession, principal: Principal) -> PartnerSettingsOut:
        """What is configured (secrets are never returned)."""
        return await service.get(db_session, principal.partner_id)

    @patch("/", operation_id="patch_settings")
    async def update(
        self,
        data: PartnerSettingsUpdate,
        db_session: AsyncSession,
        principal: Principal,
        state: State,
    ) -> PartnerSettingsOut:
        """Set the provider API key (and, for a partner's own provider account, webhook secrets)."""
        return await service.update(db_session, state.secret_box, principal.partner_id, data)
