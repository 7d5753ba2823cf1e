"""Classification: schemes, snapshots, labels, label changes, overrides, pending changes;
feedback sentiment; updated_at indexes for the analytic copy's incremental sync.

Revision ID: 0002_classification
Revises: 0001_initial
Create Date: 2026-12-01

Frozen: this file must not import `tierwise.store.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_classification"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.String(length=128)
TS = sa.DateTime()
IMPORTED = ("customers", "orders", "interactions", "feedback", "referrals", "leads", "products")


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _index(table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), unique=unique)


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("sentiment", sa.Double(), nullable=True))
    for table in IMPORTED:
        _index(table, "updated_at")

    op.create_table(
        "schemes",
        _id(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("published_by", KEY, nullable=True),
        sa.Column("published_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schemes"),
        sa.UniqueConstraint("version", name="uq_schemes_version"),
    )
    _index("schemes", "hash")

    op.create_table(
        "snapshots",
        _id(),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("scheme_id", sa.BigInteger(), nullable=True),
        sa.Column("scheme_version", sa.Integer(), nullable=False),
        sa.Column("scheme_hash", sa.String(length=64), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("customers", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("dimensions", sa.JSON(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.CheckConstraint(
            "state IN ('running', 'published', 'failed')", name="ck_snapshots_state"
        ),
        _fk("snapshots", "scheme_id", "schemes", "RESTRICT"),
        _fk("snapshots", "job_id", "jobs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
    )
    _index("snapshots", "state", "id")

    op.create_table(
        "labels",
        sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        _fk("labels", "snapshot_id", "snapshots", "CASCADE"),
        _fk("labels", "customer_pk", "customers", "CASCADE"),
        sa.PrimaryKeyConstraint("snapshot_id", "dimension", "customer_pk", name="pk_labels"),
    )
    _index("labels", "customer_pk")
    _index("labels", "snapshot_id", "dimension", "label")

    op.create_table(
        "label_changes",
        _id(),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("old_label", sa.String(length=64), nullable=True),
        sa.Column("new_label", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("scheme_version", sa.Integer(), nullable=False),
        sa.Column("old_score", sa.Double(), nullable=True),
        sa.Column("new_score", sa.Double(), nullable=True),
        _fk("label_changes", "snapshot_id", "snapshots", "CASCADE"),
        _fk("label_changes", "customer_pk", "customers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_label_changes"),
    )
    _index("label_changes", "snapshot_id")
    _index("label_changes", "customer_pk", "dimension")

    op.create_table(
        "label_overrides",
        _id(),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", KEY, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", sa.Date(), nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_by", KEY, nullable=True),
        _fk("label_overrides", "customer_pk", "customers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_label_overrides"),
    )
    _index("label_overrides", "customer_pk")

    op.create_table(
        "pending_changes",
        _id(),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("from_label", sa.String(length=64), nullable=False),
        sa.Column("to_label", sa.String(length=64), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_by", KEY, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("applied_snapshot_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected')", name="ck_pending_changes_state"
        ),
        _fk("pending_changes", "customer_pk", "customers", "CASCADE"),
        _fk("pending_changes", "snapshot_id", "snapshots", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_pending_changes"),
    )
    _index("pending_changes", "customer_pk")


def downgrade() -> None:
    for table in (
        "pending_changes",
        "label_overrides",
        "label_changes",
        "labels",
        "snapshots",
        "schemes",
    ):
        op.drop_table(table)
    for table in IMPORTED:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("sentiment")
