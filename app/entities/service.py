"""Entity use cases: create, read, update, accounting settings."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity
from app.entities import queries
from app.entities.schemas import (
    AccountingSettingsOut,
    AddressOut,
    EntityCreate,
    EntityOut,
    EntitySettings,
    EntitySettingsOut,
    EntityUpdate,
    IndividualOut,
    LedgerAccountIdsOut,
    OrganizationOut,
    TaxIdsOut,
)
from app.errors import NotFound, Unprocessable
from app.ledger import service as ledger_service
from app.schemas import check_country, check_currency


def to_out(entity: Entity) -> EntityOut:
    """The API shape of an entity."""
    address = AddressOut(**entity.address) if entity.address else None
    return EntityOut(
        id=entity.id,
        type=entity.type,  # type: ignore[arg-type]
        status=entity.status,
        currency=entity.currency,
        created_at=entity.created_at,
        updated_at=entity.updated_at,
        email=entity.email,
        phone=entity.phone,
        website=entity.website,
        tax_id=entity.tax_id,
        address=address,
        organization=OrganizationOut(legal_name=entity.legal_name)
        if entity.type == "organization" and entity.legal_name
        else None,
        individual=IndividualOut(
            first_name=entity.first_name or "", last_name=entity.last_name or ""
        )
        if entity.type == "individual"
        else None,
    )


def _apply(entity: Entity, data: EntityCreate | EntityUpdate) -> None:
    for name in ("email", "phone", "website", "tax_id"):
        if (value := getattr(data, name)) is not None:
            setattr(entity, name, value)
    if data.address is not None:
        check_country(data.address.country, ["body", "address", "country"])
        entity.address = msgspec.to_builtins(data.address)
    if data.currency is not None:
        entity.currency = check_currency(data.currency, ["body", "currency"])
    if data.organization is not None:
        if entity.type != "organization":
            raise Unprocessable.field(
                ["body", "organization"], "only an organization entity has organization details"
            )
        entity.legal_name = data.organization.legal_name
    if data.individual is not None:
        if entity.type != "individual":
            raise Unprocessable.field(
                ["body", "individual"], "only an individual entity has individual details"
            )
        entity.first_name = data.individual.first_name
        entity.last_name = data.individual.last_name


async def create(session: AsyncSession, partner_id: uuid.UUID, data: EntityCreate) -> Entity:
    """Create an entity of ``partner_id``.

    Raises:
        Unprocessable: the type's details (organization or individual) are missing, or the
            address country / currency is unknown.
    """
    if data.type == "organization" and data.organization is None:
        raise Unprocessable.field(["body", "organization"], "field required", "missing")
    if data.type == "individual" and data.individual is None:
        raise Unprocessable.field(["body", "individual"], "field required", "missing")
    entity = Entity(partner_id=partner_id, type=data.type, currency="EUR", address={})
    _apply(entity, data)
    session.add(entity)
    await session.flush()
    return entity


async def get(session: AsyncSession, partner_id: uuid.UUID, entity_id: uuid.UUID) -> Entity:
    """Raises NotFound unless the entity belongs to the partner."""
    entity = await queries.get_for_partner(session, partner_id, entity_id)
    if entity is None:
        raise NotFound(f"Entity {entity_id} was not found")
    return entity


async def update(
    session: AsyncSession, partner_id: uuid.UUID, entity_id: uuid.UUID, data: EntityUpdate
) -> Entity:
    entity = await get(session, partner_id, entity_id)
    _apply(entity, data)
    await session.flush()
    return entity


def settings_out(entity: Entity) -> EntitySettingsOut:
    return EntitySettingsOut(
        accounting=AccountingSettingsOut(
            ledger_account_ids=LedgerAccountIdsOut(
                products=entity.default_products_ledger_account_id
            ),
            tax_ids=TaxIdsOut(deductions=entity.default_deductions_tax_rate_id),
        )
    )


async def update_settings(
    session: AsyncSession, partner_id: uuid.UUID, entity_id: uuid.UUID, data: EntitySettings
) -> Entity:
    """Set the entity's accounting defaults.

    Raises:
        Unprocessable: a ledger account or tax rate id that was not pulled for this entity.
    """
    entity = await get(session, partner_id, entity_id)
    accounting = data.accounting
    if accounting is not None and accounting.ledger_account_ids is not None:
        account_id = accounting.ledger_account_ids.products
        if account_id is not None:
            await ledger_service.usable_ledger_account(
                session,
                entity.id,
                account_id,
                ["body", "accounting", "ledger_account_ids", "products"],
            )
        entity.default_products_ledger_account_id = account_id
    if accounting is not None and accounting.tax_ids is not None:
        rate_id = accounting.tax_ids.deductions
        if rate_id is not None:
            await ledger_service.usable_tax_rate(
                session, entity.id, rate_id, ["body", "accounting", "tax_ids", "deductions"]
            )
        entity.default_deductions_tax_rate_id = rate_id
    await session.flush()
    return entity
