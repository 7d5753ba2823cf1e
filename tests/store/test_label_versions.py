"""Labels stored as versions (migration 0008, ``store.labelset``): every published snapshot
reads back exactly the labels it had, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import polars as pl
import sqlalchemy as sa
from alembic import command

from tierwise.store import create_engine, current_revision, head_revision, tables, upgrade
from tierwise.store.db import _alembic_config
from tierwise.store.labelset import changed, labels_at

D1, D2 = date(2026, 1, 1), date(2026, 2, 1)
# snapshot id -> state; 3 failed (its rows are not a published snapshot's)
SNAPSHOTS = {1: "published", 2: "published", 3: "failed", 4: "published", 5: "published"}
# (snapshot, customer, dimension, label, score, since)
ROWS = [
    # C1 tier: the same in every published snapshot -> one version
    *[(s, "C1", "tier", "A", None, D1) for s in (1, 2, 4, 5)],
    (3, "C1", "tier", "Z", None, D1),
    # C1 churn: the score changes at 2 -> two versions
    (1, "C1", "churn", "low", 0.1, D1),
    *[(s, "C1", "churn", "low", 0.2, D1) for s in (2, 4, 5)],
    # C2 tier: missing from snapshot 2 -> two versions
    (1, "C2", "tier", "B", 3.0, D1),
    *[(s, "C2", "tier", "B", 3.0, D1) for s in (4, 5)],
    # C2 churn: since changes at 4
    *[(s, "C2", "churn", "low", None, D1) for s in (1, 2)],
    *[(s, "C2", "churn", "low", None, D2) for s in (4, 5)],
    # C3 tier: gone from 4 on -> a closed version
    *[(s, "C3", "tier", "C", None, D1) for s in (1, 2)],
]


def _seed(conn: sa.Connection) -> dict[str, int]:
    pks = {}
    for cid in ("C1", "C2", "C3"):
        pks[cid] = conn.execute(
            sa.text(
                "INSERT INTO customers (customer_id, row_hash, inserted_at, updated_at) "
                "VALUES (:c, :h, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {"c": cid, "h": "0" * 32},
        ).scalar_one()
    for sid, state in SNAPSHOTS.items():
        conn.execute(
            sa.text(
                "INSERT INTO snapshots (id, as_of, scheme_version, scheme_hash, engine, state, "
                "customers, created_at) VALUES (:i, :d, 0, 'h', 'duckdb', :s, 3, "
                "CURRENT_TIMESTAMP)"
            ),
            {"i": sid, "d": date(2026, 1, sid), "s": state},
        )
    for sid, cid, dim, label, score, since in ROWS:
        conn.execute(
            sa.text(
                "INSERT INTO labels (snapshot_id, dimension, customer_pk, label, score, source, "
                "since) VALUES (:s, :d, :c, :l, :x, 'rule', :t)"
            ),
            {"s": sid, "d": dim, "c": pks[cid], "l": label, "x": score, "t": since},
        )
    return pks


def _expected(snapshot_id: int) -> set[tuple[str, str, str, float | None, date]]:
    return {(c, d, lab, x, t) for s, c, d, lab, x, t in ROWS if s == snapshot_id}


def _read(conn: sa.Connection, snapshot_id: int) -> set[tuple[str, str, str, float | None, date]]:
    lab, cus = tables.labels, tables.customers
    q = (
        sa.select(cus.c.customer_id, lab.c.dimension, lab.c.label, lab.c.score, lab.c.since)
        .join(cus, cus.c.id == lab.c.customer_pk)
        .where(labels_at(conn, snapshot_id))
    )
    return {tuple(r) for r in conn.execute(q)}  # type: ignore[misc]


def test_migration_collapses_snapshots_into_versions_and_back(fresh_db_url: str) -> None:
    engine = create_engine(fresh_db_url)
    try:
        upgrade(engine, "0007_fact_provenance")
        with engine.begin() as conn:
            _seed(conn)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            for sid, state in SNAPSHOTS.items():
                if state == "published":
                    assert _read(conn, sid) == _expected(sid), sid
            versions = conn.execute(
                sa.select(
                    tables.customers.c.customer_id,
                    tables.labels.c.dimension,
                    tables.labels.c.from_snapshot_id,
                    tables.labels.c.to_snapshot_id,
                )
                .join(tables.customers, tables.customers.c.id == tables.labels.c.customer_pk)
                .order_by(sa.text("1, 2, 3"))
            ).all()
        assert [tuple(v) for v in versions] == [
            ("C1", "churn", 1, 2),
            ("C1", "churn", 2, None),
            ("C1", "tier", 1, None),
            ("C2", "churn", 1, 4),
            ("C2", "churn", 4, None),
            ("C2", "tier", 1, 2),
            ("C2", "tier", 4, None),
            ("C3", "tier", 1, 4),
        ]
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0007_fact_provenance")
        with engine.connect() as conn:
            back = conn.execute(
                sa.text(
                    "SELECT l.snapshot_id, c.customer_id, l.dimension, l.label, l.score, l.since "
                    "FROM labels l JOIN customers c ON c.id = l.customer_pk"
                )
            ).all()
        published = [r for r in ROWS if SNAPSHOTS[r[0]] == "published"]
        as_dates = {
            (s, c, d, lab, x, t if isinstance(t, date) else date.fromisoformat(t))
            for s, c, d, lab, x, t in back
        }
        assert as_dates == set(published)
    finally:
        engine.dispose()


def _frame(rows: list[tuple[int, str, str, float | None]], **extra: object) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema={"customer_pk": pl.Int64, "dimension": pl.String, "label": pl.String,
                "score": pl.Float64},
        orient="row",
    )  # fmt: skip
    return frame.with_columns(
        pl.lit("rule").alias("source"),
        pl.lit(D1).alias("since"),
        *[pl.lit(v).alias(k) for k, v in extra.items()],
    )


def test_only_changed_rows_are_written_and_ended() -> None:
    stored = _frame(
        [(1, "tier", "A", None), (2, "tier", "B", 0.5), (3, "tier", "C", None)],
        from_snapshot_id=7,
    ).cast({"from_snapshot_id": pl.Int64})
    new = _frame([(1, "tier", "A", None), (2, "tier", "B", 0.6), (4, "tier", "D", None)])
    added, ended = changed(stored, new)
    # 1 unchanged (NULL score equal to NULL); 2 re-scored; 3 gone; 4 new
    assert added.select("customer_pk", "score").rows() == [(2, 0.6), (4, None)]
    assert ended.rows() == [(2, "tier", 7), (3, "tier", 7)]
    assert changed(stored, stored.drop("from_snapshot_id"))[0].height == 0
