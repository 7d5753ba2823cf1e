"""Smoke test of the web load benchmark (bench/bench_web.py) on a tiny store.

Latencies are not checked (benchmarks live in bench/); the test checks that the benchmark
builds its store through the real import path, serves it with `tierwise serve`, loads every
scenario with concurrent users and counts errors (none expected).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_web_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_web", BENCH / "bench_web.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_web"] = bench
    spec.loader.exec_module(bench)
    args = argparse.Namespace(out=tmp_path, customers=300, seconds=1.0, users=3)
    result = bench.run(args)
    assert result["ok"], result["notes"]
    rows = {r["scenario"]: r for r in result["rows"]}
    assert set(rows) == {"list", "customer_360", "dashboard"}
    for row in rows.values():
        assert row["requests"] > 0 and row["errors"] == 0
        assert row["p95_ms"] >= row["p50_ms"] > 0
    # the store is built once and reused
    assert (tmp_path / "data" / "web-v1-seed42-300" / "ready.json").exists()
    # and reports where its first classification went, the store write included
    timings = json.loads((tmp_path / "data" / "web-v1-seed42-300" / "ready.json").read_text())[
        "classify_timings"
    ]
    assert {"sync", "labels", "write", "total"} <= set(timings)
    assert any("first classification" in n for n in result["notes"])
