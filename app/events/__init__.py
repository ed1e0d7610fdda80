"""Events to the partner: the transactional outbox (``outbox``), the feed ``/v1/events`` and
its WebSocket stream, webhook subscriptions and their deliveries (README "Events").

The domains announce nothing by hand where the ORM sees the change: ``app.event_sources``
tells the outbox which column changes are events, and the outbox writes them in the
transaction that makes the change. :func:`announce` covers rows written with Core statements.
"""

from app.events.outbox import announce, record

__all__ = ["announce", "record"]
