"""Smoke test of the model benchmark (bench/bench_models.py) in its quick mode, without peers.

Timings are not checked (benchmarks live in bench/, not in timed tests); the test checks that the
benchmark runs end to end, reports every measurement it promises, and that what it fits is
right: the CDNOW estimates are the published ones and the simulated fit is near the truth.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_models_benchmark_quick(tmp_path: Path) -> None:
    bench = _load("bench_models")
    args = argparse.Namespace(quick=True, out=tmp_path, no_peers=True, repeats=1)
    result = bench.run(args)

    assert result["ok"], result["notes"]
    assert {"goal", "dataset", "rows", "results", "notes"} <= set(result)
    assert result["dataset"]["simulated_customers"] == bench.QUICK_CUSTOMERS
    steps = {(r["data"], r["step"]) for r in result["rows"]}
    for data in ("cdnow", "simulated"):
        assert {(data, "BG/NBD fit"), (data, "Gamma-Gamma fit")} <= steps
        assert (data, "P(alive) + E[purchases in 52 weeks]") in steps
    assert all(r["tierwise_ms"] > 0 for r in result["rows"])
    tw = result["results"]["tierwise"]
    # CDNOW: the published estimates (the benchmark's own check, repeated here)
    assert round(tw["cdnow"]["bgnbd"]["r"], 3) == 0.243
    assert round(tw["cdnow"]["gamma_gamma"]["q"], 2) == 3.74
    # simulated from the CDNOW estimates: the fit lands near them
    sim = tw["simulated"]
    assert sim["customers"] == bench.QUICK_CUSTOMERS
    assert sim["compressed_rows"] < sim["customers"]
    assert sim["bgnbd"]["r"] == pytest.approx(bench.BG_TRUE["r"], rel=0.25)
    assert sim["bgnbd"]["alpha"] == pytest.approx(bench.BG_TRUE["alpha"], rel=0.35)
    # scoring covered every customer: expected purchases are positive and P(alive) ≤ 1
    assert 0 < sim["score_sum"][0] <= sim["customers"] and sim["score_sum"][1] > 0
    assert any("peers skipped" in n for n in result["notes"])
    # the peers read the same data: the .npz written for them round-trips
    saved = np.load(tmp_path / "data" / f"models-v{bench.DATA_VERSION}-cdnow.npz")
    assert saved["frequency"].size == 2357 and int((saved["frequency"] > 0).sum()) == 946
