"""Initial schema: users, jobs, import bookkeeping, audit log, customers and the fact tables.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23

Frozen: this file must not import `tierwise.store.tables`. Helpers below are local on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.String(length=128)
TS = sa.DateTime()


def _id() -> sa.Column[int]:
    # BIGINT on PostgreSQL; INTEGER on SQLite so that the primary key aliases the ROWID
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _pk(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=f"pk_{table}")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _batch_fk(table: str) -> sa.ForeignKeyConstraint:
    return _fk(table, "batch_id", "import_batches", "SET NULL")


def _imported(table: str) -> list[sa.Column[object] | sa.ForeignKeyConstraint]:
    """Bookkeeping columns of every imported table (row hash, batch, insert/update times)."""
    return [
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("inserted_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _batch_fk(table),
    ]


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), unique=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", KEY, nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=True),
        sa.Column("last_login_at", TS, nullable=True),
        sa.CheckConstraint("role IN ('admin', 'manager', 'rep', 'analyst')", name="ck_users_role"),
        _fk("users", "manager_id", "users", "SET NULL"),
        _pk("users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )

    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", KEY, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", KEY, nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        _fk("audit_log", "actor_id", "users", "SET NULL"),
        _pk("audit_log"),
    )
    _index("audit_log", "at")
    _index("audit_log", "entity", "entity_id")

    op.create_table(
        "jobs",
        _id(),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("cursor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'interrupted')", name="ck_jobs_state"
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="ck_jobs_progress"),
        _fk("jobs", "created_by", "users", "SET NULL"),
        _pk("jobs"),
    )
    _index("jobs", "state")

    op.create_table(
        "import_batches",
        _id(),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("encoding", sa.String(length=32), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        _counter("rows_in"),
        _counter("inserted"),
        _counter("updated"),
        _counter("skipped"),
        _counter("rejected"),
        _counter("customers_created"),
        _counter("merged"),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.CheckConstraint(
            "state IN ('running', 'done', 'failed', 'interrupted')", name="ck_import_batches_state"
        ),
        _fk("import_batches", "created_by", "users", "SET NULL"),
        _fk("import_batches", "job_id", "jobs", "SET NULL"),
        _pk("import_batches"),
    )
    _index("import_batches", "file_sha256")
    _index("import_batches", "job_id")

    op.create_table(
        "import_errors",
        _id(),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("sheet", sa.Text(), nullable=True),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.CheckConstraint("severity IN ('error', 'warning')", name="ck_import_errors_severity"),
        _fk("import_errors", "batch_id", "import_batches", "CASCADE"),
        _pk("import_errors"),
    )
    _index("import_errors", "batch_id", "line")

    op.create_table(
        "customers",
        _id(),
        sa.Column("customer_id", KEY, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("gender", sa.String(length=32), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        *(
            sa.Column(name, sa.Text(), nullable=True)
            for name in (
                "age_band",
                "income_band",
                "education",
                "occupation",
                "industry",
                "company_size",
                "country",
                "province",
                "city",
                "source",
                "owner",
            )
        ),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("created_from", sa.String(length=20), nullable=True),
        *_imported("customers"),
        _pk("customers"),
        sa.UniqueConstraint("customer_id", name="uq_customers_customer_id"),
    )
    for column in ("batch_id", "email", "owner", "phone"):
        _index("customers", column)

    op.create_table(
        "customer_aliases",
        sa.Column("alias", KEY, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("matched_on", sa.String(length=10), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _batch_fk("customer_aliases"),
        _fk("customer_aliases", "customer_pk", "customers", "CASCADE"),
        _pk("customer_aliases", "alias"),
    )
    _index("customer_aliases", "batch_id")
    _index("customer_aliases", "customer_pk")

    op.create_table(
        "customer_merges",
        _id(),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("kept_pk", sa.BigInteger(), nullable=False),
        sa.Column("merged_customer_id", KEY, nullable=False),
        sa.Column("matched_on", sa.String(length=10), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _batch_fk("customer_merges"),
        _fk("customer_merges", "kept_pk", "customers", "CASCADE"),
        _pk("customer_merges"),
    )
    _index("customer_merges", "batch_id")
    _index("customer_merges", "kept_pk")

    op.create_table(
        "orders",
        _id(),
        sa.Column("order_id", KEY, nullable=False),
        sa.Column("line_id", KEY, server_default=sa.text("''"), nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", KEY, nullable=False),
        sa.Column("ordered_at", TS, nullable=False),
        sa.Column("amount", sa.Double(), nullable=True),
        sa.Column("unit_price", sa.Double(), nullable=True),
        sa.Column("quantity", sa.Double(), nullable=True),
        sa.Column("cost", sa.Double(), nullable=True),
        sa.Column("gross_profit", sa.Double(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("product_id", sa.Text(), nullable=True),
        sa.Column("product_name", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        *_imported("orders"),
        _fk("orders", "customer_pk", "customers", "RESTRICT"),
        _pk("orders"),
        sa.UniqueConstraint("order_id", "line_id", name="uq_orders_order_id_line_id"),
    )
    for column in ("batch_id", "customer_pk", "ordered_at"):
        _index("orders", column)

    op.create_table(
        "interactions",
        _id(),
        sa.Column("interaction_id", KEY, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", KEY, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("direction", sa.String(length=32), nullable=True),
        sa.Column("by_user", sa.Text(), nullable=True),
        sa.Column("duration_min", sa.Double(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        *_imported("interactions"),
        _fk("interactions", "customer_pk", "customers", "RESTRICT"),
        _pk("interactions"),
        sa.UniqueConstraint("interaction_id", name="uq_interactions_interaction_id"),
    )
    for column in ("batch_id", "customer_pk", "occurred_at"):
        _index("interactions", column)

    op.create_table(
        "feedback",
        _id(),
        sa.Column("feedback_id", KEY, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", KEY, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        *_imported("feedback"),
        _fk("feedback", "customer_pk", "customers", "RESTRICT"),
        _pk("feedback"),
        sa.UniqueConstraint("feedback_id", name="uq_feedback_feedback_id"),
    )
    for column in ("batch_id", "customer_pk", "received_at"):
        _index("feedback", column)

    op.create_table(
        "referrals",
        _id(),
        sa.Column("referrer_id", KEY, nullable=False),
        sa.Column("referred_id", KEY, nullable=False),
        sa.Column("referrer_pk", sa.BigInteger(), nullable=False),
        sa.Column("referred_pk", sa.BigInteger(), nullable=False),
        sa.Column("referred_at", TS, nullable=True),
        sa.Column("converted", sa.Boolean(), nullable=True),
        *_imported("referrals"),
        _fk("referrals", "referrer_pk", "customers", "RESTRICT"),
        _fk("referrals", "referred_pk", "customers", "RESTRICT"),
        _pk("referrals"),
        sa.UniqueConstraint(
            "referrer_id", "referred_id", name="uq_referrals_referrer_id_referred_id"
        ),
    )
    for column in ("batch_id", "referred_at", "referred_pk", "referrer_pk"):
        _index("referrals", column)

    op.create_table(
        "leads",
        _id(),
        sa.Column("lead_id", KEY, nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", KEY, nullable=True),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("expected_value", sa.Double(), nullable=True),
        sa.Column("intent_signals", sa.Text(), nullable=True),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        *_imported("leads"),
        _fk("leads", "customer_pk", "customers", "RESTRICT"),
        _pk("leads"),
        sa.UniqueConstraint("lead_id", name="uq_leads_lead_id"),
    )
    for column in ("batch_id", "created_at", "customer_pk"):
        _index("leads", column)

    op.create_table(
        "products",
        _id(),
        sa.Column("product_id", KEY, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("price", sa.Double(), nullable=True),
        sa.Column("cost", sa.Double(), nullable=True),
        *_imported("products"),
        _pk("products"),
        sa.UniqueConstraint("product_id", name="uq_products_product_id"),
    )
    _index("products", "batch_id")


def downgrade() -> None:
    # reverse dependency order; dropping a table drops its indexes
    for table in (
        "products",
        "leads",
        "referrals",
        "feedback",
        "interactions",
        "orders",
        "customer_merges",
        "customer_aliases",
        "customers",
        "import_errors",
        "import_batches",
        "jobs",
        "audit_log",
        "users",
    ):
        op.drop_table(table)
