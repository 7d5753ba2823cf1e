"""Evaluate the tiering: per-tier metrics over time, migration, backtests, holdouts, cost to
serve, drift and a self-contained report (ARCHITECTURE.md: ``evaluate/``)."""

from __future__ import annotations

from tierwise.evaluate._backtest import Backtest, backtest, calibration_error, compare, outcomes
from tierwise.evaluate._holdout import holdout, holdout_expr, holdout_mask, holdout_seed
from tierwise.evaluate._metrics import pareto, performance, tier_metrics
from tierwise.evaluate._migration import NEW, flow, migration, migration_customers

__all__ = [
    "NEW",
    "Backtest",
    "backtest",
    "calibration_error",
    "compare",
    "flow",
    "holdout",
    "holdout_expr",
    "holdout_mask",
    "holdout_seed",
    "migration",
    "migration_customers",
    "outcomes",
    "pareto",
    "performance",
    "tier_metrics",
]
