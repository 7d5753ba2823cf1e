"""Import benchmark: a messy orders CSV through the real import path, SQLite and PostgreSQL.

The data comes from the project's demo generator (``tierwise.demo.generate``), cut to exactly
``--rows`` order lines and roughened the way real exports are (currency signs and thousands
separators, ``2024/3/1`` and ``2024年3月1日`` dates, padded ids, full-width digits, blank
statuses, exact duplicate lines, a few bad amounts and dates that must be rejected). It is
generated once per size and cached under ``bench/out/data/``.

Every import runs in its own child process (``python bench_import.py --child SPEC``) so that its
peak memory is that process's RSS high-water mark (``VmHWM`` in ``/proc/self/status``). The
customers file is imported first, in its own child, so the orders import finds every customer;
only the orders import is compared with the goal.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

GOAL_ROWS_PER_S = 50_000
GOAL_PEAK_MB = 1024
DATA_VERSION = 1  # bump when the data set changes: the cache is keyed on it
SEED = 42
ORDERS_PER_CUSTOMER = 11.0  # what the demo generator gives, roughly (a little under 12)
CHILD_TIMEOUT_S = 3600


# -- the data set ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    orders: Path
    customers: Path
    rows: int  # data lines of the orders file
    customers_rows: int
    orders_mb: float


def _mess(df: Any) -> Any:
    """Roughen the generator's clean orders export, deterministically, without a row loop."""
    import polars as pl

    i = pl.int_range(pl.len(), dtype=pl.Int64)
    amount, when = pl.col("Amount"), pl.col("Order Date")
    stamp = when.str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S", strict=False)
    thousands = amount.str.replace(r"^(-?[0-9]+)([0-9]{3})\.", "${1},${2}.")
    full = [chr(0xFF10 + d) for d in range(10)]
    df = df.with_columns(
        pl.when(i % 1009 == 3)
        .then(pl.lit("#VALUE!"))  # rejected: bad_number on a critical column
        .when(i % 13 == 1)
        .then(pl.lit("¥") + thousands)
        .when(i % 29 == 2)
        .then(amount + pl.lit("元"))
        .otherwise(amount)
        .alias("Amount"),
        pl.when(i % 1511 == 6)
        .then(pl.lit("2024-02-30 10:00"))  # rejected: bad_date on a required column
        .when(i % 7 == 4)
        .then(stamp.dt.strftime("%Y/%-m/%-d %H:%M"))
        .when(i % 53 == 5)
        .then(stamp.dt.strftime("%Y年%-m月%-d日 %H:%M"))
        .otherwise(when)
        .alias("Order Date"),
        pl.when(i % 17 == 7)
        .then(pl.lit("  ") + pl.col("Customer ID") + pl.lit(" "))
        .otherwise(pl.col("Customer ID"))
        .alias("Customer ID"),
        pl.when(i % 101 == 8)
        .then(pl.col("Quantity").str.replace_many([str(d) for d in range(10)], full))
        .otherwise(pl.col("Quantity"))
        .alias("Quantity"),
        pl.when(i % 23 == 10).then(None).otherwise(pl.col("Status")).alias("Status"),
    )
    # every 499th line repeats the line before it exactly (an export pasted twice)
    dup = (i % 499 == 0) & (i > 0)
    return df.with_columns(
        [pl.when(dup).then(pl.col(c).shift(1)).otherwise(pl.col(c)).alias(c) for c in df.columns]
    )


def dataset(rows: int, out: Path, *, log: Any = print) -> Dataset:
    """The cached data set of ``rows`` order lines (generated on first use)."""
    import polars as pl

    folder = out / "data" / f"import-v{DATA_VERSION}-seed{SEED}-{rows}"
    meta = folder / "meta.json"
    if meta.exists():
        saved = json.loads(meta.read_text(encoding="utf-8"))
        return Dataset(
            orders=folder / "orders.csv",
            customers=folder / "customers.csv",
            rows=saved["rows"],
            customers_rows=saved["customers_rows"],
            orders_mb=saved["orders_mb"],
        )
    from tierwise.demo import generate

    folder.mkdir(parents=True, exist_ok=True)
    customers = max(20, int(rows / ORDERS_PER_CUSTOMER) + 10)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        while True:
            log(f"  generating demo data: {customers:,} customers (for {rows:,} order lines)")
            t0 = time.monotonic()
            summary = generate(customers=customers, out=Path(tmp), seed=SEED, fmt="csv")
            log(f"  generated in {time.monotonic() - t0:.1f} s: {summary.rows['orders']:,} lines")
            if summary.rows["orders"] >= rows:
                break
            customers = int(customers * 1.25 * rows / max(summary.rows["orders"], 1)) + 10
        orders = pl.read_csv(summary.paths["orders"], infer_schema=False).head(rows)
        _mess(orders).write_csv(folder / "orders.csv")
        shutil.copyfile(summary.paths["customers"], folder / "customers.csv")
    result = Dataset(
        orders=folder / "orders.csv",
        customers=folder / "customers.csv",
        rows=orders.height,
        customers_rows=summary.rows["customers"],
        orders_mb=round((folder / "orders.csv").stat().st_size / 2**20, 1),
    )
    saved = {k: v for k, v in asdict(result).items() if not isinstance(v, Path)}
    meta.write_text(json.dumps(saved), encoding="utf-8")  # written last: marks the cache complete
    return result


# -- databases ---------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _pg_database(admin_url: str, name: str) -> str:
    import sqlalchemy as sa

    return (
        sa.make_url(admin_url)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def _pg_create(admin_url: str) -> str:
    import psycopg

    name = f"tw_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _pg_drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- child processes ---------------------------------------------------------------------------


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs in the child process: one step, timed; returns what the parent reports."""
    task = spec["task"]
    if task == "read_csv":  # reference: Polars reads the file (all text), nothing else
        import polars as pl

        t0 = time.perf_counter()
        frame = pl.read_csv(spec["file"], infer_schema=False)
        return {"seconds": time.perf_counter() - t0, "rows": frame.height}
    if task == "raw_load":  # reference: the raw text rows loaded as they are, no validation
        return _raw_load(spec)
    from tierwise.ingest import ImportOptions, import_file
    from tierwise.store import create_engine, upgrade

    engine = create_engine(spec["url"])
    try:
        if spec.get("upgrade"):
            upgrade(engine)
        options = ImportOptions(kind=spec["kind"], batch_size=spec.get("batch_size", 50_000))
        t0 = time.perf_counter()
        report = import_file(Path(spec["file"]), engine=engine, options=options)
        seconds = time.perf_counter() - t0
        import sqlalchemy as sa

        with engine.connect() as conn:
            table = "customers" if spec["kind"] == "customers" else spec["kind"]
            stored: int = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            errors: int = conn.execute(
                sa.text("SELECT count(*) FROM import_errors WHERE batch_id = :b"),
                {"b": report.batch_id},
            ).scalar_one()
    finally:
        engine.dispose()
    data = report.to_dict()
    return {
        "seconds": seconds,
        "stored_rows": int(stored),
        "stored_errors": int(errors),
        "report": {
            k: data.get(k)
            for k in (
                "kind",
                "rows_in",
                "inserted",
                "updated",
                "skipped",
                "skipped_detail",
                "rejected",
                "customers_created",
                "merged",
                "warnings",
                "encoding",
            )
        },
    }


def _raw_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the CSV's text rows into a plain table: SQLite executemany, PostgreSQL COPY."""
    import polars as pl

    t0 = time.perf_counter()
    frame = pl.read_csv(spec["file"], infer_schema=False)
    cols = ", ".join(f"c{i} TEXT" for i in range(frame.width))
    if spec["url"].startswith("sqlite"):
        import sqlite3

        path = spec["url"].removeprefix("sqlite:///")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"CREATE TABLE raw_orders ({cols})")
        conn.execute("BEGIN")
        marks = ", ".join("?" * frame.width)
        for start in range(0, frame.height, 50_000):
            conn.executemany(
                f"INSERT INTO raw_orders VALUES ({marks})",  # noqa: S608
                frame.slice(start, 50_000).rows(),
            )
        conn.execute("COMMIT")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(_libpq(spec["url"])) as pg, pg.cursor() as cur:
            cur.execute(f"CREATE TABLE raw_orders ({cols})")
            with (
                Path(spec["file"]).open("rb") as fh,
                cur.copy("COPY raw_orders FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
    return {"seconds": time.perf_counter() - t0, "rows": frame.height}


def _vm_hwm_mb() -> float | None:
    """This process's peak resident memory (Linux), reset at exec unlike ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _run_child(spec: dict[str, Any]) -> tuple[dict[str, Any], float, float]:
    """Run one step in a fresh interpreter: (its result, its peak RSS in MB, wall seconds)."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False) as fh:
        result_path = Path(fh.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    t0 = time.monotonic()
    env = {**os.environ, "TIERWISE_BENCH_RESULT": str(result_path)}
    proc = subprocess.Popen(cmd, env=env)
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
    except BaseException:
        proc.kill()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    try:
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark step {spec['task']} failed (exit {proc.returncode})")
        result = json.loads(result_path.read_text(encoding="utf-8"))
    finally:
        result_path.unlink(missing_ok=True)
    # ru_maxrss of a vforked child also counts the parent's memory at the fork (Linux carries
    # the old address space's high-water mark over exec), so the child's own VmHWM comes first
    peak_mb = result.get("vm_hwm_mb") or usage.ru_maxrss / 1024  # kilobytes on Linux
    return result, round(peak_mb, 1), wall


# -- the benchmark -----------------------------------------------------------------------------


def _import_row(db: str, what: str, data: dict[str, Any], peak: float, rows: int) -> dict[str, Any]:
    rate = rows / data["seconds"] if data["seconds"] else 0.0
    row: dict[str, Any] = {
        "db": db,
        "step": what,
        "rows": rows,
        "seconds": round(data["seconds"], 2),
        "rows_per_s": round(rate),
        "peak_mb": peak,
    }
    if what == "orders import":
        row["speed_vs_goal"] = round(rate / GOAL_ROWS_PER_S, 2)
        row["memory_vs_goal"] = round(peak / GOAL_PEAK_MB, 2)
    return row


def _check(ds: Dataset, data: dict[str, Any]) -> list[str]:
    """Invariants of the measured import: conservation and rows counted = rows written."""
    r = data["report"]
    problems: list[str] = []
    if r["rows_in"] != ds.rows:
        problems.append(f"rows_in {r['rows_in']:,} != rows written {ds.rows:,}")
    total = r["inserted"] + r["updated"] + r["skipped"] + r["rejected"]
    if total != r["rows_in"]:
        problems.append(f"conservation broken: {total:,} accounted for, {r['rows_in']:,} read")
    if data["stored_rows"] != r["inserted"]:
        problems.append(f"{data['stored_rows']:,} rows stored but {r['inserted']:,} reported")
    if r["rejected"] == 0 or r["skipped"] == 0:
        problems.append("the messy file should give some rejected and some skipped rows")
    return problems


def _databases(args: argparse.Namespace) -> list[str]:
    choice = getattr(args, "db", "all")
    return ["sqlite", "postgres"] if choice == "all" else [choice]


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(getattr(args, "out", Path(__file__).resolve().parent / "out"))
    out.mkdir(parents=True, exist_ok=True)
    pg_admin = getattr(args, "pg_url", "postgresql://postgres@127.0.0.1:5432/postgres")
    reference = not getattr(args, "no_reference", False)
    batch_size = getattr(args, "batch_size", 50_000)
    t0 = time.monotonic()
    ds = dataset(args.rows, out)
    prepared_s = time.monotonic() - t0
    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {}
    notes: list[str] = [
        f"orders.csv: {ds.rows:,} lines, {ds.orders_mb} MB; customers.csv: "
        f"{ds.customers_rows:,} customers (data set ready in {prepared_s:.1f} s)"
    ]
    failures: list[str] = []
    if reference:
        data, peak, _ = _run_child({"task": "read_csv", "file": str(ds.orders)})
        rows.append(
            {
                "db": "-",
                "step": "reference: polars read_csv",
                "rows": data["rows"],
                "seconds": round(data["seconds"], 2),
                "rows_per_s": round(data["rows"] / data["seconds"]),
                "peak_mb": peak,
            }
        )
    for db in _databases(args):
        work = Path(tempfile.mkdtemp(prefix=f"{db}-", dir=out))
        pg_name = _pg_create(pg_admin) if db == "postgres" else None
        try:
            if db == "sqlite":
                url = f"sqlite:///{work / 'tierwise.db'}"
            else:
                assert pg_name is not None
                url = _pg_database(pg_admin, pg_name)
            base = {"url": url, "batch_size": batch_size}
            cust, cust_peak, _ = _run_child(
                {**base, "task": "import", "kind": "customers", "file": str(ds.customers)}
                | {"upgrade": True}
            )
            rows.append(
                _import_row(db, "customers import", cust, cust_peak, cust["report"]["rows_in"])
            )
            orders, peak, wall = _run_child(
                {**base, "task": "import", "kind": "orders", "file": str(ds.orders)}
            )
            rows.append(_import_row(db, "orders import", orders, peak, orders["report"]["rows_in"]))
            if reference:
                raw, raw_peak, _ = _run_child({**base, "task": "raw_load", "file": str(ds.orders)})
                rows.append(
                    {
                        "db": db,
                        "step": "reference: raw load, no validation",
                        "rows": raw["rows"],
                        "seconds": round(raw["seconds"], 2),
                        "rows_per_s": round(raw["rows"] / raw["seconds"]),
                        "peak_mb": raw_peak,
                    }
                )
                orders["raw_load_seconds"] = raw["seconds"]
                notes.append(
                    f"{db}: the orders import takes {orders['seconds'] / raw['seconds']:.1f}x "
                    "the raw load of the same text"
                )
            problems = _check(ds, orders)
            failures += [f"{db}: {p}" for p in problems]
            results[db] = {
                "customers": cust | {"peak_mb": cust_peak},
                "orders": orders | {"peak_mb": peak, "process_seconds": round(wall, 2)},
                "rows_per_s": round(orders["report"]["rows_in"] / orders["seconds"]),
                "peak_mb": peak,
                "speed_vs_goal": round(
                    orders["report"]["rows_in"] / orders["seconds"] / GOAL_ROWS_PER_S, 3
                ),
                "memory_vs_goal": round(peak / GOAL_PEAK_MB, 3),
                "meets_goal": orders["report"]["rows_in"] / orders["seconds"] >= GOAL_ROWS_PER_S
                and peak < GOAL_PEAK_MB,
                "problems": problems,
            }
            r = orders["report"]
            notes.append(
                f"{db}: rows_in {r['rows_in']:,} = inserted {r['inserted']:,} + updated "
                f"{r['updated']:,} + skipped {r['skipped']:,} {r['skipped_detail']} + rejected "
                f"{r['rejected']:,}; {orders['stored_errors']:,} row errors/warnings stored"
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
            if pg_name is not None:
                _pg_drop(pg_admin, pg_name)
    notes.append(
        f"goal: >= {GOAL_ROWS_PER_S:,} rows/s and < {GOAL_PEAK_MB:,} MB peak for the orders "
        "import (speed_vs_goal >= 1, memory_vs_goal < 1)"
    )
    notes += [f"FAILED {f}" for f in failures]
    return {
        "ok": not failures,
        "goal": {"rows_per_s": GOAL_ROWS_PER_S, "peak_mb": GOAL_PEAK_MB},
        "dataset": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(ds).items()},
        "rows": rows,
        "results": results,
        "notes": notes,
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        outcome = _child(json.loads(sys.argv[2]))
        outcome["vm_hwm_mb"] = _vm_hwm_mb()
        Path(os.environ["TIERWISE_BENCH_RESULT"]).write_text(json.dumps(outcome), encoding="utf-8")
    else:  # run this benchmark alone, with bench/run.py's options
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from run import main

        raise SystemExit(main(["--only", "import", *sys.argv[1:]]))
