"""Events by age (issue 18): an index on ``events.created_at`` for the daily pruning of events
older than ``ACCTSYNC_EVENT_RETENTION_DAYS``

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:35:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_created_at", "events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_events_created_at", table_name="events")
