"""Target lists from the store: the customers in scope whose labels match, for `target_list`.

Label filters narrow the customers in SQL first (one ``IN`` per dimension on the latest
snapshot's labels); only the matching customers' labels leave the database, pivoted to one
column per dimension. The export is audited (RELIABILITY.md: every export).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from tierwise.access._principal import Principal, scope_clause
from tierwise.act._playbooks import active_playbooks
from tierwise.act._targets import target_list
from tierwise.classify._store import current_scheme, latest_snapshot
from tierwise.errors import DataError, NotFoundError
from tierwise.store import audit
from tierwise.store.tables import customers, labels

MAX_ROWS = 1_000_000


def export_targets(
    conn: sa.Connection,
    *,
    principal: Principal,
    filters: Mapping[str, Sequence[str]],
    lang: str = "zh",
) -> pl.DataFrame:
    """The customers matching every ``dimension -> labels`` filter, ready for `write_table`."""
    principal.require("export")
    snap = latest_snapshot(conn)
    if snap is None:
        raise NotFoundError("No classification yet: run `tierwise classify` first.")
    scheme = current_scheme(conn).scheme
    unknown = sorted(set(filters) - set(scheme.dimensions))
    if unknown:
        raise DataError(
            f"--where names unknown dimension(s) {', '.join(unknown)}; the scheme has "
            f"{', '.join(scheme.dimensions)}."
        )
    where: list[sa.ColumnElement[bool]] = [scope_clause(principal)]
    for dim, keys in filters.items():
        where.append(
            sa.exists().where(
                labels.c.snapshot_id == snap.id, labels.c.customer_pk == customers.c.id,
                labels.c.dimension == dim, labels.c.label.in_(list(keys)),
            )
        )  # fmt: skip
    rows = conn.execute(
        sa.select(customers.c.id, customers.c.customer_id, customers.c.name)
        .where(*where)
        .order_by(customers.c.customer_id)
        .limit(MAX_ROWS)
    ).all()
    pks = [int(r.id) for r in rows]
    values: dict[str, dict[int, str]] = {d: {} for d in scheme.dimensions}
    for i in range(0, len(pks), 5000):
        for r in conn.execute(
            sa.select(labels.c.customer_pk, labels.c.dimension, labels.c.label).where(
                labels.c.snapshot_id == snap.id, labels.c.customer_pk.in_(pks[i : i + 5000])
            )
        ):
            if r.dimension in values:
                values[r.dimension][int(r.customer_pk)] = r.label
    data: dict[str, Any] = {
        "customer_id": [r.customer_id for r in rows],
        "name": [r.name for r in rows],
    }
    for dim, found in values.items():
        data[dim] = [found.get(pk) for pk in pks]
    frame = pl.DataFrame(data, schema={k: pl.String for k in data})
    language: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    books = active_playbooks(conn)
    columns = ["customer_id", "name", *scheme.dimensions]
    if books is not None and books.dimension in columns:
        # the playbook's dimension first after the name: what a target list is usually about
        columns.remove(books.dimension)
        columns.insert(2, books.dimension)
    out = target_list(frame, scheme=scheme, filters=filters, columns=columns, lang=language)
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="export.targets",
        entity="customer", after={"filters": dict(filters), "rows": out.height},
    )  # fmt: skip
    return out


__all__ = ["export_targets"]
