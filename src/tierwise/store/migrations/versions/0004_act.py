"""Act: follow-up tasks, pool events and per-rep caps, complaint SLAs, the webhook outbox and its delivery log, care sends.

Revision ID: 0004_act
Revises: 0003_web
Create Date: 2026-12-02

Frozen: this file must not import `tierwise.store.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_act"
down_revision: str | Sequence[str] | None = "0003_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)
TS = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("events", JSON, nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint(
            "format IN ('json', 'wecom', 'dingtalk', 'feishu')", name="ck_webhook_endpoints_format"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "rep_caps",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("max_customers", sa.Integer(), nullable=True),
        sa.Column("max_value", sa.Double(), nullable=True),
        sa.Column("regions", JSON, nullable=True),
        sa.Column("industries", JSON, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_rep_caps_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_rep_caps"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_no", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')", name="ck_webhook_deliveries_status"
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name="fk_webhook_deliveries_endpoint_id_webhook_endpoints",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint(
            "endpoint_id", "event_key", name="uq_webhook_deliveries_endpoint_id_event_key"
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name="fk_webhook_attempts_delivery_id_webhook_deliveries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index(
        "ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"], unique=False
    )
    op.create_table(
        "pool_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", JSON, nullable=True),
        sa.CheckConstraint(
            "kind IN ('assigned', 'claimed', 'released', 'warned', 'recycled')",
            name="ck_pool_events_kind",
        ),
        sa.ForeignKeyConstraint(
            ["customer_pk"],
            ["customers.id"],
            name="fk_pool_events_customer_pk_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_pool_events_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pool_events"),
    )
    op.create_index(
        "ix_pool_events_customer_pk_kind_at",
        "pool_events",
        ["customer_pk", "kind", "at"],
        unique=False,
    )
    op.create_index(
        "ix_pool_events_user_id_kind_at", "pool_events", ["user_id", "kind", "at"], unique=False
    )
    op.create_table(
        "complaint_sla",
        sa.Column("feedback_pk", sa.BigInteger(), nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("deadline_at", TS, nullable=False),
        sa.Column("first_response_at", TS, nullable=True),
        sa.Column("responded_by", sa.String(length=128), nullable=True),
        sa.Column("escalated_at", TS, nullable=True),
        sa.Column("escalated_to", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_pk"],
            ["customers.id"],
            name="fk_complaint_sla_customer_pk_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["escalated_to"],
            ["users.id"],
            name="fk_complaint_sla_escalated_to_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_pk"],
            ["feedback.id"],
            name="fk_complaint_sla_feedback_pk_feedback",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_pk", name="pk_complaint_sla"),
    )
    op.create_index("ix_complaint_sla_customer_pk", "complaint_sla", ["customer_pk"], unique=False)
    op.create_index(
        "ix_complaint_sla_first_response_at_priority_deadline_at",
        "complaint_sla",
        ["first_response_at", "priority", "deadline_at"],
        unique=False,
    )
    op.create_table(
        "tasks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("snoozed_until", TS, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("playbook_tier", sa.String(length=64), nullable=True),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("reason_key", sa.String(length=64), nullable=False),
        sa.Column("reason_params", JSON, nullable=True),
        sa.Column("feedback_pk", sa.BigInteger(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("completed_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "kind IN ('follow_up', 'win_back', 'care', 'complaint', 'notice')", name="ck_tasks_kind"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'snoozed', 'skipped', 'cancelled')", name="ck_tasks_status"
        ),
        sa.ForeignKeyConstraint(
            ["customer_pk"],
            ["customers.id"],
            name="fk_tasks_customer_pk_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_pk"],
            ["feedback.id"],
            name="fk_tasks_feedback_pk_feedback",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name="fk_tasks_snapshot_id_snapshots",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_tasks_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.UniqueConstraint("dedupe_key", name="uq_tasks_dedupe_key"),
        sa.UniqueConstraint("open_key", name="uq_tasks_open_key"),
    )
    op.create_index("ix_tasks_customer_pk_status", "tasks", ["customer_pk", "status"], unique=False)
    op.create_index("ix_tasks_feedback_pk", "tasks", ["feedback_pk"], unique=False)
    op.create_index("ix_tasks_status_due_at", "tasks", ["status", "due_at"], unique=False)
    op.create_index(
        "ix_tasks_user_id_status_due_at", "tasks", ["user_id", "status", "due_at"], unique=False
    )
    op.create_table(
        "care_sends",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("occasion", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_pk"],
            ["customers.id"],
            name="fk_care_sends_customer_pk_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_care_sends_task_id_tasks", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_care_sends"),
        sa.UniqueConstraint(
            "customer_pk", "event", "occasion", name="uq_care_sends_customer_pk_event_occasion"
        ),
    )
    op.create_index(
        "ix_care_sends_customer_pk_sent_at", "care_sends", ["customer_pk", "sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("care_sends")
    op.drop_table("tasks")
    op.drop_table("complaint_sla")
    op.drop_table("pool_events")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("rep_caps")
    op.drop_table("webhook_endpoints")
