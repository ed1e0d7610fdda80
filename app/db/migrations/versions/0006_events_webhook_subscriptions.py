"""Events to the partner: the events outbox with its per-partner sequence counters, webhook
subscriptions and their deliveries (app/events)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:10:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _audit() -> list[sa.Column]:
    return [
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def _partner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["partner_id"],
        ["partners.id"],
        name=op.f(f"fk_{table}_partner_id_partners"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "event_counters",
        *_audit(),
        sa.Column("partner_id", GUID(length=16), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        _partner_fk("event_counters"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counters")),
        sa.UniqueConstraint("partner_id", name=op.f("uq_event_counters_partner_id")),
    )
    op.create_table(
        "events",
        *_audit(),
        sa.Column("partner_id", GUID(length=16), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("entity_id", GUID(length=16), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("object_id", GUID(length=16), nullable=True),
        sa.Column("object", JsonB, nullable=True),
        _partner_fk("events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("partner_id", "sequence", name=op.f("uq_events_partner_id")),
    )
    op.create_index("ix_events_entity_list", "events", ["entity_id", "created_at", "id"])
    op.create_table(
        "webhook_subscriptions",
        *_audit(),
        sa.Column("partner_id", GUID(length=16), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("event_types", JsonB, nullable=False),
        sa.Column("url", sa.String(length=2083), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("failing_since", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        _partner_fk("webhook_subscriptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_partner_id"), "webhook_subscriptions", ["partner_id"]
    )
    op.create_table(
        "webhook_deliveries",
        *_audit(),
        sa.Column("partner_id", GUID(length=16), nullable=False),
        sa.Column("subscription_id", GUID(length=16), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=False),
        sa.Column("entity_id", GUID(length=16), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.String(length=2083), nullable=False),
        sa.Column("requests_made_count", sa.Integer(), nullable=False),
        sa.Column("response_status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("was_successful", sa.Boolean(), nullable=True),
        sa.Column("last_attempt_at", DateTimeUTC(timezone=True), nullable=True),
        _partner_fk("webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_webhook_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_webhook_deliveries_subscription_id")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_list", "webhook_deliveries", ["entity_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("events")
    op.drop_table("event_counters")
