"""Alembic environment, driven from code by `tierwise.store.db.upgrade` (no alembic.ini).

The caller opens the transaction and passes its connection in
``config.attributes["connection"]``: the whole upgrade commits or rolls back as one unit, on
SQLite too (the engine emits its own BEGIN, so DDL is transactional there as well).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

connection = context.config.attributes.get("connection")
if not isinstance(connection, sa.Connection):
    raise RuntimeError(
        "Tierwise migrations run through tierwise.store.db.upgrade(), which passes a "
        "connection; offline (--sql) mode and the alembic command line are not supported."
    )

context.configure(
    connection=connection,
    # migrations are frozen: autogenerate is only used by the schema test, with its own context
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
