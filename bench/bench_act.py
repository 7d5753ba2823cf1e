"""Act benchmark (issue 6): follow-up task generation (`tierwise.act.plan`) right after a
classification, for 100,000 and 1,000,000 customers, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_act.py                               # 100k and 1M, both stores
    .venv/bin/python bench/bench_act.py --customers 100000 --db sqlite
    .venv/bin/python bench/run.py --only act [--quick] [--db sqlite]  # 100k and --rows (1M)

The store is built straight into the tables (the act stage reads only the latest published
snapshot's labels and changes, the owners and the contacts): customers, 20 reps owning 70 % of
them, ~2 interactions per customer (four in five a contact: call, visit, email, WeChat), and a
published snapshot of the default scheme's value tiers (A 5 %, B 20 %, C 35 %, D 40 %). Then,
each in its own transaction, timed:

1. ``plan`` after the first classification: one follow-up per customer of A, B and C;
   then an owner for every unowned customer of the dedicated tier A (reps' caps set high);
2. ``plan`` again (the schedule's next run): nothing new, what every cron run pays;
3. a second snapshot where 10 % of the customers changed tier, and ``plan``: open follow-ups
   re-dated by the new cadence or cancelled, owners told, the new ones created.

The reference point of the same run is a plain ``INSERT … SELECT`` of the same number of rows
into a table shaped like ``tasks`` without keys or look-ups: ``vs_floor`` is plan ÷ floor.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SIZES = (100_000, 1_000_000)
QUICK = 20_000
SEED = 42
REPS = 20
AS_OF = date(2026, 11, 30)
NOW = datetime(2026, 12, 1, 8, 0)
TIERS = (("A", 0.05), ("B", 0.20), ("C", 0.35), ("D", 0.40))
KINDS = ("call", "call", "visit", "email", "wechat", "web_visit")  # web visits are no contact
CHANGED = 0.10


def _src() -> None:
    src = str(BENCH_DIR.parent / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


# --- the store ------------------------------------------------------------------------------


def _tiers(n: int, rng: Any) -> Any:
    import numpy as np

    cuts = np.cumsum([share for _, share in TIERS])
    draw = rng.random(n)
    return np.array([t for t, _ in TIERS])[np.searchsorted(cuts, draw, side="right").clip(0, 3)]


def _rows(
    conn: Any, kind: str, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Bulk load: sqlite3 ``executemany``, PostgreSQL ``COPY`` (how the import path loads)."""
    raw = conn.connection.dbapi_connection
    if kind == "sqlite":
        marks = ", ".join("?" for _ in columns)
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        raw.executemany(insert, rows)
        return
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build(engine: Any, kind: str, n: int) -> dict[str, Any]:
    """Customers, reps, owners, contacts and the first published snapshot; counts of each."""
    import numpy as np
    import sqlalchemy as sa

    rng = np.random.default_rng(SEED)
    stamp = datetime(2026, 11, 30)
    tiers = _tiers(n, rng)
    provinces = ["浙江", "广东", "江苏", "上海", "北京", "四川", "山东", "湖北"]
    with engine.begin() as conn:
        _rows(conn, kind, "users", ["username", "password_hash", "role", "is_active", "created_at"],
              [(f"rep{i:02d}", "-", "rep", True, stamp) for i in range(REPS)])  # fmt: skip
        first_rep = int(conn.scalar(sa.text("SELECT min(id) FROM users")))
        _rows(conn, kind, "customers",
              ["id", "customer_id", "name", "province", "row_hash", "inserted_at", "updated_at"],
              ((i, f"C{i:08d}", f"客户 {i}", provinces[i % 8], "0" * 32, stamp, stamp)
               for i in range(1, n + 1)))  # fmt: skip
        owned = np.flatnonzero(rng.random(n) < 0.7) + 1
        _rows(conn, kind, "customer_owners",
              ["customer_pk", "user_id", "assigned_at", "assigned_by"],
              ((int(pk), first_rep + int(pk) % REPS, stamp, "bench") for pk in owned))  # fmt: skip
        # caps no rep reaches: every unowned A customer gets a dedicated owner
        _rows(conn, kind, "rep_caps", ["user_id", "max_customers", "updated_at", "updated_by"],
              [(first_rep + i, n, stamp, "bench") for i in range(REPS)])  # fmt: skip
        per = rng.poisson(2.0, n)
        pks = np.repeat(np.arange(1, n + 1), per)
        ago = rng.uniform(0, 180 * 86400, pks.size).astype(np.int64)
        kinds = rng.integers(0, len(KINDS), pks.size)
        base = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 18)
        _rows(conn, kind, "interactions",
              ["interaction_id", "customer_pk", "customer_id", "occurred_at", "kind", "row_hash",
               "inserted_at", "updated_at"],
              ((f"I{j}", int(pk), f"C{int(pk):08d}", base - timedelta(seconds=int(s)),
                KINDS[int(k)], "0" * 32, stamp, stamp)
               for j, (pk, s, k) in enumerate(zip(pks, ago, kinds, strict=True))))  # fmt: skip
        sid = _snapshot(conn, kind, tiers, previous=None)
    _analyze(engine, kind)
    unowned_a = int((tiers == "A").sum() - (tiers[owned - 1] == "A").sum())
    return {"tiers": tiers, "owned": int(owned.size), "interactions": int(pks.size), "sid": sid,
            "unowned_a": unowned_a}  # fmt: skip


def _snapshot(conn: Any, kind: str, tiers: Any, *, previous: Any) -> int:
    """A published snapshot of value tiers, with its label changes (all "new" the first time)."""
    import sqlalchemy as sa

    sid = int(conn.scalar(sa.text(
        "INSERT INTO snapshots (as_of, scheme_version, scheme_hash, engine, state, customers, "
        "created_at, published_at) VALUES (:d, 0, :h, 'duckdb', 'published', :n, :t, :t) "
        "RETURNING id"), {"d": AS_OF, "h": "0" * 64, "n": len(tiers), "t": NOW}))  # fmt: skip
    _rows(conn, kind, "labels", ["snapshot_id", "dimension", "customer_pk", "label", "source",
                                 "since"],
          ((sid, "value_tier", i + 1, str(t), "rule", AS_OF) for i, t in enumerate(tiers)))  # fmt: skip
    order = {t: i for i, (t, _) in enumerate(TIERS)}

    def changes() -> Iterator[tuple[Any, ...]]:
        for i, t in enumerate(tiers):
            old = None if previous is None else str(previous[i])
            if old == t:
                continue
            how = "new" if old is None else "upgrade" if order[str(t)] < order[old] else "downgrade"
            yield (sid, i + 1, "value_tier", AS_OF, old, str(t), how, "rule", 0)

    _rows(conn, kind, "label_changes", ["snapshot_id", "customer_pk", "dimension", "as_of",
                                        "old_label", "new_label", "kind", "source",
                                        "scheme_version"], changes())  # fmt: skip
    return sid


def _analyze(engine: Any, kind: str) -> None:
    """PostgreSQL: the statistics autovacuum would gather after a bulk load; SQLite: none
    (Tierwise never runs ANALYZE there, so neither does the benchmark)."""
    import sqlalchemy as sa

    if kind == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


# --- the measurements -----------------------------------------------------------------------


def _timed(engine: Any, call: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    with engine.begin() as conn:
        result = call(conn)
    return time.perf_counter() - t0, result


def _floor(engine: Any, rows: int) -> float:
    """Reference: ``rows`` plain rows inserted by one ``INSERT … SELECT`` from the labels into
    a keyless table shaped like ``tasks`` (what any set-based generation must pay)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE bench_floor (customer_pk BIGINT, user_id BIGINT, kind VARCHAR(16), "
            "status VARCHAR(16), due_at TIMESTAMP, channel VARCHAR(16), reason_key VARCHAR(64), "
            "dedupe_key VARCHAR(200))"))  # fmt: skip
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO bench_floor SELECT customer_pk, NULL, 'follow_up', 'open', :t, 'call', "
            "'task.cadence', 'follow_up:' || CAST(customer_pk AS VARCHAR(20)) FROM labels "
            "WHERE label IN ('A', 'B', 'C') AND to_snapshot_id IS NULL ORDER BY customer_pk LIMIT :n"), {"t": NOW, "n": rows})  # fmt: skip
    seconds = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE bench_floor"))
    return seconds


def measure(url: str, kind: str, n: int) -> list[dict[str, Any]]:
    """Build the store at ``url`` with ``n`` customers and time the three plans."""
    import numpy as np
    import sqlalchemy as sa

    from tierwise.act import plan
    from tierwise.act._assign import assign_dedicated
    from tierwise.store import create_engine, upgrade

    engine = create_engine(url)
    try:
        upgrade(engine)
        t0 = time.perf_counter()
        built = build(engine, kind, n)
        build_s = time.perf_counter() - t0
        tiers = built["tiers"]
        proactive = int(np.isin(tiers, ["A", "B", "C"]).sum())
        rows: list[dict[str, Any]] = []
        db = "SQLite" if kind == "sqlite" else "PostgreSQL"

        def row(step: str, seconds: float, result: Any, ok: bool, **extra: Any) -> None:
            rows.append({"db": db, "customers": n, "step": step, "seconds": round(seconds, 3),
                         **result.as_dict(), **extra, "ok": ok})  # fmt: skip

        s1, r1 = _timed(engine, lambda c: plan(c, now=NOW))
        floor = _floor(engine, r1.created)
        row("plan after a classification", s1, r1, r1.created == proactive,
            floor_s=round(floor, 3), vs_floor=round(s1 / floor, 1) if floor else None)  # fmt: skip
        s_own, r_own = _timed(engine, lambda c: assign_dedicated(c, now=NOW))
        rows.append({"db": db, "customers": n, "step": "dedicated owners after a classification",
                     "seconds": round(s_own, 3), "assigned": r_own["assigned"],
                     "unowned": r_own["unowned"],
                     "ok": r_own["assigned"] == built["unowned_a"] and not r_own["unowned"]})  # fmt: skip
        s2, r2 = _timed(engine, lambda c: plan(c, now=NOW + timedelta(minutes=5)))
        row("plan again (schedule)", s2, r2, r2.created == 0 and r2.replanned == 0)
        rng = np.random.default_rng(SEED + 1)
        moved = tiers.copy()
        pick = rng.random(n) < CHANGED
        moved[pick] = _tiers(int(pick.sum()), rng)
        with engine.begin() as conn:
            _snapshot(conn, kind, moved, previous=tiers)
        _analyze(engine, kind)
        s3, r3 = _timed(engine, lambda c: plan(c, now=NOW + timedelta(days=1)))
        with engine.connect() as conn:
            open_now = int(conn.scalar(sa.text(
                "SELECT count(*) FROM tasks WHERE kind = 'follow_up' AND status = 'open'")))  # fmt: skip
        expected = int(np.isin(moved, ["A", "B", "C"]).sum())
        row("plan after a reclassification (10 % moved)", s3, r3, open_now == expected,
            changed=int((moved != tiers).sum()))  # fmt: skip
        for r in rows:
            r["build_s"] = round(build_s, 1)
            r["interactions"] = built["interactions"]
        return rows
    finally:
        engine.dispose()


# --- databases ------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _pg_url(admin_url: str, name: str) -> str:
    import sqlalchemy as sa

    return (
        sa.make_url(admin_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def _on(kind: str, admin_url: str, n: int) -> list[dict[str, Any]]:
    import psycopg

    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="tw-bench-act-"))
        try:
            return measure(f"sqlite:///{folder / 'tierwise.db'}", "sqlite", n)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    name = f"tw_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        return measure(_pg_url(admin_url, name), "postgresql", n)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace) -> dict[str, Any]:
    _src()
    quick = bool(getattr(args, "quick", False))
    given = getattr(args, "customers", None)
    if given:
        sizes = [int(given)]
    elif quick:
        sizes = [QUICK]
    else:  # through run.py: 100k and --rows (default 1M)
        top = int(getattr(args, "rows", None) or SIZES[-1])
        sizes = sorted({min(SIZES[0], top), top})
    db = getattr(args, "db", "all")
    kinds = ["sqlite", "postgresql"] if db == "all" else ["postgresql" if db == "postgres" else db]
    admin = getattr(args, "pg_url", None) or "postgresql://postgres@127.0.0.1:5432/postgres"
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for kind in kinds:
            rows += _on(kind, admin, n)
            print(f"  {kind} {n:,}: done", flush=True)
    ok = all(r["ok"] for r in rows)
    notes = [
        f"store built straight into the tables (seed {SEED}): {REPS} reps owning 70 % of the "
        "customers, ~2 interactions each (1 in 6 a web visit, not a contact), tiers A 5 %, "
        "B 20 %, C 35 %, D 40 %; build_s is that load, not part of any step",
        "each step is one transaction around tierwise.act.plan (replan, then generate); "
        "vs_floor = plan ÷ a plain INSERT … SELECT of as many rows (same run)",
        "PostgreSQL is ANALYZEd after each load (what autovacuum does soon after); SQLite is not "
        "(Tierwise never runs ANALYZE)",
    ]
    return {"rows": rows, "notes": notes, "ok": ok}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--customers", type=int, help="one size (default 100,000 and 1,000,000)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK:,} customers")
    p.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="where results go")
    args = p.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR))
    from run import report

    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = run(args)
    report("act", result, args.out, stamp)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
