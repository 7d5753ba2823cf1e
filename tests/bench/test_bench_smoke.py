"""Smoke test of the import benchmark (bench/bench_import.py) at a tiny size, SQLite only.

Timings are not checked here (benchmarks live in bench/, not in timed tests); the test checks
that the benchmark runs end to end and that what it measures is a correct import.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_import_benchmark_quick(tmp_path: Path) -> None:
    bench = _load("bench_import")
    args = argparse.Namespace(rows=2000, db="sqlite", out=tmp_path, no_reference=True)
    result = bench.run(args)

    assert result["ok"], result["notes"]
    assert {"goal", "dataset", "rows", "results", "notes"} <= set(result)
    written = result["dataset"]["rows"]
    assert written == 2000
    # the file really has that many data lines (header excluded)
    with Path(result["dataset"]["orders"]).open(encoding="utf-8") as fh:
        assert sum(1 for _ in fh) - 1 == written

    sqlite = result["results"]["sqlite"]
    report = sqlite["orders"]["report"]
    assert report["rows_in"] == written
    assert (
        report["inserted"] + report["updated"] + report["skipped"] + report["rejected"]
        == report["rows_in"]
    )
    assert sqlite["orders"]["stored_rows"] == report["inserted"]
    # the messy file's planted problems are found: duplicate lines skipped, bad values rejected
    assert report["skipped_detail"].get("duplicate_row", 0) == (written - 1) // 499
    assert report["rejected"] > 0
    assert sqlite["rows_per_s"] > 0 and 0 < sqlite["peak_mb"] < 4096
    assert abs(sqlite["speed_vs_goal"] - sqlite["rows_per_s"] / bench.GOAL_ROWS_PER_S) < 0.002

    steps = {(r["db"], r["step"]) for r in result["rows"]}
    assert {("sqlite", "customers import"), ("sqlite", "orders import")} <= steps
    # a second run reuses the cached data set
    assert bench.dataset(2000, tmp_path).orders == Path(result["dataset"]["orders"])
