"""Where the partner's objects tell the sync engine that something changed.

Called by the payables and receivables services inside the request's transaction, so a
status change and its synced record commit together (DESIGN.md "Reliability rules").
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity, Payable, Receivable


async def document_status_changed(
    session: AsyncSession,
    entity: Entity,
    object_type: Literal["bill", "receivable"],
    document: Payable | Receivable,
    old_status: str,
) -> None:
    """A payable (``bill``) or receivable changed status from ``old_status`` to its current one.

    The push engine fills this in: if the entity's sync rules list the new status and the
    entity has a connected accounting connection, it writes a ``pending`` synced record and
    queues the push after commit.
    """
    return None
