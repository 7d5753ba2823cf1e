"""A first import into an empty table skips the key lookups of keys it has not written yet:
the outcome must be exactly the one of the full lookups, across batches and rounds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwise.ingest import ImportOptions, _apply, import_file
from tierwise.store import create_engine, tables, upgrade


def _orders_file(path: Path, lines: int, seed: int) -> Path:
    """Orders whose keys repeat within batches and across them, some with changed amounts."""
    rng = random.Random(seed)
    rows = ["order_id,customer_id,ordered_at,amount"]
    for i in range(lines):
        key = i if rng.random() < 0.7 else rng.randrange(max(1, i))  # ~30 % repeat a key
        amount = 10 + key % 7 + (rng.random() < 0.5) * 5  # a repeat is equal or changed
        rows.append(f"O{key},C{key % 13},2024-03-{1 + key % 28:02d},{amount}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _orders(engine: sa.Engine) -> list[tuple[object, ...]]:
    o = tables.metadata.tables["orders"]
    cols = [o.c.order_id, o.c.line_id, o.c.customer_id, o.c.amount, o.c.row_hash, o.c.batch_id]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(*cols).order_by(o.c.order_id))]


def _import_twice(path: Path, db: Path, policy: str) -> tuple[list[dict[str, object]], object]:
    engine = create_engine(f"sqlite:///{db}")
    upgrade(engine)
    try:
        options = ImportOptions(kind="orders", batch_size=100, on_duplicate=policy)  # type: ignore[arg-type]
        reports = []
        for _ in range(2):
            report = import_file(path, engine=engine, options=options).to_dict()
            reports.append({k: v for k, v in report.items() if k not in ("seconds", "job_id")})
        return reports, _orders(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("policy", ["update", "skip", "error"])
def test_first_import_matches_full_lookups(
    tmp_path: Path, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _orders_file(tmp_path / "orders.csv", 450, seed=3)
    fast = _import_twice(path, tmp_path / "fast.db", policy)
    monkeypatch.setattr(_apply.BatchWriter, "_only_ours", lambda self, table: False)
    full = _import_twice(path, tmp_path / "full.db", policy)
    assert fast == full
    assert fast[0][0]["inserted"] and fast[0][1]["inserted"] == 0


def test_lookups_skipped_only_while_the_table_holds_this_imports_rows(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probed: list[int] = []
    real = _apply.lookup

    def spy(conn: sa.Connection, *, table: str, keys: object, **kw: object) -> object:
        if table == "orders":
            probed.append(keys.height)  # type: ignore[attr-defined]
        return real(conn, table=table, keys=keys, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_apply, "lookup", spy)
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,ordered_at,amount\n"
        + "".join(f"O{i},C{i % 5},2024-03-01,{i}\n" for i in range(250)),
        encoding="utf-8",
    )
    options = ImportOptions(kind="orders", batch_size=100)
    first = import_file(path, engine=engine, options=options)
    assert first.inserted == 250 and sum(probed) == 0  # an empty table: nothing to find
    probed.clear()
    second = import_file(path, engine=engine, options=options)
    assert second.inserted == 0 and sum(probed) == 250  # the table has rows: every key probed
