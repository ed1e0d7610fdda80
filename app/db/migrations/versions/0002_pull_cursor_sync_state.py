"""pull cursors: last success time and records changed (per-data-type sync status)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 11:00:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pull_cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_success_at", DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("last_changed", sa.Integer(), nullable=False, server_default="0")
        )
    # Cursors that ran without an error before this revision last succeeded then.
    op.execute(
        "UPDATE pull_cursors SET last_success_at = last_run_at, last_changed = last_count "
        "WHERE last_error IS NULL AND last_run_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("pull_cursors", schema=None) as batch_op:
        batch_op.drop_column("last_changed")
        batch_op.drop_column("last_success_at")
