"""The act tables: tasks, the public pool, per-rep caps, complaint SLAs, webhooks, care sends."""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from tierwise.store._columns import (
    JSON,
    KEY_LENGTH,
    NUMBER,
    TS,
    _id,
    _in,
    metadata,
    utcnow,
)

# --- act: tasks, the public pool, complaint SLAs, webhooks, care -----------------------------
#
# Generated work is idempotent through keys: ``dedupe_key`` names what caused a task (its kind,
# customer and the day its cycle started), so generating twice inserts nothing new;
# ``open_key`` is set only while a task is open or snoozed and is unique, so a customer has at
# most one open task of a kind (NULLs are distinct on SQLite and PostgreSQL alike: a portable
# partial unique index).

TASK_KINDS: Final = ("follow_up", "win_back", "care", "complaint", "notice")
TASK_STATES: Final = ("open", "done", "snoozed", "skipped", "cancelled")
POOL_EVENTS: Final = ("assigned", "claimed", "released", "warned", "recycled")
DELIVERY_STATES: Final = ("pending", "delivered", "dead")
DIGEST_STATES: Final = ("sending", "sent", "failed")
WEBHOOK_FORMATS: Final = ("json", "wecom", "dingtalk", "feishu")
TASK_KEY_LENGTH: Final = 200


def _customer_ref(*, index: bool = False) -> sa.Column[int]:
    """``customer_pk``: act rows go with their customer (erasure, merges)."""
    return sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


def _user_fk(name: str = "user_id") -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"))


tasks = sa.Table(
    "tasks",
    metadata,
    _id(),
    _customer_ref(),
    # who should do it; NULL while the customer is in the pool
    _user_fk(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("snoozed_until", TS),
    sa.Column("channel", sa.String(16)),
    # the label whose playbook planned it, and the snapshot it was planned from
    sa.Column("playbook_tier", sa.String(64)),
    sa.Column("snapshot_id", sa.BigInteger(), sa.ForeignKey("snapshots.id", ondelete="SET NULL")),
    # why it is due, as a message catalogue key and its parameters (said in zh or en)
    sa.Column("reason_key", sa.String(64), nullable=False),
    sa.Column("reason_params", JSON),
    sa.Column(
        "feedback_pk",
        sa.BigInteger(),
        sa.ForeignKey("feedback.id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("dedupe_key", sa.String(TASK_KEY_LENGTH), nullable=False, unique=True),
    sa.Column("open_key", sa.String(TASK_KEY_LENGTH), unique=True),
    sa.Column("outcome", sa.String(32)),
    sa.Column("note", sa.Text()),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("completed_at", TS),
    sa.Column("completed_by", sa.String(KEY_LENGTH)),
    sa.CheckConstraint(_in("kind", TASK_KINDS), name="kind"),
    sa.CheckConstraint(_in("status", TASK_STATES), name="status"),
    # My work: a user's open tasks by due date
    sa.Index(None, "user_id", "status", "due_at"),
    # a customer's tasks (re-planning, the 360 page); serves the foreign key
    sa.Index(None, "customer_pk", "status"),
    # the schedule: overdue open tasks of everyone
    sa.Index(None, "status", "due_at"),
)

pool_events = sa.Table(
    "pool_events",
    metadata,
    _id(),
    _customer_ref(),
    sa.Column("kind", sa.String(16), nullable=False),
    # the rep concerned: the new owner (assigned, claimed), the old one (released, recycled),
    # the warned owner (warned)
    _user_fk(),
    sa.Column("actor", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("at", TS, nullable=False, default=utcnow),
    sa.Column("detail", JSON),
    sa.CheckConstraint(_in("kind", POOL_EVENTS), name="kind"),
    # daily claim counts and ex-owner cool-downs
    sa.Index(None, "user_id", "kind", "at"),
    sa.Index(None, "customer_pk", "kind", "at"),
)

# a rep's own caps, and the regions and industries the assignment rules give them
rep_caps = sa.Table(
    "rep_caps",
    metadata,
    sa.Column(
        "user_id",
        sa.BigInteger(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("max_customers", sa.Integer()),
    sa.Column("max_value", NUMBER),
    sa.Column("regions", JSON),
    sa.Column("industries", JSON),
    sa.Column("updated_at", TS, nullable=False, default=utcnow),
    sa.Column("updated_by", sa.String(KEY_LENGTH), nullable=False),
)

complaint_sla = sa.Table(
    "complaint_sla",
    metadata,
    sa.Column(
        "feedback_pk",
        sa.BigInteger(),
        sa.ForeignKey("feedback.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _customer_ref(index=True),
    sa.Column("tier", sa.String(64)),
    # 0 is the highest: the tier's rank in the playbook dimension, highest label first
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("sla_hours", sa.Integer(), nullable=False),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("deadline_at", TS, nullable=False),
    sa.Column("first_response_at", TS),
    sa.Column("responded_by", sa.String(KEY_LENGTH)),
    sa.Column("escalated_at", TS),
    _user_fk("escalated_to"),
    # the queue: unanswered complaints by priority, then deadline
    sa.Index(None, "first_response_at", "priority", "deadline_at"),
)

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    _id(),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("format", sa.String(16), nullable=False, default="json"),
    # signs json, DingTalk (加签) and Feishu (签名校验) messages; shown only when set
    sa.Column("secret", sa.Text()),
    sa.Column("lang", sa.String(8), nullable=False, default="zh"),
    # event names it receives; NULL: every event
    sa.Column("events", JSON),
    sa.Column("is_active", sa.Boolean(), nullable=False, default=True, server_default=sa.true()),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("created_by", sa.String(KEY_LENGTH), nullable=False),
    sa.CheckConstraint(_in("format", WEBHOOK_FORMATS), name="format"),
)

# the outbox: one row per (endpoint, event), retried with backoff until delivered or dead
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    _id(),
    sa.Column(
        "endpoint_id",
        sa.BigInteger(),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event", sa.String(32), nullable=False),
    # what happened, once: enqueueing the same event twice delivers it once
    sa.Column("event_key", sa.String(TASK_KEY_LENGTH), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempt_no", sa.Integer(), nullable=False, default=0, server_default=sa.text("0")),
    sa.Column("next_attempt_at", TS),
    sa.Column("last_error", sa.Text()),
    sa.Column("response_code", sa.Integer()),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("delivered_at", TS),
    sa.CheckConstraint(_in("status", DELIVERY_STATES), name="status"),
    sa.UniqueConstraint("endpoint_id", "event_key"),
    sa.Index(None, "status", "next_attempt_at"),
)

# the delivery log: every attempt
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    _id(),
    sa.Column(
        "delivery_id",
        sa.BigInteger(),
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("attempt_no", sa.Integer(), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("response_code", sa.Integer()),
    sa.Column("error", sa.Text()),
    sa.Column("duration_ms", NUMBER),
)

# care messages sent (or planned): one per customer, event and occasion (the frequency cap)
care_sends = sa.Table(
    "care_sends",
    metadata,
    _id(),
    _customer_ref(),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("occasion", sa.Date(), nullable=False),
    sa.Column("channel", sa.String(16)),
    sa.Column("task_id", sa.BigInteger(), sa.ForeignKey("tasks.id", ondelete="SET NULL")),
    sa.Column("sent_at", TS, nullable=False, default=utcnow),
    sa.UniqueConstraint("customer_pk", "event", "occasion"),
    sa.Index(None, "customer_pk", "sent_at"),
)

# the reps' email digests: at most one per user and UTC day. The row is claimed ("sending")
# before the mail goes out, so two schedule runs at once send one; a failed send is retried.
digest_sends = sa.Table(
    "digest_sends",
    metadata,
    _id(),
    sa.Column(
        "user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="sending"),
    sa.Column("item_count", sa.Integer(), nullable=False, default=0, server_default=sa.text("0")),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0, server_default=sa.text("0")),
    sa.Column("error", sa.Text()),
    # when the latest attempt claimed it: a claim older than the lease is taken over
    sa.Column("claimed_at", TS, nullable=False, default=utcnow),
    sa.Column("sent_at", TS),
    sa.CheckConstraint(_in("status", DIGEST_STATES), name="status"),
    # one per user and day; serves the foreign key
    sa.UniqueConstraint("user_id", "day"),
)


__all__ = [
    "DELIVERY_STATES",
    "DIGEST_STATES",
    "POOL_EVENTS",
    "TASK_KEY_LENGTH",
    "TASK_KINDS",
    "TASK_STATES",
    "WEBHOOK_FORMATS",
    "care_sends",
    "complaint_sla",
    "digest_sends",
    "pool_events",
    "rep_caps",
    "tasks",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
]
