"""The system of record's tables (SQLAlchemy Core), one per canonical kind plus bookkeeping.

Canonical columns are written out here, field for field, from `tierwise.ingest._schema.TABLES`
(a test checks that every field has a column of a compatible type). Types:

- ``key`` → ``String(128)``; ``phone`` → ``String(64)``; ``email`` → ``String(320)``;
  ``enum`` → ``String(32)``; ``text`` and ``list`` → ``Text`` (no length limit to trip over on
  PostgreSQL with messy exports; SQLite does not enforce lengths at all);
- ``number`` → ``Double`` (double precision), ``int`` → ``Integer``, ``date`` → ``Date``,
  ``bool`` → ``Boolean``;
- ``datetime`` → naive ``DateTime``: data fields hold the company's local time as imported,
  bookkeeping fields (``inserted_at``, ``created_at`` of our own rows, ``at``...) hold UTC.

Every fact row references its customer by the internal ``customer_pk`` and keeps the external id
as given in the file. ``row_hash`` (32 hex characters) lets an import skip unchanged rows.

The Alembic migrations under ``migrations/versions`` are frozen copies: change a table here and
add a migration; ``tests/store/test_store_schema.py`` fails until both agree.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from tierwise.store._columns import (
    BATCH_STATES,
    EMAIL,
    EMAIL_LENGTH,
    ENUM,
    ENUM_LENGTH,
    JOB_STATES,
    JSON,
    KEY,
    KEY_LENGTH,
    NAMING_CONVENTION,
    NUMBER,
    PHONE,
    PHONE_LENGTH,
    ROLES,
    ROW_HASH_LENGTH,
    SEVERITIES,
    TS,
    _batch_id,
    _customer_fk,
    _id,
    _imported,
    _in,
    metadata,
    utcnow,
)

# --- users, jobs, import bookkeeping ------------------------------------------------------

users = sa.Table(
    "users",
    metadata,
    _id(),
    # stored NFKC-normalised and lower-cased: uniqueness is case-insensitive on every database
    sa.Column("username", sa.String(KEY_LENGTH), nullable=False, unique=True),
    sa.Column("display_name", sa.Text()),
    sa.Column("email", EMAIL),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("manager_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("is_active", sa.Boolean(), nullable=False, default=True, server_default=sa.true()),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("password_changed_at", TS),
    sa.Column("last_login_at", TS),
    sa.CheckConstraint(_in("role", ROLES), name="role"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, default="queued"),
    sa.Column("progress", NUMBER, nullable=False, default=0.0, server_default=sa.text("0")),
    sa.Column("total", sa.BigInteger()),
    # records durably committed so far: a resumed job skips this many
    sa.Column("cursor", sa.BigInteger(), nullable=False, default=0, server_default=sa.text("0")),
    sa.Column("params", JSON),
    sa.Column("result", JSON),
    sa.Column("error", sa.Text()),
    sa.Column("pid", sa.Integer()),
    sa.Column("heartbeat_at", TS),
    sa.Column("created_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("started_at", TS),
    sa.Column("finished_at", TS),
    sa.CheckConstraint(_in("state", JOB_STATES), name="state"),
    sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
    sa.Index(None, "state"),
)


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, default=0, server_default=sa.text("0"))


import_batches = sa.Table(
    "import_batches",
    metadata,
    _id(),
    sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="SET NULL"), index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("file_name", sa.Text()),
    sa.Column("file_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("file_size", sa.BigInteger()),
    sa.Column("encoding", sa.String(32)),
    sa.Column("options", JSON),
    sa.Column("state", sa.String(16), nullable=False, default="running"),
    _counter("rows_in"),
    _counter("inserted"),
    _counter("updated"),
    _counter("skipped"),
    _counter("rejected"),
    _counter("customers_created"),
    _counter("merged"),
    sa.Column("report", JSON),
    sa.Column("created_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("started_at", TS, nullable=False, default=utcnow),
    sa.Column("finished_at", TS),
    sa.CheckConstraint(_in("state", BATCH_STATES), name="state"),
)

import_errors = sa.Table(
    "import_errors",
    metadata,
    _id(),
    sa.Column(
        "batch_id",
        sa.BigInteger(),
        sa.ForeignKey("import_batches.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("line", sa.Integer()),
    sa.Column("sheet", sa.Text()),
    sa.Column("column", sa.Text()),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("raw", sa.Text()),
    sa.Column("severity", sa.String(16), nullable=False, default="error"),
    sa.CheckConstraint(_in("severity", SEVERITIES), name="severity"),
    sa.Index(None, "batch_id", "line"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("at", TS, nullable=False, default=utcnow, index=True),
    sa.Column("actor_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("actor", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(KEY_LENGTH)),
    sa.Column("before", JSON),
    sa.Column("after", JSON),
    sa.Column("ip", sa.String(64)),
    sa.Index(None, "entity", "entity_id"),
)

# --- customers ------------------------------------------------------------------------------

customers = sa.Table(
    "customers",
    metadata,
    _id(),
    sa.Column("customer_id", KEY, nullable=False, unique=True),
    sa.Column("name", sa.Text()),
    sa.Column("kind", ENUM),
    sa.Column("phone", PHONE, index=True),
    sa.Column("email", EMAIL, index=True),
    sa.Column("gender", ENUM),
    sa.Column("birthday", sa.Date()),
    sa.Column("age", sa.Integer()),
    sa.Column("age_band", sa.Text()),
    sa.Column("income_band", sa.Text()),
    sa.Column("education", sa.Text()),
    sa.Column("occupation", sa.Text()),
    sa.Column("industry", sa.Text()),
    sa.Column("company_size", sa.Text()),
    sa.Column("country", sa.Text()),
    sa.Column("province", sa.Text()),
    sa.Column("city", sa.Text()),
    sa.Column("source", sa.Text()),
    sa.Column("owner", sa.Text(), index=True),
    sa.Column("created_at", TS),
    sa.Column("tags", sa.Text()),
    # unmapped input columns, kept as custom attributes
    sa.Column("attributes", JSON),
    # set when a minimal record was created because another file ("orders"...) referenced it
    sa.Column("created_from", sa.String(20)),
    *_imported(),
)

customer_aliases = sa.Table(
    "customer_aliases",
    metadata,
    # an external customer id that was merged into another customer
    sa.Column("alias", KEY, primary_key=True),
    sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("matched_on", sa.String(10)),
    _batch_id(),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
)

customer_merges = sa.Table(
    "customer_merges",
    metadata,
    _id(),
    _batch_id(),
    sa.Column(
        "kept_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("merged_customer_id", KEY, nullable=False),
    sa.Column("matched_on", sa.String(10)),
    sa.Column("detail", JSON),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
)

# --- facts ----------------------------------------------------------------------------------

orders = sa.Table(
    "orders",
    metadata,
    _id(),
    sa.Column("order_id", KEY, nullable=False),
    # '' when the file has whole orders rather than order lines
    sa.Column("line_id", KEY, nullable=False, default="", server_default=sa.text("''")),
    _customer_fk("customer_pk"),
    sa.Column("customer_id", KEY, nullable=False),
    sa.Column("ordered_at", TS, nullable=False, index=True),
    sa.Column("amount", NUMBER),
    sa.Column("unit_price", NUMBER),
    sa.Column("quantity", NUMBER),
    sa.Column("cost", NUMBER),
    sa.Column("gross_profit", NUMBER),
    # the amount given off the line (coupons, promotions): optional, read by the cost to serve
    sa.Column("discount", NUMBER),
    sa.Column("currency", sa.Text()),
    sa.Column("product_id", sa.Text()),
    sa.Column("product_name", sa.Text()),
    sa.Column("category", sa.Text()),
    sa.Column("channel", sa.Text()),
    sa.Column("status", ENUM),
    *_imported(facts=True),
    sa.UniqueConstraint("order_id", "line_id"),
)

interactions = sa.Table(
    "interactions",
    metadata,
    _id(),
    sa.Column("interaction_id", KEY, nullable=False, unique=True),
    _customer_fk("customer_pk"),
    sa.Column("customer_id", KEY, nullable=False),
    sa.Column("occurred_at", TS, nullable=False, index=True),
    sa.Column("kind", ENUM),
    sa.Column("direction", ENUM),
    sa.Column("by_user", sa.Text()),
    sa.Column("duration_min", NUMBER),
    sa.Column("note", sa.Text()),
    *_imported(facts=True),
)

feedback = sa.Table(
    "feedback",
    metadata,
    _id(),
    sa.Column("feedback_id", KEY, nullable=False, unique=True),
    _customer_fk("customer_pk"),
    sa.Column("customer_id", KEY, nullable=False),
    sa.Column("received_at", TS, nullable=False, index=True),
    sa.Column("kind", ENUM),
    sa.Column("score", NUMBER),
    sa.Column("text", sa.Text()),
    sa.Column("category", sa.Text()),
    sa.Column("status", ENUM),
    sa.Column("resolved_at", TS),
    # -1..1 from the text (tierwise.features sentiment lexicon); NULL without a signal
    sa.Column("sentiment", NUMBER),
    *_imported(),
)

referrals = sa.Table(
    "referrals",
    metadata,
    _id(),
    sa.Column("referrer_id", KEY, nullable=False),
    sa.Column("referred_id", KEY, nullable=False),
    _customer_fk("referrer_pk"),
    _customer_fk("referred_pk"),
    sa.Column("referred_at", TS, index=True),
    sa.Column("converted", sa.Boolean()),
    *_imported(facts=True),
    sa.UniqueConstraint("referrer_id", "referred_id"),
)

leads = sa.Table(
    "leads",
    metadata,
    _id(),
    sa.Column("lead_id", KEY, nullable=False, unique=True),
    _customer_fk("customer_pk", nullable=True),
    sa.Column("customer_id", KEY),
    sa.Column("created_at", TS, index=True),
    sa.Column("stage", sa.Text()),
    sa.Column("source", sa.Text()),
    sa.Column("expected_value", NUMBER),
    sa.Column("intent_signals", sa.Text()),
    sa.Column("needs", sa.Text()),
    sa.Column("decided_at", TS),
    sa.Column("outcome", ENUM),
    sa.Column("lost_reason", sa.Text()),
    *_imported(facts=True),
)

products = sa.Table(
    "products",
    metadata,
    _id(),
    sa.Column("product_id", KEY, nullable=False, unique=True),
    sa.Column("name", sa.Text()),
    sa.Column("category", sa.Text()),
    sa.Column("price", NUMBER),
    sa.Column("cost", NUMBER),
    *_imported(facts=True),
)

# --- classification -------------------------------------------------------------------------

SNAPSHOT_STATES: Final = ("running", "published", "failed")
PENDING_STATES: Final = ("pending", "approved", "rejected")

schemes = sa.Table(
    "schemes",
    metadata,
    _id(),
    # 1, 2, 3... in publication order; every published version is kept
    sa.Column("version", sa.Integer(), nullable=False, unique=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, index=True),
    sa.Column("note", sa.Text()),
    sa.Column("published_by", sa.String(KEY_LENGTH)),
    sa.Column("published_at", TS, nullable=False, default=utcnow),
)

snapshots = sa.Table(
    "snapshots",
    metadata,
    _id(),
    sa.Column("as_of", sa.Date(), nullable=False),
    # NULL: the shipped default scheme, never published
    sa.Column("scheme_id", sa.BigInteger(), sa.ForeignKey("schemes.id", ondelete="RESTRICT")),
    sa.Column("scheme_version", sa.Integer(), nullable=False),
    sa.Column("scheme_hash", sa.String(64), nullable=False),
    sa.Column("engine", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, default="running"),
    sa.Column("customers", sa.BigInteger(), nullable=False, default=0, server_default=sa.text("0")),
    # sha256 over the sorted labels and scores: same inputs + same scheme -> same hash
    sa.Column("hash", sa.String(64)),
    sa.Column("dimensions", JSON),
    sa.Column("timings", JSON),
    sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="SET NULL")),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("published_at", TS),
    sa.CheckConstraint(_in("state", SNAPSHOT_STATES), name="state"),
    sa.Index(None, "state", "id"),
)

# A label is stored once per *version*, not once per snapshot: the row holds from the snapshot
# that first gave the customer this label, score, source and since, up to (not including) the
# snapshot that replaced it (NULL: it is the latest published one's). A re-classification writes
# the rows that changed (a few per cent of customer x dimension), not every row again, and the
# store grows with the changes, not with the number of snapshots. ``store.labelset.labels_at``
# is the one way to read the labels of a snapshot.
labels = sa.Table(
    "labels",
    metadata,
    sa.Column("dimension", sa.String(64), primary_key=True),
    sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # later snapshots may share the row, so a snapshot with labels cannot be deleted
    sa.Column(
        "from_snapshot_id",
        sa.BigInteger(),
        sa.ForeignKey("snapshots.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("to_snapshot_id", sa.BigInteger()),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("score", NUMBER),
    # rule | hysteresis | pending | override | insufficient
    sa.Column("source", sa.String(16), nullable=False, default="rule"),
    # the day the customer entered this label (carried over while it stays)
    sa.Column("since", sa.Date(), nullable=False),
    # the latest labels by dimension and label (lists, counts, playbooks); partial: the rows
    # of older snapshots are not in it
    sa.Index(
        None,
        "dimension",
        "label",
        sqlite_where=sa.text("to_snapshot_id IS NULL"),
        postgresql_where=sa.text("to_snapshot_id IS NULL"),
    ),
    # one customer's labels (the 360 page, list pages) in any snapshot; serves the foreign key
    sa.Index(None, "customer_pk", "from_snapshot_id"),
)

label_changes = sa.Table(
    "label_changes",
    metadata,
    _id(),
    sa.Column(
        "snapshot_id",
        sa.BigInteger(),
        sa.ForeignKey("snapshots.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("dimension", sa.String(64), nullable=False),
    sa.Column("as_of", sa.Date(), nullable=False),
    sa.Column("old_label", sa.String(64)),
    sa.Column("new_label", sa.String(64), nullable=False),
    # new | upgrade | downgrade | change
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("scheme_version", sa.Integer(), nullable=False),
    sa.Column("old_score", NUMBER),
    sa.Column("new_score", NUMBER),
    sa.Index(None, "customer_pk", "dimension"),
    # a snapshot's upgrades and downgrades (the dashboard), without its many "new" rows
    sa.Index(None, "snapshot_id", "kind"),
)

label_overrides = sa.Table(
    "label_overrides",
    metadata,
    _id(),
    sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("dimension", sa.String(64), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("actor", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("expires_at", sa.Date()),
    sa.Column("revoked_at", TS),
    sa.Column("revoked_by", sa.String(KEY_LENGTH)),
)

pending_changes = sa.Table(
    "pending_changes",
    metadata,
    _id(),
    sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("dimension", sa.String(64), nullable=False),
    sa.Column("from_label", sa.String(64), nullable=False),
    sa.Column("to_label", sa.String(64), nullable=False),
    sa.Column("snapshot_id", sa.BigInteger(), sa.ForeignKey("snapshots.id", ondelete="SET NULL")),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("decided_by", sa.String(KEY_LENGTH)),
    sa.Column("decided_at", TS),
    sa.Column("note", sa.Text()),
    # the run that carried out an approved downgrade
    sa.Column("applied_snapshot_id", sa.BigInteger()),
    sa.CheckConstraint(_in("state", PENDING_STATES), name="state"),
)

# --- web: sessions, API tokens, sign-in attempts -------------------------------------------

# the user responsible for a customer; a customer without a row is in the public pool (公海).
# ``customers.owner`` keeps the name as imported; this is set by assignment only, never by an
# import or a mass-assigned field.
customer_owners = sa.Table(
    "customer_owners",
    metadata,
    sa.Column(
        "customer_pk",
        sa.BigInteger(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "user_id",
        sa.BigInteger(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("assigned_at", TS, nullable=False, default=utcnow),
    sa.Column("assigned_by", sa.String(KEY_LENGTH), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # sha256 of the random cookie value: a copy of the database opens no live session
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.BigInteger(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("last_seen_at", TS, nullable=False, default=utcnow),
    # absolute expiry; idle expiry is counted from last_seen_at
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.Text()),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    sa.Column(
        "user_id",
        sa.BigInteger(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.Text(), nullable=False),
    # sha256 of the secret; the first characters are kept to tell tokens apart in lists
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False, default=utcnow),
    sa.Column("last_used_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("revoked_at", TS),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    _id(),
    # normalised as usernames are, whether or not such a user exists
    sa.Column("username", KEY, nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("at", TS, nullable=False, default=utcnow),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Index(None, "username", "at"),
    sa.Index(None, "ip", "at"),
)

# the act tables (tasks, pool, complaint SLAs, webhooks, care) are in their own module
from tierwise.store._tables_act import (  # noqa: E402
    DELIVERY_STATES,
    DIGEST_STATES,
    POOL_EVENTS,
    TASK_KEY_LENGTH,
    TASK_KINDS,
    TASK_STATES,
    WEBHOOK_FORMATS,
    care_sends,
    complaint_sla,
    digest_sends,
    pool_events,
    rep_caps,
    tasks,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)

#: canonical kind (as in `tierwise.ingest._schema.TABLES`) → its table
CANONICAL: Final[dict[str, sa.Table]] = {
    "customers": customers,
    "orders": orders,
    "interactions": interactions,
    "feedback": feedback,
    "referrals": referrals,
    "leads": leads,
    "products": products,
}

__all__ = [
    "BATCH_STATES",
    "CANONICAL",
    "DELIVERY_STATES",
    "DIGEST_STATES",
    "EMAIL_LENGTH",
    "ENUM_LENGTH",
    "JOB_STATES",
    "JSON",
    "KEY_LENGTH",
    "NAMING_CONVENTION",
    "PENDING_STATES",
    "PHONE_LENGTH",
    "POOL_EVENTS",
    "ROLES",
    "ROW_HASH_LENGTH",
    "SEVERITIES",
    "SNAPSHOT_STATES",
    "TASK_KEY_LENGTH",
    "TASK_KINDS",
    "TASK_STATES",
    "TS",
    "WEBHOOK_FORMATS",
    "api_tokens",
    "audit_log",
    "care_sends",
    "complaint_sla",
    "customer_aliases",
    "customer_merges",
    "customer_owners",
    "customers",
    "digest_sends",
    "feedback",
    "import_batches",
    "import_errors",
    "interactions",
    "jobs",
    "label_changes",
    "label_overrides",
    "labels",
    "leads",
    "login_attempts",
    "metadata",
    "orders",
    "pending_changes",
    "pool_events",
    "products",
    "referrals",
    "rep_caps",
    "schemes",
    "sessions",
    "snapshots",
    "tasks",
    "users",
    "utcnow",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
]
