"""The copy's ``order_days`` table: order lines per (customer, day), as DuckDB SQL compiled from
their one Ibis definition (``tierwise.features._orders.order_days``).

DuckDB's copy stores the result and keeps it in step with the lines it is computed from (only
the customers a sync touched are redone); the other engines evaluate the definition in every
query, so all of them run the same feature code on the same numbers.
"""

from __future__ import annotations

from typing import Final

import duckdb
import ibis

from tierwise.engine._schema import ANALYTIC
from tierwise.features._orders import DAY_COLUMNS, order_days

#: the analytic table each derived table is computed from
DERIVED: Final = {"order_days": "orders"}

_IBIS = {
    "BIGINT": "int64",
    "INTEGER": "int32",
    "DOUBLE": "float64",
    "VARCHAR": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "boolean",
}


def _unbound(table: str) -> ibis.Table:
    return ibis.table({c: _IBIS[t] for c, t in ANALYTIC[table]}, name=table)


def _sql(expr: ibis.Table) -> str:
    return str(ibis.to_sql(expr, dialect="duckdb"))


def store_order_days(db: duckdb.DuckDBPyConnection) -> None:
    """(Re)build ``order_days`` from every order line."""
    db.execute(f"CREATE OR REPLACE TABLE order_days AS {_sql(order_days(_unbound('orders')))}")


def redo_order_days(db: duckdb.DuckDBPyConnection) -> None:
    """Recompute the ``order_days`` rows of the customers listed in the table ``_touched``.

    A row depends on its customer's lines only (the links to the previous and next occasion
    included), so redoing the touched customers gives what a full rebuild would.
    """
    lines = _unbound("orders")
    touched = ibis.table({"customer_pk": "int64"}, name="_touched")
    mine = order_days(lines.filter(lines.customer_pk.isin(touched.customer_pk)))
    db.execute("DELETE FROM order_days WHERE customer_pk IN (SELECT customer_pk FROM _touched)")
    db.execute(f"INSERT INTO order_days {_sql(mine)}")


def has_order_days(db: duckdb.DuckDBPyConnection) -> bool:
    """The copy holds ``order_days`` with this version's columns."""
    found = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'order_days' "
        "ORDER BY ordinal_position"
    ).fetchall()
    return tuple(r[0] for r in found) == DAY_COLUMNS


__all__ = ["DERIVED", "has_order_days", "redo_order_days", "store_order_days"]
