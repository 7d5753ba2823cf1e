"""Fact tables: ``batch_id`` becomes plain provenance, without its foreign key and index.

Orders, interactions, referrals, leads and products: no other table references them, and
nothing reads their rows by import batch. The foreign key and index cost a fifth of a bulk
load into ``orders`` on PostgreSQL. SQLite rebuilds each table (batch mode), which is safe
because no foreign key points at them.

Revision ID: 0007_fact_provenance
Revises: 0006_digests
Create Date: 2026-12-03

Frozen: this file must not import `tierwise.store.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_fact_provenance"
down_revision: str | Sequence[str] | None = "0006_digests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = ("orders", "interactions", "referrals", "leads", "products")


def upgrade() -> None:
    for table in FACTS:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_batch_id")
            batch.drop_constraint(f"fk_{table}_batch_id_import_batches", type_="foreignkey")


def downgrade() -> None:
    for table in FACTS:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                f"fk_{table}_batch_id_import_batches",
                "import_batches",
                ["batch_id"],
                ["id"],
                ondelete="SET NULL",
            )
            batch.create_index(f"ix_{table}_batch_id", ["batch_id"])
