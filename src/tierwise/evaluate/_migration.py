"""Tier migration between any two snapshots, the customers behind a cell, and the flow over
several snapshots — counted by the store (one GROUP BY), never customer by customer.

Rows are the earlier snapshot's label; customers without one there form the ``NEW`` row, so the
matrix always sums to the later snapshot's customer count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, Final, cast

import sqlalchemy as sa

from tierwise.store.labelset import labels_at
from tierwise.store.tables import customers, labels

NEW: Final = "__new__"  # the row of customers without a label in the earlier snapshot
Scope = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]


def _joined(
    conn: sa.Connection, from_snapshot: int, to_snapshot: int
) -> tuple[Any, Any, Any, sa.ColumnElement[bool]]:
    """The two snapshots' labels joined by customer and dimension, and the later one's rows."""
    old = labels.alias("old")
    new = labels.alias("new")
    joined = new.outerjoin(
        old,
        sa.and_(
            old.c.customer_pk == new.c.customer_pk,
            old.c.dimension == new.c.dimension,
            labels_at(conn, from_snapshot, table=old),
        ),
    )
    return old, new, joined, labels_at(conn, to_snapshot, table=new)


def migration_cells(
    conn: sa.Connection,
    *,
    from_snapshot: int,
    to_snapshot: int,
    dimension: str,
    scope: Scope | None = None,
) -> dict[tuple[str, str], int]:
    """(earlier label or ``NEW``, later label) → customers, for one dimension."""
    old, new, joined, later = _joined(conn, from_snapshot, to_snapshot)
    # a constant inlined, not bound: PostgreSQL matches GROUP BY expressions textually
    previous = sa.func.coalesce(old.c.label, sa.literal_column(f"'{NEW}'"))
    query = (
        sa.select(previous, new.c.label, sa.func.count())
        .select_from(joined)
        .where(later, new.c.dimension == dimension)
        .group_by(previous, new.c.label)
    )
    if scope is not None:
        query = query.where(scope(new.c.customer_pk))
    return {(str(a), str(b)): int(cast(int, n)) for a, b, n in conn.execute(query)}


def migration(
    conn: sa.Connection,
    *,
    from_snapshot: int,
    to_snapshot: int,
    dimension: str,
    order: Sequence[str] = (),
    scope: Scope | None = None,
) -> dict[str, Any]:
    """The from→to matrix: ``labels`` (columns), ``from_labels`` (rows, ``NEW`` last if any),
    ``matrix[i][j]`` customers, ``customers`` (the total), ``stayed`` (share on the diagonal)."""
    cells = migration_cells(
        conn, from_snapshot=from_snapshot, to_snapshot=to_snapshot, dimension=dimension,
        scope=scope,
    )  # fmt: skip
    keys = [k for k in order]
    keys += sorted({k for pair in cells for k in pair} - set(keys) - {NEW})
    froms = [*keys, NEW] if any(a == NEW for a, _ in cells) else keys
    total = sum(cells.values())
    same = sum(n for (a, b), n in cells.items() if a == b)
    return {
        "dimension": dimension,
        "from_snapshot": from_snapshot,
        "to_snapshot": to_snapshot,
        "labels": keys,
        "from_labels": froms,
        "matrix": [[cells.get((a, b), 0) for b in keys] for a in froms],
        "customers": total,
        "stayed": None if total == 0 else same / total,
    }


def migration_customers(
    conn: sa.Connection,
    *,
    from_snapshot: int,
    to_snapshot: int,
    dimension: str,
    from_label: str,
    to_label: str,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The customers behind one cell (``from_label`` may be ``NEW``), by customer id."""
    old, new, joined, later = _joined(conn, from_snapshot, to_snapshot)
    row = old.c.label.is_(None) if from_label == NEW else old.c.label == from_label
    query = (
        sa.select(customers.c.id, customers.c.customer_id, customers.c.name)
        .select_from(joined.join(customers, customers.c.id == new.c.customer_pk))
        .where(
            later,
            new.c.dimension == dimension,
            new.c.label == to_label,
            row,
        )
        .order_by(customers.c.customer_id)
        .limit(limit)
        .offset(offset)
    )
    return [
        {"customer_pk": int(r.id), "customer_id": r.customer_id, "name": r.name}
        for r in conn.execute(query)
    ]


def flow(
    conn: sa.Connection, *, snapshot_ids: Sequence[int], dimension: str
) -> list[dict[str, Any]]:
    """Links of a Sankey over consecutive snapshots: ``source``/``target`` are ``"<id>:<label>"``."""
    links: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(snapshot_ids):  # per snapshot pair
        cells = migration_cells(conn, from_snapshot=a, to_snapshot=b, dimension=dimension)
        links += [
            {"source": f"{a}:{x}", "target": f"{b}:{y}", "value": n}
            for (x, y), n in sorted(cells.items())
            if x != NEW
        ]
    return links


__all__ = ["NEW", "flow", "migration", "migration_cells", "migration_customers"]
