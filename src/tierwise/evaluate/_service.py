"""The evaluation of the store's data: what the CLI commands and the report call (one function
each)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlalchemy as sa

from tierwise.classify import _store
from tierwise.engine import connect
from tierwise.errors import NotFoundError
from tierwise.evaluate._backtest import backtest, compare
from tierwise.evaluate._before_after import before_after
from tierwise.evaluate._cost import COSTS, HOURLY_RATE, cost_to_serve
from tierwise.evaluate._drift import Thresholds, drift
from tierwise.evaluate._holdout import holdout_uplift
from tierwise.evaluate._metrics import (
    performance,
    published_snapshots,
    snapshot_features,
    snapshot_tiers,
)
from tierwise.evaluate._migration import NEW, flow, migration, migration_customers
from tierwise.scheme._io import load_scheme
from tierwise.scheme._model import Scheme
from tierwise.settings import Settings
from tierwise.store.tables import snapshots

if TYPE_CHECKING:  # access imports this package (the dashboard's matrix): no cycle at run time
    from tierwise.access._principal import Principal

_NONE = "No published snapshot yet: run `tierwise classify` first. / 还没有已发布的快照：请先运行 `tierwise classify`。"


def _order(scheme: Scheme, dimension: str) -> list[str]:
    dim = scheme.dimensions.get(dimension)
    return [] if dim is None else list(reversed(dim.keys()))


def backtest_store(
    settings: Settings,
    store: sa.Engine,
    *,
    as_of: date,
    horizon_days: int,
    scheme: Path | None = None,
    compare_with: Path | None = None,
    dimension: str = "value_tier",
) -> dict[str, Any]:
    """Backtest the published scheme (or ``scheme``), optionally against ``compare_with``."""
    with store.connect() as conn:
        published = _store.current_scheme(conn).scheme
    first = load_scheme(scheme) if scheme is not None else published
    with connect(settings, store) as analytics:
        if compare_with is not None:
            return compare(
                analytics, first, load_scheme(compare_with), as_of=as_of,
                horizon_days=horizon_days, dimension=dimension,
            )  # fmt: skip
        bt = backtest(analytics, first, as_of=as_of, horizon_days=horizon_days, dimension=dimension)
        return bt.to_dict()


def _pair(conn: sa.Connection, from_id: int | None, to_id: int | None) -> tuple[int, int]:
    snaps = published_snapshots(conn)
    if len(snaps) < 2 and (from_id is None or to_id is None):
        raise NotFoundError(
            "Migration needs two published snapshots; classify again at a later date "
            "(`tierwise classify --as-of DATE`). / 迁移需要两个已发布的快照：请以更晚的日期再分类一次。"
        )
    ids = [int(s.id) for s in snaps]
    for value in (from_id, to_id):
        if value is not None and value not in ids:
            raise NotFoundError(
                f"Snapshot {value} is not a published snapshot; use one of {ids}. / "
                f"快照 {value} 不存在或未发布，可用：{ids}。"
            )
    return (from_id if from_id is not None else ids[-2], to_id if to_id is not None else ids[-1])


def migration_store(
    store: sa.Engine,
    *,
    from_snapshot: int | None = None,
    to_snapshot: int | None = None,
    dimension: str = "value_tier",
) -> dict[str, Any]:
    """The migration matrix between two published snapshots (default: the two latest)."""
    with store.connect() as conn:
        a, b = _pair(conn, from_snapshot, to_snapshot)
        snap = conn.execute(sa.select(snapshots).where(snapshots.c.id == b)).one()
        order = _order(_store.scheme_for_snapshot(conn, snapshot=snap), dimension)
        return migration(conn, from_snapshot=a, to_snapshot=b, dimension=dimension, order=order)


def _counts(tiers: pl.DataFrame) -> dict[str, int]:
    return {str(k): int(n) for k, n in tiers.group_by("label").len().iter_rows()}


def drift_store(
    settings: Settings,
    store: sa.Engine,
    *,
    dimension: str = "value_tier",
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """Drift between the two latest published snapshots."""
    with store.connect() as conn:
        a, b = _pair(conn, None, None)
        rows = {int(s.id): s for s in published_snapshots(conn)}
        old_t = snapshot_tiers(conn, snapshot_id=a, dimension=dimension)
        new_t = snapshot_tiers(conn, snapshot_id=b, dimension=dimension)
        scheme = _store.scheme_for_snapshot(conn, snapshot=rows[a])
    out = drift(
        snapshot_features(settings.data_dir, a),
        snapshot_features(settings.data_dir, b),
        old_tiers=_counts(old_t),
        new_tiers=_counts(new_t),
        old_as_of=rows[a].as_of,
        new_as_of=rows[b].as_of,
        horizon_days=int(scheme.models.horizon_days),
        thresholds=thresholds,
    )
    return {"from_snapshot": a, "to_snapshot": b, "dimension": dimension} | out


def report_data(
    settings: Settings,
    store: sa.Engine,
    *,
    dimension: str = "value_tier",
    backtest_as_of: date | None = None,
    horizon_days: int = 180,
    costs: dict[str, float] | None = None,
    hourly_rate: float = HOURLY_RATE,
) -> dict[str, Any]:
    """Every number of the report: performance over time, migration, drift, cost to serve,
    holdout uplift and (with ``backtest_as_of``) a backtest."""
    with store.connect() as conn:
        snaps = published_snapshots(conn)
        if not snaps:
            raise NotFoundError(_NONE)
        latest = snaps[-1]
        scheme = _store.scheme_for_snapshot(conn, snapshot=latest)
        perf = performance(conn, data_dir=settings.data_dir, dimension=dimension)
        tiers = snapshot_tiers(conn, snapshot_id=int(latest.id), dimension=dimension)
        before = (
            snapshot_tiers(conn, snapshot_id=int(snaps[-2].id), dimension=dimension)
            if len(snaps) > 1
            else None
        )
    order = _order(scheme, dimension)
    out: dict[str, Any] = {
        "dimension": dimension,
        "title": scheme.dimensions[dimension].title.model_dump()
        if dimension in scheme.dimensions
        else {"zh": dimension, "en": dimension},
        "labels": {k: _label_text(scheme, dimension, k) for k in order},
        "snapshot": {"id": int(latest.id), "as_of": latest.as_of.isoformat()},
        "performance": perf,
        "migration": None,
        "drift": None,
        "holdout": [],
        "flow": [],
    }
    if len(snaps) > 1:
        with store.connect() as conn:
            ids = [int(x.id) for x in snaps[-6:]]
            out["flow"] = flow(conn, snapshot_ids=ids, dimension=dimension)
        out["migration"] = migration_store(store, dimension=dimension)
        out["drift"] = drift_store(settings, store, dimension=dimension)
        books = scheme.playbooks
        if books is not None and books.dimension == dimension and before is not None:
            shares = {t: float(p.holdout_share) for t, p in books.tiers.items() if p.holdout_share}
            feats = snapshot_features(
                settings.data_dir, int(latest.id), ["last_order_day", "revenue_365d"]
            )
            out["holdout"] = holdout_uplift(before, feats, shares=shares, since=snaps[-2].as_of)
    with connect(settings, store) as analytics:
        out["cost"] = cost_to_serve(
            analytics, tiers, as_of=latest.as_of, order=order,
            costs=None if costs is None else COSTS | costs, hourly_rate=hourly_rate,
        )  # fmt: skip
        if backtest_as_of is not None:
            out["backtest"] = backtest(
                analytics,
                scheme,
                as_of=backtest_as_of,
                horizon_days=horizon_days,
                dimension=dimension,
            ).to_dict()
    return out


def before_after_store(
    settings: Settings, store: sa.Engine, *, dimension: str = "value_tier", at: date | None = None
) -> dict[str, Any]:
    """Before/after the latest scheme change (or the snapshot on/after ``at``)."""
    with store.connect() as conn:
        return before_after(conn, data_dir=settings.data_dir, dimension=dimension, at=at)


def evaluation_view(
    conn: sa.Connection,
    *,
    principal: Principal,
    data_dir: Path,
    dimension: str = "value_tier",
    from_snapshot: int | None = None,
    to_snapshot: int | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """What the evaluation page shows (whole population: roles that may preview): tier metrics
    over time, the Pareto curve, the migration matrix between two snapshots, the flow."""
    principal.require("preview")
    snaps = published_snapshots(conn)
    if not snaps:
        return {"snapshots": [], "performance": [], "migration": None, "flow": [], "labels": {}}
    scheme = _store.scheme_for_snapshot(conn, snapshot=snaps[-1])
    if dimension not in scheme.dimensions:
        raise NotFoundError(
            f"Dimension {dimension!r} is not in the scheme; use one of {', '.join(scheme.dimensions)}."
        )
    order = _order(scheme, dimension)
    out: dict[str, Any] = {
        "dimension": dimension,
        "title": scheme.dimensions[dimension].title.get(lang),
        "snapshots": [{"id": int(x.id), "as_of": x.as_of.isoformat()} for x in snaps],
        "labels": {k: _label_text(scheme, dimension, k)[lang] for k in order},
        "performance": performance(conn, data_dir=data_dir, dimension=dimension),
        "migration": None,
        "flow": [],
    }
    if len(snaps) > 1 or (from_snapshot is not None and to_snapshot is not None):
        a, b = _pair(conn, from_snapshot, to_snapshot)
        out["migration"] = migration(
            conn, from_snapshot=a, to_snapshot=b, dimension=dimension, order=order
        )
        out["flow"] = flow(conn, snapshot_ids=[int(x.id) for x in snaps[-6:]], dimension=dimension)
    return out


def cell_customers(
    conn: sa.Connection,
    *,
    principal: Principal,
    from_snapshot: int,
    to_snapshot: int,
    dimension: str,
    from_label: str,
    to_label: str,
    limit: int = 200,
    offset: int = 0,
) -> dict[str, Any]:
    """The customers behind one cell of the migration matrix (``from_label`` may be NEW)."""
    principal.require("preview")
    _pair(conn, from_snapshot, to_snapshot)  # both must be published snapshots
    rows = migration_customers(
        conn, from_snapshot=from_snapshot, to_snapshot=to_snapshot, dimension=dimension,
        from_label=from_label, to_label=to_label, limit=limit, offset=offset,
    )  # fmt: skip
    return {
        "from_snapshot": from_snapshot, "to_snapshot": to_snapshot, "dimension": dimension,
        "from_label": from_label, "to_label": to_label, "new": from_label == NEW,
        "customers": rows, "limit": limit, "offset": offset,
    }  # fmt: skip


def _label_text(scheme: Scheme, dimension: str, key: str) -> dict[str, str]:
    from tierwise.classify._explain import label_text

    dim = scheme.dimensions[dimension]
    return {"zh": label_text(dim, key, "zh"), "en": label_text(dim, key, "en")}


__all__ = [
    "backtest_store",
    "before_after_store",
    "cell_customers",
    "drift_store",
    "evaluation_view",
    "migration_store",
    "report_data",
]
