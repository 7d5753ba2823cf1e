"""Smoke test of the backtest benchmark (bench/bench_backtest.py) in its quick mode.

Timings are not checked (benchmarks live in bench/); the test checks that it runs end to end
and reports every measurement it promises.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_backtest_benchmark_quick(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_backtest", BENCH / "bench_backtest.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_backtest"] = bench
    spec.loader.exec_module(bench)
    args = argparse.Namespace(quick=True, out=str(tmp_path), db="", repeats=1)
    result = bench.run(args)
    assert {"ratio_same_day", "ratio_latest", "overhead_s", "backtest_s", "ok"} <= set(result)
    assert 10_000 < result["orders"] < 30_000 and result["customers_latest"] > 0
    assert len(result["backtest_s"]) == len(result["classification_latest_s"]) == 1
    assert (tmp_path / "backtest.json").exists()
