"""Monite's client: counterpart addresses, a receivable's billing address, and Monite's
optional fields that have a place here (entity phone/website/tax_id, counterpart
language/tax_id/reminders_enabled, product smallest_amount, payable partner_metadata)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 11:50:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counterpart_addresses",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("counterpart_id", GUID(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=32), nullable=False),
        sa.Column("line1", sa.String(length=300), nullable=False),
        sa.Column("line2", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=200), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterpart_id"],
            ["counterparts.id"],
            name=op.f("fk_counterpart_addresses_counterpart_id_counterparts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counterpart_addresses")),
    )
    with op.batch_alter_table("counterpart_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counterpart_addresses_counterpart_id"), ["counterpart_id"], unique=False
        )
    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counterpart_billing_address_id", GUID(length=16), nullable=True)
        )
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("website", sa.String(length=2083), nullable=True))
        batch_op.add_column(sa.Column("tax_id", sa.String(length=30), nullable=True))
    with op.batch_alter_table("counterparts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("tax_id", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("reminders_enabled", sa.Boolean(), nullable=True))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("smallest_amount", sa.Float(), nullable=True))
    with op.batch_alter_table("payables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_metadata", JsonB, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payables", schema=None) as batch_op:
        batch_op.drop_column("partner_metadata")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("smallest_amount")
    with op.batch_alter_table("counterparts", schema=None) as batch_op:
        batch_op.drop_column("reminders_enabled")
        batch_op.drop_column("tax_id")
        batch_op.drop_column("language")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_column("tax_id")
        batch_op.drop_column("website")
        batch_op.drop_column("phone")
    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.drop_column("counterpart_billing_address_id")
    op.drop_table("counterpart_addresses")
