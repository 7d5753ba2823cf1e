"""Evaluate the tiering: per-tier metrics over time, migration, backtests, holdouts, cost to
serve, drift and a self-contained report (ARCHITECTURE.md: ``evaluate/``).

``holdout(customer_pk, tier, share, seed)`` (and ``holdout_expr`` for Ibis, ``holdout_mask``
for arrays) is the one holdout assignment: act/ skips the customers it returns True for.
"""

from __future__ import annotations

from tierwise.evaluate._backtest import Backtest, backtest, calibration_error, compare, outcomes
from tierwise.evaluate._backtest_jobs import (
    backtest_job,
    queue_backtest,
    queued_backtests,
    recent_backtests,
    run_backtest_job,
    run_queued_backtests,
)
from tierwise.evaluate._before_after import before_after, confidence_words, two_proportions
from tierwise.evaluate._cost import COSTS, HOURLY_RATE, cost_to_serve
from tierwise.evaluate._drift import Thresholds, churn_calibration, drift, psi
from tierwise.evaluate._holdout import (
    holdout,
    holdout_clause,
    holdout_expr,
    holdout_mask,
    holdout_seed,
    holdout_uplift,
)
from tierwise.evaluate._metrics import pareto, performance, tier_metrics
from tierwise.evaluate._migration import NEW, flow, migration, migration_customers
from tierwise.evaluate._report import render_report, write_report
from tierwise.evaluate._service import (
    SECTIONS,
    backtest_store,
    before_after_store,
    cell_customers,
    drift_store,
    evaluation_view,
    migration_store,
    report_data,
    scheme_versions,
)

__all__ = [
    "COSTS",
    "HOURLY_RATE",
    "NEW",
    "SECTIONS",
    "Backtest",
    "Thresholds",
    "backtest",
    "backtest_job",
    "backtest_store",
    "before_after",
    "before_after_store",
    "calibration_error",
    "cell_customers",
    "churn_calibration",
    "compare",
    "confidence_words",
    "cost_to_serve",
    "drift",
    "drift_store",
    "evaluation_view",
    "flow",
    "holdout",
    "holdout_clause",
    "holdout_expr",
    "holdout_mask",
    "holdout_seed",
    "holdout_uplift",
    "migration",
    "migration_customers",
    "migration_store",
    "outcomes",
    "pareto",
    "performance",
    "psi",
    "queue_backtest",
    "queued_backtests",
    "recent_backtests",
    "render_report",
    "report_data",
    "run_backtest_job",
    "run_queued_backtests",
    "scheme_versions",
    "tier_metrics",
    "two_proportions",
    "write_report",
]
