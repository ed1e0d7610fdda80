"""Measure units (Monite ``/measure_units``, and the stub unit a pull creates), a product's
``measure_unit_id``, and a connection's ``base_currency`` (Codat company info)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:10:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measure_units",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("entity_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.String(length=10), server_default="api", nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_measure_units_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_units")),
    )
    with op.batch_alter_table("measure_units", schema=None) as batch_op:
        batch_op.create_index(
            "ix_measure_units_entity_created", ["entity_id", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measure_unit_id", GUID(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_products_measure_unit_id_measure_units"),
            "measure_units",
            ["measure_unit_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("accounting_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounting_connections", schema=None) as batch_op:
        batch_op.drop_column("base_currency")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_products_measure_unit_id_measure_units"), type_="foreignkey"
        )
        batch_op.drop_column("measure_unit_id")
    with op.batch_alter_table("measure_units", schema=None) as batch_op:
        batch_op.drop_index("ix_measure_units_entity_created")
    op.drop_table("measure_units")
