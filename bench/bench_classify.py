"""Classification benchmark: Tierwise's RFM stage and full classification vs a hand-written SQL.

Everything is measured in one run and reported as ratios to the *reference*: a hand-written
DuckDB SQL for RFM (two GROUP BYs, per (customer, day) then per customer, and three NTILE(5)
windows), materialised as a temp table. Measured next to it:

- the *scan floor*: DuckDB reading the order columns RFM needs, nothing else;
- Tierwise's RFM stage, ``tierwise.features.order_features(orders, as_of)`` executed to Arrow;
- Tierwise's full default classification, ``tierwise.classify.run(analytics, default_scheme())``
  (every feature and every dimension, then post-processing), with its own stage timings;
- Polars (lazy scan of the orders Parquet) and pandas (``read_parquet``), the same RFM logic;
- optional peers in ``bench/out/peers-venv``: lifetimes' ``summary_data_from_transaction_data``
  and PyMC-Marketing's ``rfm_summary`` (skipped with a note when the virtualenv is missing);
- Tierwise's peak memory (``VmHWM``) in a child process that runs one classification, reported as
  bytes per input order;
- incremental sync of the DuckDB copy from a SQLite store (``AnalyticCopy.sync``): rows read and
  time of a second sync after adding 1 % new orders, vs the first.

The demo data (``tierwise.demo.generate``, Parquet, seed 42) is generated once per size and
turned into the analytic schema (``tierwise.engine._schema.ANALYTIC``) in a DuckDB file, cached
under ``bench/out/data/classify-v<N>-seed42-<orders>/``. Each DuckDB-side round (scan,
reference, RFM stage, classification) runs in one child process on one connection, interleaved,
``REPEATS`` times; medians are reported. Polars, pandas and each peer run in their own child.

    .venv/bin/python bench/bench_classify.py --quick
    .venv/bin/python bench/bench_classify.py --orders 10000000
"""

# SQL here is built from this module's constants and its own cache paths, never from input
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

DATA_VERSION = 2  # bump when the data set changes: the cache is keyed on it
SEED = 42
AS_OF = date(2026, 10, 31)  # the demo generator's default last day
ORDERS_PER_CUSTOMER = 11.7  # what the demo generator gives at seed 42 (measured)
DEFAULT_ORDERS = 10_000_000
QUICK_ORDERS = 20_000
SYNC_ORDERS = 1_000_000  # store size of the incremental-sync measurement (at most)
REPEATS = 3
CHILD_TIMEOUT_S = 3600
PEER_TIMEOUT_S = 1800
PAID = ("paid", "pending")  # tierwise.features._orders.PAID

#: goals (ARCHITECTURE.md, issue 3), as ratios to the reference SQL of the same run
GOAL_RFM = 1.0
STRETCH_RFM = 0.7
GOAL_CLASSIFY = 1.5
GOAL_BYTES_PER_ORDER = 80

BENCH_DIR = Path(__file__).resolve().parent
PEERS_VENV = BENCH_DIR / "out" / "peers-venv"
#: per-customer columns every RFM implementation writes for the parity checks
RFM_COLUMNS = ("customer_pk", "frequency", "recency", "T", "recency_days", "monetary_total")
CHECKED = ("frequency", "recency", "T", "recency_days", "monetary_total", "monetary_value")


# -- the data set ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    folder: Path
    duckdb: Path  # the analytic tables (ANALYTIC) as DuckDB tables
    orders_parquet: Path  # the analytic orders table as Parquet (Polars, pandas, peers)
    customers: int
    orders: int
    demo_rows: dict[str, int]
    generated_s: float


def customers_for(orders: int) -> int:
    """Demo customers that give about ``orders`` order lines."""
    return max(50, round(orders / ORDERS_PER_CUSTOMER))


def _analytic_sql(demo: Path) -> list[str]:
    """DuckDB SQL turning the demo Parquet files into the analytic schema's tables."""

    def src(kind: str) -> str:
        return f"read_parquet('{demo / (kind + '.parquet')}')"

    import pyarrow.parquet as pq

    # discounts are optional in the canonical orders: NULL when the generator writes none
    has_discount = "discount" in pq.read_schema(demo / "orders.parquet").names
    discount = "o.discount" if has_discount else "NULL"

    return [
        f"""CREATE OR REPLACE TABLE customers AS
        WITH c AS (SELECT *, row_number() OVER (ORDER BY customer_id) AS pk FROM {src("customers")})
        SELECT pk::BIGINT AS id, pk::BIGINT AS customer_pk, customer_id, name, kind, gender,
               birthday::DATE AS birthday, NULL::INTEGER AS age, NULL::VARCHAR AS age_band,
               income_band, industry, company_size, country, province, city, source, owner,
               created_at::TIMESTAMP AS created_at, array_to_string(tags, ',') AS tags
        FROM c ORDER BY pk""",
        f"""CREATE OR REPLACE TABLE orders AS
        SELECT row_number() OVER (ORDER BY o.ordered_at, o.order_id, o.line_id)::BIGINT AS id,
               c.customer_pk, o.order_id, o.ordered_at::TIMESTAMP AS ordered_at,
               o.amount::DOUBLE AS amount, (o.amount - o.cost)::DOUBLE AS gross_profit,
               {discount}::DOUBLE AS discount, o.quantity::DOUBLE AS quantity, o.product_id, o.category, o.channel, o.status
        FROM {src("orders")} o JOIN customers c USING (customer_id)
        ORDER BY id""",
        f"""CREATE OR REPLACE TABLE interactions AS
        SELECT row_number() OVER (ORDER BY i.occurred_at, i.interaction_id)::BIGINT AS id,
               c.customer_pk, i.occurred_at::TIMESTAMP AS occurred_at, i.kind, i.direction,
               i.duration_min::DOUBLE AS duration_min
        FROM {src("interactions")} i JOIN customers c USING (customer_id)
        ORDER BY id""",
        """CREATE OR REPLACE TABLE feedback AS
        SELECT row_number() OVER (ORDER BY f.received_at, f.feedback_id)::BIGINT AS id,
               c.customer_pk, f.received_at::TIMESTAMP AS received_at, f.kind,
               f.score::DOUBLE AS score, f.sentiment::DOUBLE AS sentiment, f.category, f.status,
               f.resolved_at::TIMESTAMP AS resolved_at
        FROM _feedback f JOIN customers c USING (customer_id)
        ORDER BY id""",
        f"""CREATE OR REPLACE TABLE referrals AS
        SELECT row_number() OVER (ORDER BY r.referred_at, r.referrer_id, r.referred_id)::BIGINT
                   AS id,
               a.customer_pk AS referrer_pk, b.customer_pk AS referred_pk,
               r.referred_at::TIMESTAMP AS referred_at, r.converted
        FROM {src("referrals")} r
        JOIN customers a ON a.customer_id = r.referrer_id
        LEFT JOIN customers b ON b.customer_id = r.referred_id
        ORDER BY id""",
        f"""CREATE OR REPLACE TABLE leads AS
        SELECT row_number() OVER (ORDER BY l.created_at, l.lead_id)::BIGINT AS id,
               c.customer_pk, l.created_at::TIMESTAMP AS created_at, l.stage, l.source,
               l.expected_value::DOUBLE AS expected_value,
               array_to_string(l.intent_signals, ',') AS intent_signals,
               array_to_string(l.needs, ',') AS needs, l.decided_at::TIMESTAMP AS decided_at,
               l.outcome
        FROM {src("leads")} l LEFT JOIN customers c USING (customer_id)
        ORDER BY id""",
    ]


def _build_analytics(demo: Path, db_path: Path, parquet: Path) -> None:
    import duckdb
    import polars as pl

    from tierwise.engine._schema import ANALYTIC
    from tierwise.features import sentiment_expr

    # the store computes feedback sentiment at import; do the same, vectorised
    feedback = (
        pl.scan_parquet(demo / "feedback.parquet")
        .with_columns(sentiment_expr(pl.col("text")).alias("sentiment"))
        .drop("text")
        .collect()
        .to_arrow()
    )
    db_path.unlink(missing_ok=True)
    with duckdb.connect(str(db_path)) as db:
        db.register("_feedback", feedback)
        for sql in _analytic_sql(demo):
            db.execute(sql)
        db.unregister("_feedback")
        for table, cols in ANALYTIC.items():  # exactly the analytic schema, in its order
            names = [c for c, _ in cols]
            got = [r[0] for r in db.execute(f"DESCRIBE {table}").fetchall()]
            if got != names:
                raise RuntimeError(f"{table}: columns {got} != analytic schema {names}")
        db.execute(f"COPY (SELECT * FROM orders ORDER BY id) TO '{parquet}' (FORMAT parquet)")
        db.execute("CHECKPOINT")


def rollup_seconds(db_path: Path, *, log: Callable[[str], None] = print) -> float:
    """Build the ``order_days`` rollup in the data set the way the analytic copy does after a
    full sync (``tierwise.engine._rollup.store_order_days``), once; its build time (a one-time
    cost of a fresh copy, not of a classification) is kept next to it."""
    import duckdb

    from tierwise.engine._rollup import has_order_days, store_order_days

    record = db_path.with_name("rollup.json")
    with duckdb.connect(str(db_path)) as db:
        if has_order_days(db) and record.exists():
            return float(json.loads(record.read_text(encoding="utf-8"))["seconds"])
        log("  building the order_days rollup (as the analytic copy does after a full sync)")
        t0 = time.perf_counter()
        store_order_days(db)
        seconds = time.perf_counter() - t0
        db.execute("CHECKPOINT")
    record.write_text(json.dumps({"seconds": round(seconds, 2)}), encoding="utf-8")
    return seconds


def data_folder(orders: int, out: Path) -> Path:
    """Where the data set for about ``orders`` order lines is cached (keyed on its version)."""
    return out / "data" / f"classify-v{DATA_VERSION}-seed{SEED}-{orders}"


def dataset(orders: int, out: Path, *, log: Callable[[str], None] = print) -> Dataset:
    """The cached analytic data set for about ``orders`` order lines (built on first use)."""
    folder = data_folder(orders, out)
    meta = folder / "dataset.json"
    if meta.exists():
        saved = json.loads(meta.read_text(encoding="utf-8"))
        return Dataset(
            folder=folder,
            duckdb=folder / "analytics.duckdb",
            orders_parquet=folder / "orders.parquet",
            customers=saved["customers"],
            orders=saved["orders"],
            demo_rows=saved["demo_rows"],
            generated_s=saved["generated_s"],
        )
    from tierwise.demo import generate

    folder.mkdir(parents=True, exist_ok=True)
    demo = folder / "demo"
    customers = customers_for(orders)
    t0 = time.monotonic()
    if not (demo / "orders.parquet").exists():
        log(f"  generating demo data: {customers:,} customers (for ~{orders:,} orders)")
        summary = generate(customers=customers, out=demo, seed=SEED, fmt="parquet")
        demo_rows = {str(k): int(v) for k, v in summary.rows.items()}
    else:  # generated earlier, analytic tables not built yet
        import polars as pl

        demo_rows = {
            p.stem: int(pl.scan_parquet(p).select(pl.len()).collect().item())
            for p in demo.glob("*.parquet")
        }
    log(f"  demo data: {demo_rows} ({time.monotonic() - t0:.1f} s); building analytic tables")
    _build_analytics(demo, folder / "analytics.duckdb", folder / "orders.parquet")
    generated_s = round(time.monotonic() - t0, 1)
    import duckdb

    with duckdb.connect(str(folder / "analytics.duckdb"), read_only=True) as db:
        row = db.execute("SELECT (SELECT count(*) FROM customers), count(*) FROM orders").fetchone()
    assert row is not None
    result = Dataset(
        folder=folder,
        duckdb=folder / "analytics.duckdb",
        orders_parquet=folder / "orders.parquet",
        customers=int(row[0]),
        orders=int(row[1]),
        demo_rows=demo_rows,
        generated_s=generated_s,
    )
    saved = {k: v for k, v in asdict(result).items() if not isinstance(v, Path)}
    meta.write_text(json.dumps(saved), encoding="utf-8")  # written last: marks the cache complete
    return result


# -- the reference and the peers' RFM logic -----------------------------------------------------


def _end(as_of: date) -> str:
    return (as_of + timedelta(days=1)).isoformat()


#: DuckDB reading the order columns RFM needs, nothing else
SCAN_SQL = (
    "SELECT count(*), sum(amount), max(ordered_at), max(customer_pk), count(status) FROM orders"
)


def reference_sql(as_of: date) -> str:
    """Hand-written RFM in the BTYD convention (purchase occasions are calendar days), with
    Tierwise's rules: paid or pending (or blank) lines with a non-negative amount before the end
    of ``as_of``; ``monetary_value`` is the mean value of the repeat occasions."""
    paid = ", ".join(f"'{s}'" for s in PAID)
    return f"""
    WITH days AS (
        SELECT customer_pk, CAST(ordered_at AS DATE) AS day,
               sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS amount
        FROM orders
        WHERE ordered_at < TIMESTAMP '{_end(as_of)}'
          AND (status IN ({paid}) OR status IS NULL) AND coalesce(amount, 0) >= 0
        GROUP BY customer_pk, day
    ), cust AS (
        SELECT customer_pk,
               count(*) - 1 AS frequency,
               date_diff('day', min(day), max(day)) AS recency,
               date_diff('day', min(day), DATE '{as_of}') AS "T",
               date_diff('day', max(day), DATE '{as_of}') AS recency_days,
               sum(amount) AS monetary_total,
               CASE WHEN count(*) > 1
                    THEN (sum(amount) - arg_min(amount, day)) / (count(*) - 1) ELSE 0 END
                   AS monetary_value
        FROM days GROUP BY customer_pk
    )
    SELECT *,
           NTILE(5) OVER (ORDER BY recency_days DESC, customer_pk) AS r_score,
           NTILE(5) OVER (ORDER BY frequency, customer_pk) AS f_score,
           NTILE(5) OVER (ORDER BY monetary_total, customer_pk) AS m_score
    FROM cust"""


def _polars_rfm(path: Path, as_of: date) -> Any:
    import polars as pl

    end = datetime.fromisoformat(_end(as_of))
    cut = pl.lit(as_of)
    amount = pl.col("amount")
    days = (
        pl.scan_parquet(path)
        .select("customer_pk", "ordered_at", "amount", "status")
        .filter(
            (pl.col("ordered_at") < end)
            & (pl.col("status").is_in(PAID) | pl.col("status").is_null())
            & (amount.fill_null(0.0) >= 0)
        )
        .group_by("customer_pk", pl.col("ordered_at").dt.date().alias("day"))
        .agg(pl.when(amount > 0).then(amount).otherwise(0.0).sum().alias("amount"))
    )
    n = pl.len()
    cust = (
        days.group_by("customer_pk")
        .agg(
            first=pl.col("day").min(),
            last=pl.col("day").max(),
            n=n,
            monetary_total=amount.sum(),
            first_amount=amount.sort_by("day").first(),
        )
        .sort("customer_pk")
        .with_columns(
            frequency=pl.col("n") - 1,
            recency=(pl.col("last") - pl.col("first")).dt.total_days(),
            T=(cut - pl.col("first")).dt.total_days(),
            recency_days=(cut - pl.col("last")).dt.total_days(),
            monetary_value=pl.when(pl.col("n") > 1)
            .then((pl.col("monetary_total") - pl.col("first_amount")) / (pl.col("n") - 1))
            .otherwise(0.0),
        )
    )

    def ntile(col: str, descending: bool = False) -> pl.Expr:
        i = pl.col(col).rank("ordinal", descending=descending).cast(pl.Int64) - 1
        rows = pl.len().cast(pl.Int64)
        q, r = rows // 5, rows % 5
        big = r * (q + 1)  # the first r buckets have q + 1 rows
        bucket = pl.when(i < big).then(i // (q + 1)).otherwise(r + (i - big) // q.clip(1))
        return bucket + 1

    return cust.with_columns(
        r_score=ntile("recency_days", descending=True),
        f_score=ntile("frequency"),
        m_score=ntile("monetary_total"),
    ).collect()


def _pandas_rfm(path: Path, as_of: date) -> Any:
    import numpy as np
    import pandas as pd

    df = pd.read_parquet(path, columns=["customer_pk", "ordered_at", "amount", "status"])
    end = pd.Timestamp(_end(as_of))
    keep = (
        (df["ordered_at"] < end)
        & (df["status"].isin(PAID) | df["status"].isna())
        & (df["amount"].fillna(0.0) >= 0)
    )
    df = df[keep]
    lines = pd.DataFrame(
        {
            "customer_pk": df["customer_pk"].to_numpy(),
            "day": df["ordered_at"].dt.floor("D").to_numpy(),
            "amount": df["amount"].where(df["amount"] > 0, 0.0).to_numpy(),
        }
    )
    days = lines.groupby(["customer_pk", "day"], sort=True)["amount"].sum().reset_index()
    g = days.groupby("customer_pk", sort=True)
    first, last = g["day"].min(), g["day"].max()
    n = g.size()
    total = g["amount"].sum()
    first_amount = g["amount"].first()  # sorted by (customer, day): the first occasion's value
    cut = pd.Timestamp(as_of)
    cust = pd.DataFrame(
        {
            "customer_pk": n.index.to_numpy(),
            "frequency": (n - 1).to_numpy(),
            "recency": (last - first).dt.days.to_numpy(),
            "T": (cut - first).dt.days.to_numpy(),
            "recency_days": (cut - last).dt.days.to_numpy(),
            "monetary_total": total.to_numpy(),
            "monetary_value": np.where(n > 1, (total - first_amount) / (n - 1).clip(lower=1), 0.0),
        }
    )
    rows = len(cust)
    q, r = rows // 5, rows % 5

    def ntile(col: str, ascending: bool = True) -> Any:
        i = cust[col].rank(method="first", ascending=ascending).to_numpy().astype("int64") - 1
        big = r * (q + 1)
        return np.where(i < big, i // (q + 1), r + (i - big) // max(q, 1)) + 1

    cust["r_score"] = ntile("recency_days", ascending=False)
    cust["f_score"] = ntile("frequency")
    cust["m_score"] = ntile("monetary_total")
    return cust


# the peers run in their own virtualenv (lifetimes and PyMC-Marketing pin old or heavy stacks)
_PEER_CODE = r"""
import json, os, resource, sys, time
from pathlib import Path
spec = json.loads(sys.argv[1])
t0 = time.perf_counter()
import pandas as pd
if spec["peer"] == "lifetimes":
    from lifetimes.utils import summary_data_from_transaction_data as summary
    call = lambda df: summary(df, "customer_pk", "ordered_at", monetary_value_col="amount",
                              observation_period_end=pd.Timestamp(spec["as_of"]), freq="D")
else:
    from pymc_marketing.clv.utils import rfm_summary as summary
    call = lambda df: summary(df, "customer_pk", "ordered_at", monetary_value_col="amount",
                              observation_period_end=pd.Timestamp(spec["as_of"]), time_unit="D")
import_s = time.perf_counter() - t0
runs, compute = [], []
for _ in range(spec["repeats"]):
    t0 = time.perf_counter()
    df = pd.read_parquet(spec["parquet"], columns=["customer_pk", "ordered_at", "amount", "status"])
    keep = ((df["ordered_at"] < pd.Timestamp(spec["end"]))
            & (df["status"].isin(spec["paid"]) | df["status"].isna())
            & (df["amount"].fillna(0.0) >= 0))
    df = df.loc[keep, ["customer_pk", "ordered_at", "amount"]]
    df["amount"] = df["amount"].where(df["amount"] > 0, 0.0)
    t1 = time.perf_counter()
    out = call(df)
    runs.append(time.perf_counter() - t0)
    compute.append(time.perf_counter() - t1)
    del df
out = out.reset_index() if "customer_pk" not in out.columns else out
if "customer_id" in out.columns and "customer_pk" not in out.columns:
    out = out.rename(columns={"customer_id": "customer_pk"})
out[["customer_pk", "frequency", "recency", "T", "monetary_value"]].to_parquet(spec["result"])
hwm = None
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) / 1024
Path(os.environ["TIERWISE_BENCH_RESULT"]).write_text(json.dumps(
    {"seconds": runs, "compute_seconds": compute, "import_seconds": import_s, "vm_hwm_mb": hwm}))
"""


# -- child processes ---------------------------------------------------------------------------


def _vm(field: str) -> float | None:
    """``VmHWM`` (peak) or ``VmRSS`` (now) of this process in MB (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def _analytics(db_path: str) -> Any:
    """The data set as the embedded default sees its copy: the analytic tables and the
    ``order_days`` rollup that the copy keeps in step with them (built by ``dataset``)."""
    from tierwise.engine import Analytics
    from tierwise.engine._connect import duckdb_backend
    from tierwise.engine._rollup import DERIVED
    from tierwise.engine._schema import ANALYTIC

    backend = duckdb_backend(Path(db_path))
    return Analytics("duckdb", backend, {t: backend.table(t) for t in (*ANALYTIC, *DERIVED)})


def _rfm(analytics: Any, as_of: date, *, from_lines: bool = False) -> Any:
    """Tierwise's RFM stage to Arrow: from the copy's rollup, or from the raw order lines
    (what an engine without the copy, PostgreSQL or Spark, computes in every query)."""
    from tierwise.features import order_features

    days = None if from_lines else analytics.tables["order_days"]
    return analytics.backend.to_pyarrow(
        order_features(analytics.tables["orders"], as_of, days=days)
    )


def _duckdb_suite(spec: dict[str, Any]) -> dict[str, Any]:
    """Scan floor, reference SQL, Tierwise RFM stage and full classification, interleaved."""
    from tierwise.classify import run as classify
    from tierwise.scheme._io import default_scheme

    as_of = date.fromisoformat(spec["as_of"])
    analytics = _analytics(spec["duckdb"])
    con = analytics.backend.con  # the raw DuckDB connection under Ibis: one instance, one cache
    scheme = default_scheme()
    ref_sql = reference_sql(as_of)
    seconds: dict[str, list[float]] = {
        "scan": [],
        "reference": [],
        "rfm": [],
        "rfm_lines": [],
        "classify": [],
    }
    timings: list[dict[str, float]] = []
    customers = hash_ = None
    ref_rows = rfm_rows = 0
    for _ in range(spec["repeats"]):
        s, _row = _timed(lambda: con.execute(SCAN_SQL).fetchall())
        seconds["scan"].append(s)
        con.execute("DROP TABLE IF EXISTS _rfm_ref")
        s, _ = _timed(lambda: con.execute(f"CREATE TEMP TABLE _rfm_ref AS {ref_sql}"))
        seconds["reference"].append(s)
        ref_rows = int(con.execute("SELECT count(*) FROM _rfm_ref").fetchone()[0])
        s, arrow = _timed(lambda: _rfm(analytics, as_of))
        seconds["rfm"].append(s)
        rfm_rows = arrow.num_rows
        del arrow
        s, _ = _timed(lambda: _rfm(analytics, as_of, from_lines=True))
        seconds["rfm_lines"].append(s)
        s, result = _timed(lambda: classify(analytics, scheme, as_of=as_of))
        seconds["classify"].append(s)
        timings.append(result.timings)
        customers, hash_ = result.features.height, result.result_hash()
        del result
    # the per-customer outputs, for the parity checks in the parent (not timed)
    out = Path(spec["work"])
    cols = ", ".join(f'"{c}"' for c in (*RFM_COLUMNS, "monetary_value"))
    con.execute(
        f"COPY (SELECT {cols}, r_score, f_score, m_score FROM _rfm_ref ORDER BY customer_pk) "
        f"TO '{out / 'reference.parquet'}' (FORMAT parquet)"
    )
    import pyarrow.parquet as pq

    tw = _rfm(analytics, as_of)
    lines = _rfm(analytics, as_of, from_lines=True)
    keep = [*RFM_COLUMNS, "monetary_value", "purchase_days"]
    pq.write_table(tw.select(keep), out / "tierwise_rfm.parquet")
    pq.write_table(lines.select(keep), out / "tierwise_lines.parquet")
    return {
        "seconds": seconds,
        "classify_timings": timings,
        "customers": customers,
        "hash": hash_,
        "reference_rows": ref_rows,
        "rfm_rows": rfm_rows,
    }


def _classify_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """One full classification; the parent reads this process's VmHWM."""
    from tierwise.classify import run as classify
    from tierwise.scheme._io import default_scheme

    scheme = default_scheme()
    analytics = _analytics(spec["duckdb"])
    baseline = _vm("VmRSS")
    s, result = _timed(lambda: classify(analytics, scheme, as_of=date.fromisoformat(spec["as_of"])))
    return {"seconds": [s], "baseline_mb": baseline, "customers": result.features.height}


def _frame_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Polars or pandas RFM, ``repeats`` times; the last result is written for the checks."""
    fn = _polars_rfm if spec["task"] == "polars" else _pandas_rfm
    as_of = date.fromisoformat(spec["as_of"])
    seconds: list[float] = []
    frame: Any = None
    for _ in range(spec["repeats"]):
        frame = None  # let the previous result go before the next run
        s, frame = _timed(lambda: fn(Path(spec["parquet"]), as_of))
        seconds.append(s)
    target = Path(spec["work"]) / f"{spec['task']}.parquet"
    if spec["task"] == "polars":
        frame.write_parquet(target)
    else:
        frame.to_parquet(target)
    return {"seconds": seconds, "rows": len(frame)}


def _sync_child(spec: dict[str, Any]) -> dict[str, Any]:
    """A SQLite store of ``orders`` lines (bulk-inserted), synced; +1 % orders, synced again."""
    import sqlite3

    import duckdb

    from tierwise.engine import AnalyticCopy
    from tierwise.store import create_engine, upgrade
    from tierwise.store.tables import utcnow

    work = Path(spec["work"])
    store_path = work / "store.db"
    url = f"sqlite:///{store_path}"
    upgrade(url)
    fmt = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite
    stamp = (utcnow() - timedelta(hours=1)).strftime(fmt)
    src = duckdb.connect(spec["duckdb"], read_only=True)
    # whole customers, in customer_pk order, up to the wanted number of order lines
    row = src.execute(
        "SELECT coalesce(max(customer_pk), 0) FROM (SELECT customer_pk, sum(count(*)) OVER "
        "(ORDER BY customer_pk) AS upto FROM orders GROUP BY customer_pk) WHERE upto <= ?",
        [spec["orders"]],
    ).fetchone()
    top = int(row[0]) if row else 0
    lite = sqlite3.connect(store_path, isolation_level=None)
    lite.execute("PRAGMA journal_mode=WAL")
    lite.execute("PRAGMA synchronous=OFF")  # set-up only: the store is not what we measure

    def copy(select: str, table: str, params: list[Any]) -> int:
        cur = src.execute(select, params)
        names = [d[0] for d in cur.description]
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        total = 0
        lite.execute("BEGIN")
        while rows := cur.fetchmany(50_000):
            lite.executemany(sql, rows)
            total += len(rows)
        lite.execute("COMMIT")
        return total

    t0 = time.perf_counter()
    copy(
        "SELECT id, customer_id, name, kind, gender, strftime(birthday, '%Y-%m-%d') AS birthday, "
        "income_band, industry, company_size, country, province, city, source, owner, "
        f"strftime(created_at, '{fmt}') AS created_at, tags, md5(customer_id) AS row_hash, "
        "? AS inserted_at, ? AS updated_at FROM customers WHERE customer_pk <= ? ORDER BY id",
        "customers",
        [stamp, stamp, top],
    )

    def orders_select(prefix: str, where: str) -> str:
        """Order lines of the chosen customers as store rows (``prefix`` marks new copies)."""
        tag = f"'{prefix}' || " if prefix else ""
        return (
            f"SELECT o.id + ? AS id, {tag}CAST(o.id AS VARCHAR) AS line_id, "
            f"{tag}o.order_id AS order_id, o.customer_pk, c.customer_id, "
            f"strftime(o.ordered_at, '{fmt}') AS ordered_at, o.amount, o.quantity, "
            "o.gross_profit, o.product_id, o.category, o.channel, o.status, "
            f"md5({tag}o.order_id || o.id) AS row_hash, ? AS inserted_at, ? AS updated_at "
            "FROM orders o JOIN customers c USING (customer_pk) "
            f"WHERE o.customer_pk <= ? {where} ORDER BY o.id"
        )

    stored = copy(orders_select("", ""), "orders", [0, stamp, stamp, top])
    setup_s = time.perf_counter() - t0
    store = create_engine(url)
    try:
        copy_db = AnalyticCopy(work / "analytics.duckdb", store)
        first = copy_db.sync()
        # 1 % new order lines (copies of every 100th line under new ids), written after the sync
        new_stamp = (utcnow() + timedelta(seconds=1)).strftime(fmt)
        max_id = lite.execute("SELECT max(id) FROM orders").fetchone()[0] or 0
        added = copy(
            orders_select("N", "AND o.id % 100 = 0"),
            "orders",
            [max_id, new_stamp, new_stamp, top],
        )
        time.sleep(max(0.0, (datetime.strptime(new_stamp, fmt) - utcnow()).total_seconds()))
        second = copy_db.sync()
        with copy_db.connect() as db:
            got = db.execute("SELECT count(*) FROM orders").fetchone()
        copied = int(got[0]) if got else 0
    finally:
        store.dispose()
        lite.close()
        src.close()
    return {
        "store_orders": stored,
        "customers": top,
        "added": added,
        "setup_seconds": setup_s,
        "first": first.to_dict(),
        "second": second.to_dict(),
        "copy_orders": copied,
        "seconds": [first.seconds, second.seconds],
    }


CHILD_TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "duckdb_suite": _duckdb_suite,
    "classify_memory": _classify_memory,
    "polars": _frame_child,
    "pandas": _frame_child,
    "sync": _sync_child,
}


def _run_child(
    spec: dict[str, Any], *, python: str | None = None, timeout: float = CHILD_TIMEOUT_S
) -> tuple[dict[str, Any], float | None]:
    """Run one step in a fresh interpreter: (its result, its peak RSS in MB)."""
    with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False) as fh:
        result_path = Path(fh.name)
    if python is None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    else:
        cmd = [python, "-c", _PEER_CODE, json.dumps(spec)]
    env = {**os.environ, "TIERWISE_BENCH_RESULT": str(result_path)}
    try:
        proc = subprocess.run(cmd, env=env, timeout=timeout, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise RuntimeError(
                f"benchmark step {spec['task']} failed (exit {proc.returncode}): "
                + " | ".join(tail)
            )
        result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    finally:
        result_path.unlink(missing_ok=True)
    return result, result.get("vm_hwm_mb")


# -- checks --------------------------------------------------------------------------------------


def compare_rfm(reference: Path, other: Path, *, columns: tuple[str, ...] = CHECKED) -> list[str]:
    """Per-customer differences between two RFM outputs (empty when they agree).

    Customers are matched on ``customer_pk``; a Tierwise row with ``purchase_days = 0`` (only
    refunds or cancellations) has no occasion and is not in the reference. Integers must be
    equal, money equal to 1e-9 relative.
    """
    import polars as pl

    ref = pl.read_parquet(reference)
    got = pl.read_parquet(other)
    if "purchase_days" in got.columns:
        got = got.filter(pl.col("purchase_days") > 0)
    cols = [c for c in columns if c in got.columns and c in ref.columns]
    problems: list[str] = []
    joined = ref.select("customer_pk", *cols).join(
        got.select("customer_pk", *cols), on="customer_pk", how="full", suffix="_got"
    )
    only_ref = joined.filter(pl.col("customer_pk_got").is_null()).height
    only_got = joined.filter(pl.col("customer_pk").is_null()).height
    if only_ref or only_got:
        problems.append(f"customers only in reference: {only_ref:,}, only in other: {only_got:,}")
    both = joined.filter(
        pl.col("customer_pk").is_not_null() & pl.col("customer_pk_got").is_not_null()
    )
    for c in cols:
        a, b = pl.col(c).cast(pl.Float64), pl.col(f"{c}_got").cast(pl.Float64)
        if c.startswith("monetary"):
            bad = (a - b).abs() > 1e-9 * pl.max_horizontal(a.abs(), b.abs(), pl.lit(1.0))
        else:
            bad = a != b
        n = both.filter(bad.fill_null(True)).height
        if n:
            example = both.filter(bad.fill_null(True)).row(0, named=True)
            problems.append(f"{c}: {n:,} customers differ, e.g. {example}")
    if both.height == 0:
        problems.append("no customers to compare")
    return problems


# -- the benchmark -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _row(step: str, seconds: list[float], ref: float, **extra: Any) -> dict[str, Any]:
    med = _median(seconds)
    return {
        "step": step,
        "seconds": round(med, 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "vs_reference": round(med / ref, 2) if ref else None,
        **extra,
    }


def _orders_target(args: argparse.Namespace) -> int:
    if getattr(args, "quick", False):
        return int(getattr(args, "orders", None) or QUICK_ORDERS)
    return int(getattr(args, "orders", None) or DEFAULT_ORDERS)


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(getattr(args, "out", BENCH_DIR / "out"))
    out.mkdir(parents=True, exist_ok=True)
    quick = bool(getattr(args, "quick", False))
    repeats = int(getattr(args, "repeats", None) or REPEATS)
    target = _orders_target(args)
    peers = not getattr(args, "no_peers", False) and not getattr(args, "no_reference", False)
    t0 = time.monotonic()
    ds = dataset(target, out)
    rollup_s = rollup_seconds(ds.duckdb)
    prepared_s = time.monotonic() - t0
    notes = [
        f"data: {ds.orders:,} orders of {ds.customers:,} customers (demo generator, seed {SEED}, "
        f"{ds.customers:,} customers requested for ~{target:,} orders; "
        f"{ds.orders / ds.customers:.2f} orders per customer); ready in {prepared_s:.1f} s "
        f"(built in {ds.generated_s:.0f} s when first generated); as of {AS_OF}",
        f"order_days rollup (kept by the analytic copy, rebuilt whole only by a fresh sync): "
        f"built in {rollup_s:.1f} s",
    ]
    failures: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="classify-", dir=out))
    base: dict[str, Any] = {"as_of": AS_OF.isoformat(), "duckdb": str(ds.duckdb), "work": str(work)}
    base |= {"parquet": str(ds.orders_parquet), "repeats": repeats}
    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {"rollup_seconds": round(rollup_s, 2)}
    try:
        suite, suite_peak = _run_child({**base, "task": "duckdb_suite"})
        sec = suite["seconds"]
        ref = _median(sec["reference"])
        results["duckdb_suite"] = suite | {"peak_mb": suite_peak}
        rows.append(_row("scan floor (DuckDB, RFM columns)", sec["scan"], ref))
        rows.append(_row("reference: hand-written DuckDB SQL", sec["reference"], ref))
        rfm_ratio = _median(sec["rfm"]) / ref
        rows.append(
            _row("tierwise RFM stage (order_features)", sec["rfm"], ref, goal=f"<= {GOAL_RFM}")
        )
        rows.append(_row("tierwise RFM from the order lines (no rollup)", sec["rfm_lines"], ref))
        cls_ratio = _median(sec["classify"]) / ref
        rows.append(
            _row("tierwise full classification", sec["classify"], ref, goal=f"<= {GOAL_CLASSIFY}")
        )
        # per-round ratios: the same round shares the machine's load
        per_round = [
            {
                "rfm": round(r / f, 2),
                "classify": round(c / f, 2),
            }
            for f, r, c in zip(sec["reference"], sec["rfm"], sec["classify"], strict=True)
        ]
        results["per_round_ratios"] = per_round
        stages = {
            k: round(_median([t[k] for t in suite["classify_timings"]]), 3)
            for k in suite["classify_timings"][0]
        }
        results["classify_stage_seconds"] = stages
        notes.append(
            "tierwise classification stages (median s): "
            + ", ".join(f"{k} {v}" for k, v in stages.items())
            + f"; {suite['customers']:,} customers, hash {str(suite['hash'])[:12]}"
        )
        parity = compare_rfm(work / "reference.parquet", work / "tierwise_rfm.parquet")
        from_lines = compare_rfm(work / "reference.parquet", work / "tierwise_lines.parquet")
        results["parity"] = {"tierwise_rfm": parity, "tierwise_rfm_from_lines": from_lines}
        failures += [f"tierwise RFM vs reference: {p}" for p in parity]
        failures += [f"tierwise RFM from the lines vs reference: {p}" for p in from_lines]

        mem, mem_peak = _run_child({**base, "task": "classify_memory"})
        peak_bytes = (mem_peak or 0.0) * 2**20
        per_order = peak_bytes / ds.orders
        above = ((mem_peak or 0.0) - (mem.get("baseline_mb") or 0.0)) * 2**20 / ds.orders
        results["memory"] = {
            "peak_mb": mem_peak,
            "baseline_mb": mem.get("baseline_mb"),
            "bytes_per_order": round(per_order, 1),
            "bytes_per_order_above_baseline": round(above, 1),
            "seconds": mem["seconds"][0],
        }
        rows.append(
            {
                "step": "tierwise classification, peak memory (1 run)",
                "seconds": round(mem["seconds"][0], 3),
                "peak_mb": mem_peak,
                "bytes_per_order": round(per_order, 1),
                "goal": f"<= {GOAL_BYTES_PER_ORDER} B/order",
            }
        )
        notes.append(
            f"memory: peak {mem_peak or 0:.0f} MB = {per_order:.0f} B/order (of which "
            f"{mem.get('baseline_mb') or 0:.0f} MB is the interpreter with Tierwise, Ibis, "
            f"Polars and the DuckDB connection before the run: {above:.0f} B/order above it)"
        )

        for name, label in (("polars", "polars (lazy scan)"), ("pandas", "pandas")):
            frame, peak = _run_child({**base, "task": name})
            rows.append(_row(label, frame["seconds"], ref, peak_mb=peak))
            problems = compare_rfm(work / "reference.parquet", work / f"{name}.parquet")
            results[name] = frame | {"peak_mb": peak, "parity": problems}
            failures += [f"{name} vs reference: {p}" for p in problems]

        python = PEERS_VENV / "bin" / "python"
        if not peers:
            notes.append("peers (lifetimes, PyMC-Marketing) skipped (--no-peers)")
        elif not python.exists():
            notes.append(
                f"peers (lifetimes, PyMC-Marketing) skipped: no virtualenv at {PEERS_VENV} "
                "(python3 -m venv it and pip install lifetimes pymc-marketing pyarrow)"
            )
        else:
            for peer, label in (
                ("lifetimes", "lifetimes summary_data_from_transaction_data"),
                ("pymc", "pymc-marketing rfm_summary"),
            ):
                spec = {
                    **base,
                    "task": peer,
                    "peer": peer,
                    "end": _end(AS_OF),
                    "paid": list(PAID),
                    "result": str(work / f"{peer}.parquet"),
                }
                try:
                    got, peak = _run_child(spec, python=str(python), timeout=PEER_TIMEOUT_S)
                except (RuntimeError, subprocess.TimeoutExpired) as error:
                    notes.append(f"{label}: skipped ({error})")
                    continue
                compute = _median(got["compute_seconds"])
                rows.append(
                    _row(label, got["seconds"], ref, peak_mb=peak)
                    | {"note": f"function alone {compute:.2f} s"}
                )
                problems = compare_rfm(
                    work / "reference.parquet",
                    work / f"{peer}.parquet",
                    columns=("frequency", "recency", "T", "monetary_value"),
                )
                results[peer] = got | {"peak_mb": peak, "parity": problems}
                if problems:  # a peer's convention may differ: reported, not a failure
                    notes.append(f"{label} differs from the reference: {problems[0]}")

        sync_orders = min(ds.orders, QUICK_ORDERS if quick else SYNC_ORDERS)
        sync_dir = work / "sync"
        sync_dir.mkdir()
        sync, _ = _run_child({**base, "task": "sync", "orders": sync_orders, "work": str(sync_dir)})
        first, second = sync["first"], sync["second"]
        read_orders = second["read"].get("orders", 0)
        share = read_orders / max(sync["store_orders"], 1)
        results["sync"] = sync
        rows.append(
            {
                "step": f"sync: first (store of {sync['store_orders']:,} orders)",
                "seconds": round(first["seconds"], 3),
                "rows_read": first["read"].get("orders", 0),
            }
        )
        rows.append(
            {
                "step": f"sync: after +{sync['added']:,} orders (1%)",
                "seconds": round(second["seconds"], 3),
                "rows_read": read_orders,
                "vs_first_sync": round(second["seconds"] / max(first["seconds"], 1e-9), 3),
            }
        )
        if read_orders != sync["added"]:
            failures.append(
                f"incremental sync read {read_orders:,} orders for {sync['added']:,} added"
            )
        if sync["copy_orders"] != sync["store_orders"] + sync["added"]:
            failures.append(
                f"copy holds {sync['copy_orders']:,} orders, the store "
                f"{sync['store_orders'] + sync['added']:,}"
            )
        notes.append(
            f"sync: second sync read {read_orders:,} order rows ({share:.2%} of the store) in "
            f"{second['seconds']:.2f} s vs {first['seconds']:.2f} s for the first "
            f"(store set-up by executemany {sync['setup_seconds']:.1f} s, not timed)"
        )
    finally:
        if getattr(args, "keep", False):
            results["work"] = str(work)  # reference.parquet, tierwise_rfm.parquet, ...
        else:
            shutil.rmtree(work, ignore_errors=True)

    results["ratios"] = {"rfm": round(rfm_ratio, 3), "classify": round(cls_ratio, 3)}
    verdict = [
        f"RFM stage {rfm_ratio:.2f}x the reference (goal <= {GOAL_RFM}, stretch {STRETCH_RFM}): "
        + ("met" if rfm_ratio <= GOAL_RFM else "MISSED"),
        f"full classification {cls_ratio:.2f}x (goal <= {GOAL_CLASSIFY}): "
        + ("met" if cls_ratio <= GOAL_CLASSIFY else "MISSED"),
        f"memory {results['memory']['bytes_per_order']:.0f} B/order "
        f"(goal <= {GOAL_BYTES_PER_ORDER}): "
        + ("met" if results["memory"]["bytes_per_order"] <= GOAL_BYTES_PER_ORDER else "MISSED"),
    ]
    notes.append("goals: " + "; ".join(verdict))
    notes.append(
        "per-round ratios (rfm, classify): "
        + ", ".join(f"({r['rfm']}, {r['classify']})" for r in per_round)
    )
    if quick:
        notes.append("quick mode: sizes too small for the ratios to mean anything")
    notes += [f"FAILED {f}" for f in failures]
    return {
        "ok": not failures,
        "goal": {
            "rfm_vs_reference": GOAL_RFM,
            "rfm_stretch": STRETCH_RFM,
            "classify_vs_reference": GOAL_CLASSIFY,
            "bytes_per_order": GOAL_BYTES_PER_ORDER,
        },
        "dataset": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(ds).items()},
        "repeats": repeats,
        "rows": rows,
        "results": results,
        "notes": notes,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--orders", type=int, help=f"orders in the data set (default {DEFAULT_ORDERS:,})"
    )
    p.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS:,} orders: a smoke test")
    p.add_argument("--repeats", type=int, default=REPEATS, help="runs per measurement (median)")
    p.add_argument("--no-peers", action="store_true", help="skip lifetimes and PyMC-Marketing")
    p.add_argument("--keep", action="store_true", help="keep the per-customer outputs")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="results and caches")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run this benchmark alone (``bench/run.py`` has no ``--orders``), print and save it."""
    args = parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR))
    from run import report

    stamp = time.strftime("%Y%m%d-%H%M%S")
    print(f"== classify (~{_orders_target(args):,} orders{', quick' if args.quick else ''})")
    started = time.monotonic()
    result = run(args)
    result = {
        "benchmark": "classify",
        "started": stamp,
        "seconds": round(time.monotonic() - started, 2),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        **result,
    }
    report("classify", result, args.out, stamp)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_spec = json.loads(sys.argv[2])
        outcome = CHILD_TASKS[child_spec["task"]](child_spec)
        outcome["vm_hwm_mb"] = _vm("VmHWM")
        Path(os.environ["TIERWISE_BENCH_RESULT"]).write_text(json.dumps(outcome), encoding="utf-8")
    else:
        raise SystemExit(main(sys.argv[1:]))
