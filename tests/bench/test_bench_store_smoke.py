"""Smoke test of the store classification benchmark (bench/bench_store.py) on a tiny store.

Timings are not checked (benchmarks live in bench/); the test checks that both
re-classifications run through ``classify_store`` on a copy of the cached store, that every
label row classified is stored, and that the cached store itself is left as it was.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_store_benchmark_reclassifies_a_copy(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_store", BENCH / "bench_store.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_store"] = bench
    spec.loader.exec_module(bench)
    result = bench.run(argparse.Namespace(out=tmp_path, customers=300))
    assert result["ok"], result["notes"]
    runs = {r["run"]: r for r in result["runs"]}
    assert set(runs) == {"same day", "a month later"}
    for r in runs.values():
        assert r["customers"] > 0
        # every customer gets a row per dimension of the default scheme
        assert r["label_rows"] > 10 * r["customers"]
        assert r["seconds"] >= r["write_s"] > 0
        # only the rows that changed are written; the rest stay shared with the previous snapshot
        assert 0 <= r["rows_written"] < r["label_rows"]
        assert {"sync", "labels", "write", "total"} <= set(r["timings"])
    # a month later, labels move (recency alone moves customers between segments)
    assert runs["a month later"]["changes"] > runs["same day"]["changes"]
    assert runs["a month later"]["rows_written"] > runs["same day"]["rows_written"]
    assert runs["same day"]["rows_written"] < runs["same day"]["label_rows"] / 4
    # the runs worked on a copy: the cached store still has its one snapshot
    db = tmp_path / "data" / "web-v1-seed42-300" / "data" / "tierwise.db"
    with sa.create_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM snapshots")).scalar_one() == 1
    assert not (tmp_path / "store-work" / "300").exists()
