"""Labels stored as versions: a row per change of a customer's label, not per snapshot.

A row held from ``from_snapshot_id`` up to, not including, ``to_snapshot_id`` (NULL: the
latest published snapshot). The rows of every published snapshot are collapsed: consecutive
published snapshots in which a customer's label, score, source and since stay the same become
one row; a snapshot in which the customer is missing ends it. Rows of snapshots that were never
published (none are kept: a failed run rolls its labels back) are dropped. The downgrade expands
the versions into a row per published snapshot again.

Revision ID: 0008_label_versions
Revises: 0007_fact_provenance
Create Date: 2026-12-03

Frozen: this file must not import `tierwise.store.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_label_versions"
down_revision: str | Sequence[str] | None = "0007_fact_provenance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VALUES = "label, score, source, since"
OPEN = "to_snapshot_id IS NULL"

# every published snapshot's row, with the published snapshot before and after it; a row
# starts a version unless the customer had the same values in the snapshot just before
COLLAPSE = """
WITH pub AS (
    SELECT id, LAG(id) OVER (ORDER BY id) AS prev_id, LEAD(id) OVER (ORDER BY id) AS next_id
    FROM snapshots WHERE state = 'published'
), r AS (
    SELECT l.dimension, l.customer_pk, l.snapshot_id, l.label, l.score, l.source, l.since,
           p.prev_id, p.next_id,
           LAG(l.snapshot_id) OVER w AS p_snapshot, LAG(l.label) OVER w AS p_label,
           LAG(l.score) OVER w AS p_score, LAG(l.source) OVER w AS p_source,
           LAG(l.since) OVER w AS p_since
    FROM labels l JOIN pub p ON p.id = l.snapshot_id
    WINDOW w AS (PARTITION BY l.dimension, l.customer_pk ORDER BY l.snapshot_id)
), s AS (
    SELECT r.*, CASE WHEN p_snapshot = prev_id AND p_label = label AND p_source = source
                      AND p_since = since
                      AND (p_score = score OR (p_score IS NULL AND score IS NULL))
                 THEN 0 ELSE 1 END AS start
    FROM r
), g AS (
    SELECT s.*, SUM(start) OVER (PARTITION BY dimension, customer_pk ORDER BY snapshot_id
                                 ROWS UNBOUNDED PRECEDING) AS grp
    FROM s
)
SELECT dimension, customer_pk, MIN(snapshot_id),
       CASE WHEN COUNT(next_id) = COUNT(*) THEN MAX(next_id) END,
       MIN(label), MIN(score), MIN(source), MIN(since)
FROM g GROUP BY dimension, customer_pk, grp
"""

EXPAND = """
SELECT s.id, v.dimension, v.customer_pk, v.label, v.score, v.source, v.since
FROM labels v JOIN snapshots s
  ON s.state = 'published' AND s.id >= v.from_snapshot_id
 AND (v.to_snapshot_id IS NULL OR s.id < v.to_snapshot_id)
"""


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _values() -> list[sa.Column[object]]:
    return [
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
    ]


def _swap(new: str, pk: str) -> None:
    """Drop ``labels`` and rename ``new`` to it (PostgreSQL: its primary key index too)."""
    op.drop_table("labels")
    op.rename_table(new, "labels")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE labels RENAME CONSTRAINT {pk} TO pk_labels")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    pk = "pk_labels" if sqlite else "pk_labels_versions"
    op.create_table(
        "labels_versions",
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        sa.Column("from_snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("to_snapshot_id", sa.BigInteger(), nullable=True),
        *_values(),
        _fk("labels", "customer_pk", "customers", "CASCADE"),
        _fk("labels", "from_snapshot_id", "snapshots", "RESTRICT"),
        sa.PrimaryKeyConstraint("dimension", "customer_pk", "from_snapshot_id", name=pk),
    )
    op.execute(
        "INSERT INTO labels_versions (dimension, customer_pk, from_snapshot_id, to_snapshot_id, "
        f"{VALUES}) {COLLAPSE}"
    )
    _swap("labels_versions", pk)
    op.create_index(
        "ix_labels_dimension_label",
        "labels",
        ["dimension", "label"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_labels_customer_pk_from_snapshot_id", "labels", ["customer_pk", "from_snapshot_id"]
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    pk = "pk_labels" if sqlite else "pk_labels_snapshots"
    op.create_table(
        "labels_snapshots",
        sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("customer_pk", sa.BigInteger(), nullable=False),
        *_values(),
        _fk("labels", "snapshot_id", "snapshots", "CASCADE"),
        _fk("labels", "customer_pk", "customers", "CASCADE"),
        sa.PrimaryKeyConstraint("snapshot_id", "dimension", "customer_pk", name=pk),
    )
    op.execute(
        f"INSERT INTO labels_snapshots (snapshot_id, dimension, customer_pk, {VALUES}) {EXPAND}"
    )
    _swap("labels_snapshots", pk)
    op.create_index(
        "ix_labels_snapshot_id_dimension_label", "labels", ["snapshot_id", "dimension", "label"]
    )
    op.create_index("ix_labels_customer_pk_snapshot_id", "labels", ["customer_pk", "snapshot_id"])
