"""Provider credentials per connection (issue 19): the Smarty Accounting OAuth tokens of a
connection, encrypted (SecretBox), with the access token's expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:20:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_credentials",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("connection_id", GUID(length=16), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["accounting_connections.id"],
            name=op.f("fk_provider_credentials_connection_id_accounting_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_provider_credentials_connection_id")),
    )


def downgrade() -> None:
    op.drop_table("provider_credentials")
