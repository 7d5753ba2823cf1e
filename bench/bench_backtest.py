"""Backtest benchmark: ``tierwise.evaluate.backtest`` vs a plain classification of the same data.

Goal (issue 7): a backtest of the default scheme on 1,000,000 customers / 10,000,000 orders
completes within 3× a plain ``tierwise.classify.run`` of the same data. The backtest classifies
as of 180 days before the data's last day and counts the outcomes after it; it is compared with
a plain classification as of the same day (the same work but the outcomes) and as of the data's
last day (every customer: the production run), both ratios reported. Everything runs in this
one process on one DuckDB connection, interleaved ``--repeats`` times; medians are reported,
with the classification time inside the backtest (``RunResult.timings``), so the outcome and
calibration overhead shows on its own. The data set is
the classification benchmark's cache (``bench/bench_classify.py`` builds it).

    flock /tmp/tierwise-heavy.lock .venv/bin/python bench/bench_backtest.py
    .venv/bin/python bench/bench_backtest.py --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
FULL_ORDERS = 10_000_000
GOAL = 3.0
HORIZON = 180


def _classify_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_classify", BENCH / "bench_classify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_classify"] = module
    spec.loader.exec_module(module)
    return module


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tierwise.classify import run as classify
    from tierwise.evaluate import backtest
    from tierwise.scheme import default_scheme

    bc = _classify_bench()
    if getattr(args, "quick", False):  # the classification benchmark's small data set (smoke test)
        db = bc.dataset(bc.QUICK_ORDERS, Path(args.out), log=lambda _m: None).duckdb
        bc.rollup_seconds(db, log=lambda _m: None)  # the order_days rollup, as the copy keeps it
    elif getattr(args, "db", None):
        db = Path(args.db)
    else:  # the classification benchmark's cache, wherever its data version puts it
        db = bc.data_folder(FULL_ORDERS, Path(args.out)) / "analytics.duckdb"
    if not db.exists():
        raise SystemExit(
            f"{db} is missing: build it with `.venv/bin/python bench/bench_classify.py "
            "--orders 10000000` first."
        )
    analytics = bc._analytics(str(db))
    as_of: date = bc.AS_OF - timedelta(days=HORIZON)
    scheme = default_scheme()
    plain: list[float] = []
    latest: list[float] = []
    tested: list[float] = []
    inner: list[float] = []
    customers = everyone = 0
    top_lift = None
    for _ in range(args.repeats):  # interleaved: the machine's noise hits all alike
        t = time.perf_counter()
        result = classify(analytics, scheme, as_of=as_of)
        plain.append(time.perf_counter() - t)
        customers = result.features.height
        del result
        t = time.perf_counter()
        result = classify(analytics, scheme, as_of=bc.AS_OF)
        latest.append(time.perf_counter() - t)
        everyone = result.features.height
        del result
        t = time.perf_counter()
        bt = backtest(analytics, scheme, as_of=as_of, horizon_days=HORIZON)
        tested.append(time.perf_counter() - t)
        assert bt.result is not None
        inner.append(bt.result.timings["total"])
        top_lift = bt.top_lift
        del bt
    med = statistics.median
    ratio = med(tested) / med(plain)
    ratio_latest = med(tested) / med(latest)
    orders = int(
        analytics.backend.to_pyarrow(analytics.tables["orders"].count().as_table())[0][0].as_py()
    )
    out = {
        "goal": f"backtest ≤ {GOAL}× classification",
        "ok": max(ratio, ratio_latest) <= GOAL,
        "as_of": as_of.isoformat(),
        "horizon_days": HORIZON,
        "customers_as_of": customers,
        "customers_latest": everyone,
        "orders": orders,
        "classification_same_day_s": [round(x, 2) for x in plain],
        "classification_latest_s": [round(x, 2) for x in latest],
        "backtest_s": [round(x, 2) for x in tested],
        "backtest_classification_s": [round(x, 2) for x in inner],
        "ratio_same_day": round(ratio, 3),
        "ratio_latest": round(ratio_latest, 3),
        "overhead_s": round(med(tested) - med(inner), 2),
        "top_lift": top_lift,
    }
    path = Path(args.out) / "backtest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="analytics.duckdb of the data set (default: the 10M classification cache)"
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the 20,000-order data set")
    parser.add_argument("--out", default=str(BENCH / "out"))
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
