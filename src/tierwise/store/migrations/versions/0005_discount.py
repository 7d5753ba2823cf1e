"""Orders: an optional ``discount`` (the amount given off the line), for the cost to serve.

Revision ID: 0005_discount
Revises: 0004_act
Create Date: 2026-12-02

Frozen: this file must not import `tierwise.store.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_discount"
down_revision: str | Sequence[str] | None = "0004_act"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("discount", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("discount")
