"""DuckDB's columnar copy of the store's fact tables, kept in step incrementally.

Reading ten million rows out of SQLite costs more than the whole classification, so the embedded
default reads them once into ``DATA_DIR/analytics.duckdb`` and afterwards only the rows whose
``updated_at`` moved since the last sync (upserted by store ``id``). A count check after each
table catches deletions and rows committed late; any mismatch is repaired by comparing ids, and
``rebuild`` starts over from the store at any time; a table whose columns are not the analytic
schema's (a column added by a newer version) is copied afresh by the next sync.

Rows committed by a writer that took its timestamp before our last sync but committed after it
would fall behind the watermark. Imports are the long writers and each is a running job, so the
sync re-reads from the start of the oldest job that was running at the last sync, and otherwise
``WATERMARK_MARGIN`` (short transactions) before the watermark; upserts by id make the overlap
harmless.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from tierwise.engine._rollup import has_order_days, redo_order_days, store_order_days
from tierwise.engine._schema import ANALYTIC, STORE_SOURCE
from tierwise.store.tables import utcnow

WATERMARK_MARGIN: Final = timedelta(seconds=2)
READ_BATCH: Final = 200_000


def _array(values: tuple[Any, ...]) -> pa.Array:
    """One column of a batch; an all-NULL column stays untyped (DuckDB casts it)."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python types in a messy column
        return pa.array([None if v is None else str(v) for v in values], pa.string())


@dataclass
class SyncReport:
    """What one sync copied, per table."""

    rebuilt: bool = False
    read: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rebuilt": self.rebuilt,
            "read": self.read,
            "deleted": self.deleted,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
        }


def _select(table: str) -> str:
    return ", ".join(f'"{STORE_SOURCE.get((table, c), c)}" AS "{c}"' for c, _ in ANALYTIC[table])


def _touch(db: duckdb.DuckDBPyConnection, select: str) -> None:
    """Remember customers whose ``order_days`` a sync must redo (``_touched``, temporary)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS _touched (customer_pk BIGINT)")
    db.execute(f"INSERT INTO _touched {select}")


def _refresh_order_days(db: duckdb.DuckDBPyConnection, *, everything: bool) -> None:
    """Bring ``order_days`` in step with the order lines just synced.

    Rebuilt after a fresh copy of the lines (or when it is missing or of an older version),
    else redone for the customers whose lines were added, changed or deleted: an incremental
    sync stays incremental.
    """
    touched = db.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = '_touched'"
    ).fetchone()
    if everything or not has_order_days(db):
        store_order_days(db)
    elif touched and touched[0]:
        redo_order_days(db)
    db.execute("DROP TABLE IF EXISTS _touched")


class AnalyticCopy:
    """The DuckDB file next to the store, holding the analytic schema's tables."""

    def __init__(self, path: Path, store: sa.Engine) -> None:
        self.path, self.store = path, store

    def connect(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path))

    # -- reading the store ----------------------------------------------------------------
    def _read(
        self,
        table: str,
        *,
        since: datetime | None = None,
        strict: bool = False,
        ids: list[int] | None = None,
    ) -> Iterator[pa.Table]:
        """Analytic columns of ``table`` in batches: all rows, rows updated since, or ids.

        Read through the store's own driver: a second SQLite library in the process (ADBC's,
        say) would share the database file but not its POSIX locks, and corrupt WAL state.
        """
        sqlite = self.store.dialect.name == "sqlite"
        where, params = "", {}
        if since is not None:
            where = f"WHERE updated_at {'>' if strict else '>='} :since"
            params = {"since": since.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else since}
        elif ids is not None:
            where = f"WHERE id IN ({', '.join(str(int(i)) for i in ids)})"
        sql = f'SELECT {_select(table)} FROM "{table}" {where}'  # noqa: S608 - names from ANALYTIC
        names = [c for c, _ in ANALYTIC[table]]
        with self.store.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(sa.text(sql), params)
            while rows := result.fetchmany(READ_BATCH):
                columns = list(zip(*rows, strict=True))
                yield pa.table({n: _array(columns[i]) for i, n in enumerate(names)})

    def _store_state(self, table: str) -> tuple[int, datetime | None]:
        with self.store.connect() as conn:
            row = conn.execute(sa.text(f'SELECT count(*), max(updated_at) FROM "{table}"')).one()  # noqa: S608
        top = row[1]
        if isinstance(top, str):
            top = datetime.fromisoformat(top)
        return int(row[0]), top

    # -- writing the copy -----------------------------------------------------------------
    def _create(self, db: duckdb.DuckDBPyConnection, table: str) -> None:
        cols = ", ".join(f'"{c}" {t}' for c, t in ANALYTIC[table])
        db.execute(f'CREATE OR REPLACE TABLE "{table}" ({cols})')

    def _upsert(
        self,
        db: duckdb.DuckDBPyConnection,
        table: str,
        batches: Iterator[pa.Table],
        replace_ids: bool,
    ) -> int:
        """Write each batch into the copy (after deleting its ids if asked); rows written."""
        total = 0
        for data in batches:
            self._upsert_one(db, table, data, replace_ids)
            total += data.num_rows
        return total

    def _upsert_one(
        self, db: duckdb.DuckDBPyConnection, table: str, data: pa.Table, replace_ids: bool
    ) -> None:
        casts = ", ".join(
            f'CAST("{c}" AS {t}) AS "{c}"' if t in ("DATE", "TIMESTAMP") else f'"{c}"::{t} AS "{c}"'
            for c, t in ANALYTIC[table]
        )
        db.register("_incoming", data)
        try:
            if replace_ids and table == "orders":  # a fresh copy rebuilds order_days whole
                # these customers' days (old rows and new) are redone after the sync
                _touch(db, "SELECT CAST(customer_pk AS BIGINT) FROM _incoming")
                _touch(
                    db,
                    f'SELECT customer_pk FROM "{table}" '  # noqa: S608
                    "WHERE id IN (SELECT id FROM _incoming)",
                )
            if replace_ids:
                db.execute(f'DELETE FROM "{table}" WHERE id IN (SELECT id FROM _incoming)')  # noqa: S608
            db.execute(f'INSERT INTO "{table}" SELECT {casts} FROM _incoming')  # noqa: S608
        finally:
            db.unregister("_incoming")

    def sync(self, *, rebuild: bool = False) -> SyncReport:
        """Bring every analytic table up to date with the store; return what was read."""
        started = time.monotonic()
        report = SyncReport(rebuilt=rebuild)
        with self.connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS _sync (tbl VARCHAR PRIMARY KEY, "
                "watermark TIMESTAMP, store_url VARCHAR, in_flight TIMESTAMP, synced_at TIMESTAMP)"
            )
            in_flight = self._oldest_running_job()
            synced_at = utcnow()
            url = self.store.url.render_as_string(hide_password=True)
            for table in ANALYTIC:
                state = db.execute(
                    "SELECT watermark, store_url, in_flight, synced_at FROM _sync WHERE tbl = ?",
                    [table],
                ).fetchone()
                fresh = rebuild or state is None or state[1] != url or not self._current(db, table)
                count, top = self._store_state(table)
                db.execute("BEGIN")
                if fresh:
                    self._create(db, table)
                    read = self._upsert(db, table, self._read(table), replace_ids=False)
                    report.rebuilt = report.rebuilt or state is not None
                else:
                    assert state is not None
                    mark, read = state[0], 0
                    if top is not None and (mark is None or top > mark):
                        since, strict = self._since(mark, state[2], state[3])
                        read = self._upsert(
                            db,
                            table,
                            self._read(table, since=since, strict=strict),
                            replace_ids=True,
                        )
                report.read[table] = read
                report.deleted[table] = self._reconcile(db, table, count)
                if table == "orders":
                    _refresh_order_days(db, everything=fresh)
                db.execute(
                    "INSERT OR REPLACE INTO _sync VALUES (?, ?, ?, ?, ?)",
                    [table, top, url, in_flight, synced_at],
                )
                db.execute("COMMIT")
                report.rows[table] = count
        report.seconds = time.monotonic() - started
        return report

    @staticmethod
    def _since(
        mark: datetime | None, in_flight: datetime | None, synced_at: datetime | None
    ) -> tuple[datetime, bool]:
        """Where to read from, and whether strictly after it.

        Strictly after the watermark when the last sync saw no writer that could still commit
        older rows: no running job, and the watermark older than the margin at sync time.
        """
        if mark is None:
            return datetime.min, False
        if in_flight is None and synced_at is not None and synced_at - mark > WATERMARK_MARGIN:
            return mark, True
        since = mark - WATERMARK_MARGIN
        if in_flight is not None:
            since = min(since, in_flight - WATERMARK_MARGIN)
        return since, False

    def _oldest_running_job(self) -> datetime | None:
        with self.store.connect() as conn:
            value = conn.execute(
                sa.text(
                    "SELECT min(coalesce(started_at, created_at)) FROM jobs WHERE state = 'running'"
                )
            ).scalar()
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if isinstance(value, datetime) else None

    def _current(self, db: duckdb.DuckDBPyConnection, table: str) -> bool:
        """The copy holds ``table`` with this version's columns: a column added to the analytic
        schema (orders' ``discount``) makes the next sync copy that table afresh."""
        found = db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return tuple(r[0] for r in found) == tuple(c for c, _ in ANALYTIC[table])

    def _reconcile(self, db: duckdb.DuckDBPyConnection, table: str, store_count: int) -> int:
        """Repair the copy if its row count disagrees with the store; return rows deleted."""
        got = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
        if got is not None and got[0] == store_count:
            return 0
        with self.store.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text(f'SELECT id FROM "{table}"'))]  # noqa: S608
        db.register("_ids", pa.table({"id": pa.array(ids, pa.int64())}))
        try:
            if table == "orders":
                _touch(
                    db,
                    f'SELECT customer_pk FROM "{table}" '  # noqa: S608
                    "WHERE id NOT IN (SELECT id FROM _ids)",
                )
            gone = db.execute(
                f'SELECT count(*) FROM "{table}" WHERE id NOT IN '  # noqa: S608
                "(SELECT id FROM _ids)"
            ).fetchone()
            db.execute(f'DELETE FROM "{table}" WHERE id NOT IN (SELECT id FROM _ids)')  # noqa: S608
            missing = [
                r[0]
                for r in db.execute(
                    f'SELECT id FROM _ids WHERE id NOT IN (SELECT id FROM "{table}")'  # noqa: S608 - names from ANALYTIC
                ).fetchall()
            ]
        finally:
            db.unregister("_ids")
        for start in range(0, len(missing), 10_000):
            chunk = missing[start : start + 10_000]
            self._upsert(db, table, self._read(table, ids=chunk), replace_ids=True)
        return int(gone[0]) if gone else 0


__all__ = ["WATERMARK_MARGIN", "AnalyticCopy", "SyncReport"]
