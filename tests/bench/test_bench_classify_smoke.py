"""Smoke test of the classification benchmark (bench/bench_classify.py) in its quick mode.

Timings are not checked (benchmarks live in bench/, not in timed tests); the test checks that
the benchmark runs end to end, reports what it promises, and that what it compares is the same
thing: Tierwise's RFM stage and the hand-written reference SQL give the same frequency, recency,
T and monetary values for every customer.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
Quick = tuple[ModuleType, dict[str, Any]]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Quick:
    bench = _load("bench_classify")
    out = tmp_path_factory.mktemp("bench-classify")
    args = argparse.Namespace(quick=True, out=out, no_peers=True, keep=True, repeats=3)
    return bench, bench.run(args)


def test_quick_run_reports_every_measurement(quick: Quick) -> None:
    _, result = quick
    assert result["ok"], result["notes"]
    assert {"goal", "dataset", "rows", "results", "notes", "repeats"} <= set(result)
    assert 10_000 < result["dataset"]["orders"] < 30_000
    steps = [r["step"] for r in result["rows"]]
    for expected in (
        "scan floor",
        "reference: hand-written DuckDB SQL",
        "tierwise RFM stage",
        "tierwise RFM from the order lines",
        "tierwise full classification",
        "peak memory",
        "polars",
        "pandas",
        "sync: first",
        "sync: after",
    ):
        assert any(expected in s for s in steps), (expected, steps)
    res = result["results"]
    seconds = res["duckdb_suite"]["seconds"]
    assert {k: len(v) for k, v in seconds.items()} == dict.fromkeys(
        ("scan", "reference", "rfm", "rfm_lines", "classify"), 3
    )
    assert set(res["ratios"]) == {"rfm", "classify"} and all(v > 0 for v in res["ratios"].values())
    assert res["memory"]["bytes_per_order"] > 0 and res["memory"]["peak_mb"] > 0
    assert {"features", "labels", "settle", "total"} <= set(res["classify_stage_seconds"])
    # every implementation agreed with the reference (the benchmark's own checks)
    assert res["parity"]["tierwise_rfm"] == []
    assert res["parity"]["tierwise_rfm_from_lines"] == []  # the rollup changes no number
    assert res["rollup_seconds"] > 0
    assert res["polars"]["parity"] == [] and res["pandas"]["parity"] == []
    # incremental: the second sync reads only the 1 % added, not the old orders again
    sync = res["sync"]
    assert 0 < sync["added"] <= sync["store_orders"] // 100 + 1
    assert sync["second"]["read"]["orders"] == sync["added"]
    assert sync["first"]["read"]["orders"] == sync["store_orders"]
    assert sync["copy_orders"] == sync["store_orders"] + sync["added"]


def test_tierwise_rfm_matches_reference_per_customer(quick: Quick) -> None:
    _, result = quick
    work = Path(result["results"]["work"])
    ref = pl.read_parquet(work / "reference.parquet")
    tw = pl.read_parquet(work / "tierwise_rfm.parquet").filter(pl.col("purchase_days") > 0)
    assert ref.height > 1000
    assert ref.get_column("customer_pk").is_unique().all()
    assert sorted(ref.get_column("customer_pk")) == sorted(tw.get_column("customer_pk"))
    both = ref.join(tw, on="customer_pk", suffix="_tw")
    assert both.height == ref.height
    for col in ("frequency", "recency", "T", "recency_days"):
        assert both.get_column(col).cast(pl.Int64).to_list() == (
            both.get_column(f"{col}_tw").cast(pl.Int64).to_list()
        ), col
    for col in ("monetary_total", "monetary_value"):
        a, b = both.get_column(col).to_numpy(), both.get_column(f"{col}_tw").to_numpy()
        assert abs(a - b).max() <= 1e-6 * max(1.0, float(abs(a).max())), col
    # the data is not degenerate: repeat buyers and real money
    assert (both.get_column("frequency") > 3).any()
    assert both.get_column("monetary_value").sum() > 0
    # NTILE(5): five buckets of (nearly) equal size
    sizes = ref.group_by("f_score").len().get_column("len").to_list()
    assert len(sizes) == 5 and max(sizes) - min(sizes) <= 1


def test_parity_check_catches_a_difference(
    quick: Quick,
    tmp_path: Path,
) -> None:
    bench, result = quick
    work = Path(result["results"]["work"])
    tw = pl.read_parquet(work / "tierwise_rfm.parquet")
    assert bench.compare_rfm(work / "reference.parquet", work / "tierwise_rfm.parquet") == []
    some = int(tw.filter(pl.col("frequency") > 0).get_column("customer_pk")[0])
    tampered = tw.with_columns(
        pl.when(pl.col("customer_pk") == some)
        .then(pl.col("monetary_value") + 0.01)
        .otherwise(pl.col("monetary_value"))
        .alias("monetary_value")
    )
    tampered.write_parquet(tmp_path / "tampered.parquet")
    problems = bench.compare_rfm(work / "reference.parquet", tmp_path / "tampered.parquet")
    assert len(problems) == 1 and problems[0].startswith("monetary_value: 1 customers differ")
