"""A classification against the store, end to end (issue 3): what `tierwise classify` costs a user
of the embedded default, and how much of it is the store write.

`bench_classify` times the engine run on a ready analytic copy; this one times the whole of
``classify_store``: sync of the analytic copy, the prior labels, the run, features.parquet, the
labels and changes written into the store, the act stage. The store is the web benchmark's
(the demo data set imported through the real path and classified once, cached in
``bench/out/data/web-v1-seed42-<N>/``); each run works on a fresh copy of it, so runs compare.

Two re-classifications on that copy, one after the other:

- *same day*: as of the store's first classification (few labels change);
- *a month later*: 30 days after it (many labels change).

    .venv/bin/python bench/bench_store.py --customers 100000
    .venv/bin/python bench/run.py --only store --quick
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_CUSTOMERS = 100_000
QUICK_CUSTOMERS = 3_000


def _web() -> Any:
    sys.path.insert(0, str(BENCH_DIR))
    import bench_web

    return bench_web


def _classify(data_dir: Path, as_of: date) -> dict[str, Any]:
    import sqlalchemy as sa

    from tierwise import pipeline
    from tierwise.classify import classify_store
    from tierwise.settings import Settings
    from tierwise.store.labelset import labels_at

    settings = Settings(data_dir=data_dir, mode="dev")
    store = pipeline.open_store(settings)
    try:
        started = time.monotonic()
        out = classify_store(settings, store, as_of=as_of, actor="bench")
        seconds = time.monotonic() - started
        with store.connect() as conn:
            stored = conn.execute(
                sa.select(sa.func.count()).where(labels_at(conn, out["snapshot_id"]))
            ).scalar_one()
    finally:
        store.dispose()
    timings = out["timings"]
    expected = sum(sum(counts.values()) for counts in out["dimensions"].values())
    engine = sum(timings.get(k, 0.0) for k in ("features", "models", "ranks", "labels", "settle"))
    write = float(timings.get("write", 0.0))
    return {
        "customers": out["customers"],
        "label_rows": int(stored),
        "label_rows_expected": expected,
        "changes": out["changes"],
        "rows_written": out["label_rows_written"],
        "seconds": round(seconds, 2),
        "sync_s": round(float(timings.get("sync", 0.0)), 2),
        "engine_s": round(engine, 2),
        "write_s": round(write, 2),
        "write_share": round(write / seconds, 2) if seconds else None,
        "written_per_s": round(out["label_rows_written"] / write) if write else None,
        "timings": timings,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(getattr(args, "out", BENCH_DIR / "out"))
    quick = bool(getattr(args, "quick", False))
    customers = int(
        getattr(args, "customers", None) or (QUICK_CUSTOMERS if quick else DEFAULT_CUSTOMERS)
    )
    web = _web()
    source = out / "data" / f"{web.DATA_VERSION}-seed{web.SEED}-{customers}"
    info = web.build(source, customers)
    work = out / "store-work" / str(customers)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source / "data", work)

    from tierwise import pipeline
    from tierwise.classify._store import latest_snapshot
    from tierwise.settings import Settings

    store = pipeline.open_store(Settings(data_dir=work, mode="dev"))
    try:
        with store.connect() as conn:
            first = latest_snapshot(conn)
    finally:
        store.dispose()
    assert first is not None, "the cached store has no published snapshot"
    rows = []
    for name, as_of in (("same day", first.as_of), ("a month later", first.as_of + timedelta(30))):
        rows.append({"run": name, "as_of": as_of.isoformat(), **_classify(work, as_of)})
    ok = all(r["label_rows"] == r["label_rows_expected"] for r in rows)
    notes = [
        f"store: {customers:,} demo customers (web benchmark data set), SQLite, a fresh copy",
        f"its first classification (when built): {info.get('classify_timings')}",
        "engine_s = features + models + ranks + labels + settle; write_s = labels, changes and "
        "approvals written into the store and the snapshot published (one transaction)",
    ]
    notes += [
        f"{r['run']}: {r['label_rows']} label rows stored, {r['label_rows_expected']} classified"
        for r in rows
        if r["label_rows"] != r["label_rows_expected"]
    ]
    shutil.rmtree(work, ignore_errors=True)
    table = [
        {k: v for k, v in r.items() if k not in ("timings", "label_rows_expected")} for r in rows
    ]
    return {"rows": table, "runs": rows, "notes": notes, "ok": ok}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--customers", type=int, help=f"demo customers (default {DEFAULT_CUSTOMERS:,})")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_CUSTOMERS:,} customers")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="results and caches")
    args = p.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    sys.path.insert(0, str(BENCH_DIR))
    from run import report

    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = run(args)
    report("store", result, args.out, stamp)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
