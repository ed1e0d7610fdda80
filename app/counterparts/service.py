"""Counterpart use cases."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.counterparts import addresses, queries
from app.counterparts.schemas import (
    AddressOut,
    CounterpartAddress,
    CounterpartCreate,
    CounterpartOut,
    CounterpartUpdate,
    IndividualOut,
    OrganizationOut,
)
from app.db.models import Counterpart
from app.errors import Conflict, NotFound, Unprocessable
from app.schemas import check_country


def _address_out(c: Counterpart) -> AddressOut | None:
    if not (c.country or c.city or c.line1):
        return None
    return AddressOut(
        country=c.country,
        city=c.city,
        postal_code=c.postal_code,
        line1=c.line1,
        line2=c.line2,
        state=c.state,
    )


def to_out(c: Counterpart) -> CounterpartOut:
    """The API shape of a counterpart."""
    root = {
        "default_billing_address_id": addresses.default_address_id(c),
        "language": c.language,
        "tax_id": c.tax_id,
        "reminders_enabled": c.reminders_enabled,
    }
    common = {
        "is_customer": c.is_customer,
        "is_vendor": c.is_vendor,
        "email": c.email,
        "phone": c.phone,
        "address": _address_out(c),
    }
    if c.type == "organization":
        return CounterpartOut(
            id=c.id,
            type=c.type,
            created_at=c.created_at,
            updated_at=c.updated_at,
            organization=OrganizationOut(legal_name=c.legal_name or c.name, **common),
            **root,
        )
    return CounterpartOut(
        id=c.id,
        type=c.type,
        created_at=c.created_at,
        updated_at=c.updated_at,
        individual=IndividualOut(
            first_name=c.first_name or "", last_name=c.last_name or "", **common
        ),
        **root,
    )


def _set_address(c: Counterpart, address: CounterpartAddress, loc: list[str | int]) -> None:
    c.country = check_country(address.country, [*loc, "country"])
    c.city, c.postal_code, c.line1 = address.city, address.postal_code, address.line1
    c.line2, c.state = address.line2, address.state


async def create(
    session: AsyncSession, entity_id: uuid.UUID, data: CounterpartCreate
) -> Counterpart:
    """Create a counterpart of the entity.

    Raises:
        Unprocessable: the details for ``type`` are missing, or the address country is unknown.
    """
    c = Counterpart(entity_id=entity_id, type=data.type)
    details = data.organization if data.type == "organization" else data.individual
    if details is None:
        raise Unprocessable.field(["body", data.type], "field required", "missing")
    if data.type == "organization":
        assert data.organization is not None
        c.legal_name = c.name = data.organization.legal_name
    else:
        assert data.individual is not None
        c.first_name, c.last_name = data.individual.first_name, data.individual.last_name
        c.name = f"{c.first_name} {c.last_name}".strip()
    c.is_customer, c.is_vendor = details.is_customer, details.is_vendor
    c.email, c.phone = details.email, details.phone
    c.language, c.tax_id, c.reminders_enabled = data.language, data.tax_id, data.reminders_enabled
    if details.address is not None:
        _set_address(c, details.address, ["body", data.type, "address"])
    session.add(c)
    await session.flush()
    return c


async def get(
    session: AsyncSession, entity_id: uuid.UUID, counterpart_id: uuid.UUID
) -> Counterpart:
    """Raises NotFound unless the counterpart belongs to the entity."""
    c = await queries.get(session, entity_id, counterpart_id)
    if c is None:
        raise NotFound(f"Counterpart {counterpart_id} was not found")
    return c


async def update(
    session: AsyncSession, entity_id: uuid.UUID, counterpart_id: uuid.UUID, data: CounterpartUpdate
) -> Counterpart:
    """Partial update of the details matching the counterpart's type.

    Raises:
        Unprocessable: details of the other type were sent.
    """
    c = await get(session, entity_id, counterpart_id)
    other = data.individual if c.type == "organization" else data.organization
    if other is not None:
        wrong = "individual" if c.type == "organization" else "organization"
        raise Unprocessable.field(["body", wrong], f"counterpart is of type {c.type}")
    for name in ("language", "tax_id", "reminders_enabled"):
        if (value := getattr(data, name)) is not None:
            setattr(c, name, value)
    details = data.organization if c.type == "organization" else data.individual
    if details is None:
        await session.flush()
        return c
    for name in ("is_customer", "is_vendor", "email", "phone"):
        if (value := getattr(details, name)) is not None:
            setattr(c, name, value)
    if details.address is not None:
        _set_address(c, details.address, ["body", c.type, "address"])
    if data.organization is not None and data.organization.legal_name is not None:
        c.legal_name = c.name = data.organization.legal_name
    if data.individual is not None:
        c.first_name = data.individual.first_name or c.first_name
        c.last_name = data.individual.last_name or c.last_name
        c.name = f"{c.first_name} {c.last_name}".strip()
    await session.flush()
    return c


async def delete(session: AsyncSession, entity_id: uuid.UUID, counterpart_id: uuid.UUID) -> None:
    """Delete a counterpart no payable or receivable refers to.

    Raises:
        Conflict: a payable or receivable still refers to it.
    """
    c = await get(session, entity_id, counterpart_id)
    if await queries.is_referenced(session, c.id):
        raise Conflict("Counterpart is used by a payable or receivable and cannot be deleted")
    await session.delete(c)
    await session.flush()
