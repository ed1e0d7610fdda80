"""accounting connections: manual sync count per UTC day (the manual sync quota)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 11:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounting_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manual_sync_day", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("manual_syncs", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("accounting_connections", schema=None) as batch_op:
        batch_op.drop_column("manual_syncs")
        batch_op.drop_column("manual_sync_day")
