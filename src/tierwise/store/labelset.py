"""The labels of a snapshot, stored as versions (see ``tables.labels``).

A row of ``labels`` holds for the published snapshots from ``from_snapshot_id`` up to, not
including, ``to_snapshot_id`` (NULL: up to the latest). Published snapshots form one chain in id
order, because publishing checks that no later snapshot was published meanwhile
(``classify._store.publish_snapshot``); so the rows of snapshot *s* are

    from_snapshot_id <= s AND (to_snapshot_id IS NULL OR to_snapshot_id > s)

and those of the latest published snapshot (the head) simply ``to_snapshot_id IS NULL``, which
the partial indexes serve. ``labels_at`` gives the one or the other.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from tierwise.store.bulk import insert_frame, read_frame, update_frame
from tierwise.store.tables import labels, snapshots

KEYS = ["customer_pk", "dimension"]
VALUES = ["label", "score", "source", "since"]
#: the open rows as ``open_rows`` reads them
STORED = {
    "customer_pk": pl.Int64,
    "dimension": pl.String,
    "from_snapshot_id": pl.Int64,
    "label": pl.String,
    "score": pl.Float64,
    "source": pl.String,
    "since": pl.Date,
}


def head_snapshot(conn: sa.Connection) -> int | None:
    """The id of the latest published snapshot in publication order (the labels' open rows)."""
    value = conn.scalar(
        sa.select(sa.func.max(snapshots.c.id)).where(snapshots.c.state == "published")
    )
    return None if value is None else int(value)


def held_at(
    snapshot_id: int, *, head: bool, table: sa.FromClause = labels
) -> sa.ColumnElement[bool]:
    """The condition on ``labels`` (or an alias of it) for the rows of ``snapshot_id``
    (``head``: it is the latest)."""
    to = table.c.to_snapshot_id
    if head:
        return to.is_(None)
    return sa.and_(table.c.from_snapshot_id <= snapshot_id, sa.or_(to.is_(None), to > snapshot_id))


def labels_at(
    conn: sa.Connection, snapshot_id: int, *, table: sa.FromClause = labels
) -> sa.ColumnElement[bool]:
    """The condition on ``labels`` (or an alias) for the rows of published ``snapshot_id``."""
    return held_at(snapshot_id, head=snapshot_id == head_snapshot(conn), table=table)


def open_rows(conn: sa.Connection) -> pl.DataFrame:
    """The rows of the head snapshot with the snapshot each one started in (`STORED`)."""
    columns = [labels.c[name] for name in STORED]
    return read_frame(conn, sa.select(*columns).where(labels.c.to_snapshot_id.is_(None)), STORED)


def changed(stored: pl.DataFrame, new: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What storing ``new`` (a snapshot's labels: customer_pk, dimension, label, score, source,
    since) after the head snapshot's ``stored`` rows takes: the rows to insert and the
    (customer_pk, dimension, from_snapshot_id) of the rows it ends. A row whose four values
    are the same (scores compared exactly, NULL equal to NULL) is left as it is."""
    both = new.select([*KEYS, *VALUES]).join(
        stored.select([*KEYS, "from_snapshot_id", *VALUES]),
        on=KEYS,
        how="full",
        coalesce=True,
        suffix="_old",
    )
    same = pl.col("from_snapshot_id").is_not_null() & pl.col("label").is_not_null()
    for name in VALUES:
        same = same & pl.col(name).eq_missing(pl.col(f"{name}_old"))
    added = both.filter(pl.col("label").is_not_null() & ~same).select([*KEYS, *VALUES])
    ended = both.filter(pl.col("from_snapshot_id").is_not_null() & ~same)
    return (
        added.sort(["dimension", "customer_pk"]),
        ended.select([*KEYS, "from_snapshot_id"]).sort(["dimension", "customer_pk"]),
    )


def store_labels(
    conn: sa.Connection, *, snapshot_id: int, stored: pl.DataFrame, new: pl.DataFrame
) -> dict[str, int]:
    """Write snapshot ``snapshot_id``'s labels ``new`` as versions after the head's ``stored``
    rows (`open_rows`; call inside the transaction that publishes it). Returns the counts of
    rows written and ended."""
    added, ended = changed(stored, new)
    update_frame(
        conn,
        table="labels",
        df=ended.with_columns(pl.lit(snapshot_id).alias("to_snapshot_id")),
        id_col=[*KEYS, "from_snapshot_id"],
    )
    insert_frame(
        conn,
        table="labels",
        df=added.with_columns(pl.lit(snapshot_id, pl.Int64).alias("from_snapshot_id")),
    )
    return {"written": added.height, "ended": ended.height}


__all__ = [
    "STORED",
    "changed",
    "head_snapshot",
    "held_at",
    "labels_at",
    "open_rows",
    "store_labels",
]
