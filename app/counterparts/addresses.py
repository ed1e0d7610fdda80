"""Counterpart addresses (Monite's ``/v1/counterparts/{id}/addresses``).

A counterpart's own address (the one given when it was created, or pulled from the accounting
system) is its **default address**: it stays in the counterpart's columns, where the sync
engine reads it, and its id is derived from the counterpart's (:func:`default_address_id`), so
it is stable without a row of its own. Further addresses are rows of
``counterpart_addresses``. The first address created for a counterpart without one becomes its
default address. The default address cannot be deleted, nor can an address a receivable bills
to (409).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.counterparts import queries
from app.counterparts.schemas import (
    CounterpartAddressCreate,
    CounterpartAddressOut,
    CounterpartAddressUpdate,
)
from app.db.models import Counterpart, CounterpartAddress
from app.errors import Conflict, NotFound
from app.schemas import check_country

_NAMESPACE = uuid.UUID("5f0b8f7e-2c1d-4a57-9d1e-6a7c3b2e0d14")
_PARTS = ("country", "city", "postal_code", "line1", "line2", "state")


def has_address(c: Counterpart) -> bool:
    return bool(c.country or c.city or c.line1)


def default_address_id(c: Counterpart) -> uuid.UUID | None:
    """The id of the counterpart's default address (its own columns); None without one."""
    return uuid.uuid5(_NAMESPACE, str(c.id)) if has_address(c) else None


def to_out(c: Counterpart, a: CounterpartAddress | None = None) -> CounterpartAddressOut:
    """An address in Monite's shape: ``a``, or the counterpart's default address."""
    source: Counterpart | CounterpartAddress = a if a is not None else c
    address_id = a.id if a is not None else default_address_id(c)
    assert address_id is not None
    return CounterpartAddressOut(
        id=address_id,
        counterpart_id=c.id,
        country=source.country or "",
        city=source.city or "",
        postal_code=source.postal_code or "",
        line1=source.line1 or "",
        line2=source.line2,
        state=source.state,
    )


async def list_all(session: AsyncSession, c: Counterpart) -> list[CounterpartAddressOut]:
    """The default address first, then the others, oldest first."""
    out = [to_out(c)] if has_address(c) else []
    return out + [to_out(c, a) for a in await queries.extra_addresses(session, c.id)]


async def find(
    session: AsyncSession, c: Counterpart, address_id: uuid.UUID
) -> CounterpartAddress | None:
    """The counterpart's address ``address_id``: None for the default address.

    Raises:
        NotFound: the counterpart has no such address.
    """
    if address_id == default_address_id(c):
        return None
    a = await queries.extra_address(session, c.id, address_id)
    if a is None:
        raise NotFound(f"Address {address_id} of counterpart {c.id} was not found")
    return a


async def create(
    session: AsyncSession, c: Counterpart, data: CounterpartAddressCreate
) -> CounterpartAddressOut:
    """Add an address; it becomes the default address if the counterpart had none.

    Raises:
        Unprocessable: unknown country.
    """
    check_country(data.country, ["body", "country"])
    values = {name: getattr(data, name) for name in _PARTS}
    if not has_address(c):
        for name, value in values.items():
            setattr(c, name, value)
        await session.flush()
        return to_out(c)
    a = CounterpartAddress(counterpart_id=c.id, **values)
    session.add(a)
    await session.flush()
    return to_out(c, a)


async def update(
    session: AsyncSession, c: Counterpart, address_id: uuid.UUID, data: CounterpartAddressUpdate
) -> CounterpartAddressOut:
    """Change some parts of an address (the default one changes the counterpart's address).

    Raises:
        NotFound: no such address of the counterpart.
        Unprocessable: unknown country.
    """
    a = await find(session, c, address_id)
    if data.country is not None:
        check_country(data.country, ["body", "country"])
    target: Counterpart | CounterpartAddress = a if a is not None else c
    for name in _PARTS:
        if (value := getattr(data, name)) is not None:
            setattr(target, name, value)
    await session.flush()
    return to_out(c, a)


async def delete(session: AsyncSession, c: Counterpart, address_id: uuid.UUID) -> None:
    """Delete an address other than the default one that no receivable bills to.

    Raises:
        NotFound: no such address of the counterpart.
        Conflict: the default address, or one a receivable uses.
    """
    a = await find(session, c, address_id)
    if a is None:
        raise Conflict("The counterpart's default address cannot be deleted")
    if await queries.address_is_billed(session, a.id):
        raise Conflict("The address is the billing address of a receivable")
    await session.delete(a)
    await session.flush()
