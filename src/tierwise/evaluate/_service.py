"""The evaluation of the store's data: what the CLI commands, the report and the web page call.

The page and the report show the same sections, computed by the same functions here: tier
performance over time (with the Pareto curve), migration, the flow over several snapshots, cost
to serve, drift, before/after the last scheme change and holdout uplift. Each section is cached
on disk per generation of published snapshots (``_cache``): the page reads up to twelve
snapshots' labels and features once, not on every visit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl
import sqlalchemy as sa

from tierwise.classify import _store
from tierwise.engine import Analytics, connect
from tierwise.errors import DataError, NotFoundError
from tierwise.evaluate._backtest import backtest, compare
from tierwise.evaluate._before_after import before_after
from tierwise.evaluate._cache import Cache, generation
from tierwise.evaluate._cost import cost_to_serve
from tierwise.evaluate._drift import FEATURES, Thresholds, drift
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
from tierwise.store import read_only
from tierwise.store.tables import interactions, orders, snapshots

if TYPE_CHECKING:  # access imports this package (the dashboard's matrix): no cycle at run time
    from tierwise.access._principal import Principal

_NONE = "No published snapshot yet: run `tierwise classify` first. / 还没有已发布的快照：请先运行 `tierwise classify`。"
#: snapshots in the performance table and charts, and in the flow
PERFORMANCE_SNAPSHOTS: Final = 12
FLOW_SNAPSHOTS: Final = 6
SECTIONS: Final = (
    "performance", "migration", "flow", "cost", "drift", "before_after", "holdout",
)  # fmt: skip
#: the calibration inputs the drift reads from the features files, besides ``FEATURES``
_CALIBRATION: Final = ("expected_purchases", "purchase_days", "frequency", "recency", "T")
CHURN: Final = "churn_risk"
# one sync of the analytic copy at a time from the evaluation (page sections, backtest jobs):
# two syncs in one process would both rewrite the copy's bookkeeping rows and one would fail
_SYNC: Final = threading.Lock()


def analytics_for(settings: Settings, store: sa.Engine) -> Analytics:
    """The engine on the store's data, synced under the evaluation's lock."""
    with _SYNC:
        return connect(settings, store)


def _order(scheme: Scheme, dimension: str) -> list[str]:
    dim = scheme.dimensions.get(dimension)
    return [] if dim is None else list(reversed(dim.keys()))


def _label_text(scheme: Scheme, dimension: str, key: str) -> dict[str, str]:
    from tierwise.classify._explain import label_text

    dim = scheme.dimensions[dimension]
    return {"zh": label_text(dim, key, "zh"), "en": label_text(dim, key, "en")}


def scheme_by_version(conn: sa.Connection, version: int) -> Scheme:
    """A published scheme version (0: the shipped default); the error lists the versions."""
    from tierwise.scheme import default_scheme
    from tierwise.store.tables import schemes

    if version == 0:
        return default_scheme()
    document = conn.scalar(sa.select(schemes.c.document).where(schemes.c.version == version))
    if document is None:
        known = [0, *conn.scalars(sa.select(schemes.c.version).order_by(schemes.c.version))]
        raise DataError(
            f"Scheme version {version} was never published; use one of {known} (0: the "
            f"shipped default). / 方案版本 {version} 未发布，可用：{known}（0 为内置默认方案）。",
            key="eval.err_version", version=version, known=", ".join(map(str, known)),
        )  # fmt: skip
    return load_scheme(document)


def scheme_versions(conn: sa.Connection) -> list[dict[str, Any]]:
    """Published scheme versions, newest first, then the shipped default (version 0)."""
    from tierwise.store.tables import schemes

    rows = conn.execute(
        sa.select(schemes.c.version, schemes.c.name, schemes.c.published_at).order_by(
            schemes.c.version.desc()
        )
    )
    out = [{"version": int(r.version), "name": r.name,
            "published_at": r.published_at.isoformat() if r.published_at else None} for r in rows]  # fmt: skip
    return [*out, {"version": 0, "name": "default", "published_at": None}]


def backtest_store(
    settings: Settings,
    store: sa.Engine,
    *,
    as_of: date,
    horizon_days: int,
    scheme: Path | Scheme | None = None,
    compare_with: Path | Scheme | None = None,
    dimension: str = "value_tier",
) -> dict[str, Any]:
    """Backtest the published scheme (or ``scheme``), optionally against ``compare_with``."""
    with read_only(store).connect() as conn:
        published = _store.current_scheme(conn).scheme

    def loaded(value: Path | Scheme) -> Scheme:
        return value if isinstance(value, Scheme) else load_scheme(value)

    first = loaded(scheme) if scheme is not None else published
    with analytics_for(settings, store) as analytics:
        if compare_with is not None:
            return compare(
                analytics, first, loaded(compare_with), as_of=as_of,
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
    with read_only(store).connect() as conn:
        a, b = _pair(conn, from_snapshot, to_snapshot)
        snap = conn.execute(sa.select(snapshots).where(snapshots.c.id == b)).one()
        order = _order(_store.scheme_for_snapshot(conn, snapshot=snap), dimension)
        return migration(conn, from_snapshot=a, to_snapshot=b, dimension=dimension, order=order)


_SCHEMES: Final[dict[str, Scheme]] = {}


def _scheme_of(conn: sa.Connection, snap: sa.Row[Any]) -> Scheme:
    """The scheme a snapshot ran, parsed once per process (its hash names it): a warm page
    would otherwise spend a quarter of a second parsing the YAML."""
    key = f"{snap.scheme_id}:{snap.scheme_hash}"
    found = _SCHEMES.get(key)
    if found is None:
        if len(_SCHEMES) > 32:  # a handful of versions in use at a time
            _SCHEMES.clear()
        found = _SCHEMES[key] = _store.scheme_for_snapshot(conn, snapshot=snap)
    return found


def _counts(tiers: pl.DataFrame) -> dict[str, int]:
    return {str(k): int(n) for k, n in tiers.group_by("label").len().iter_rows()}


# -- the sections ---------------------------------------------------------------------------------


@dataclass
class _Context:
    """What every section reads: the published snapshots, the latest scheme, the cache."""

    settings: Settings
    store: sa.Engine
    conn: sa.Connection
    dimension: str
    snaps: list[sa.Row[Any]]
    scheme: Scheme
    order: list[str]
    cache: Cache

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def fetch(self, section: str, params: dict[str, Any], compute: Callable[[], Any]) -> Any:
        return self.cache.fetch(section, {"dimension": self.dimension} | params, compute)


def _context(
    settings: Settings, store: sa.Engine, conn: sa.Connection, dimension: str, *, cache: bool
) -> _Context | None:
    snaps = published_snapshots(conn)
    if not snaps:
        return None
    scheme = _scheme_of(conn, snaps[-1])
    if dimension not in scheme.dimensions:
        raise DataError(
            f"Dimension {dimension!r} is not in the scheme; use one of "
            f"{', '.join(scheme.dimensions)}. / 方案中没有维度 {dimension!r}，可用："
            f"{', '.join(scheme.dimensions)}。",
            key="eval.err_dimension", dimension=dimension, known=", ".join(scheme.dimensions),
        )  # fmt: skip
    store_cache = Cache(settings.data_dir, generation(snaps), enabled=cache)
    return _Context(settings, store, conn, dimension, snaps, scheme, _order(scheme, dimension),
                    store_cache)  # fmt: skip


def _performance(ctx: _Context) -> list[dict[str, Any]]:
    return ctx.fetch(  # type: ignore[no-any-return]
        "performance", {"limit": PERFORMANCE_SNAPSHOTS},
        lambda: performance(ctx.conn, data_dir=ctx.data_dir, dimension=ctx.dimension,
                            limit=PERFORMANCE_SNAPSHOTS),
    )  # fmt: skip


def _migration(ctx: _Context, a: int | None, b: int | None) -> dict[str, Any] | None:
    if len(ctx.snaps) < 2 and (a is None or b is None):
        return None
    x, y = _pair(ctx.conn, a, b)
    return ctx.fetch(  # type: ignore[no-any-return]
        "migration", {"from": x, "to": y},
        lambda: migration(ctx.conn, from_snapshot=x, to_snapshot=y, dimension=ctx.dimension,
                          order=ctx.order),
    )  # fmt: skip


def _flow(ctx: _Context) -> dict[str, Any]:
    picked = ctx.snaps[-FLOW_SNAPSHOTS:]
    ids = [int(s.id) for s in picked]

    def compute() -> dict[str, Any]:
        links = flow(ctx.conn, snapshot_ids=ids, dimension=ctx.dimension) if len(ids) > 1 else []
        dates = [{"id": int(s.id), "as_of": s.as_of.isoformat()} for s in picked]
        return {"snapshots": dates, "links": links}

    return ctx.fetch("flow", {"ids": ids}, compute)  # type: ignore[no-any-return]


def _facts_state(conn: sa.Connection) -> dict[str, Any]:
    """What the cost to serve reads besides the snapshot: the store's orders and interactions
    (their newest row and change, both from an index)."""
    out = {}
    for table in (orders, interactions):
        # one aggregate per query: SQLite answers a lone max() from the index, two in one
        # SELECT scan the table (2 s at 12M orders)
        newest = conn.scalar(sa.select(sa.func.max(table.c.id)))
        changed = conn.scalar(sa.select(sa.func.max(table.c.updated_at)))
        out[table.name] = [newest, str(changed)]
    return out


def _prices(
    ctx: _Context, costs: dict[str, float] | None, hourly_rate: float | None
) -> tuple[dict[str, float], float]:
    """The cost of an interaction by kind and of a service hour: the published scheme's
    (``evaluation``; today's prices, not those of the scheme the snapshot ran), with
    ``costs`` and ``hourly_rate`` replacing some for one run."""
    settings = _store.current_scheme(ctx.conn).scheme.evaluation
    rate = settings.hourly_rate if hourly_rate is None else hourly_rate
    return settings.prices() | (costs or {}), rate


def _cost(ctx: _Context, prices: dict[str, float], hourly_rate: float) -> list[dict[str, Any]]:
    latest = ctx.snaps[-1]

    def compute() -> list[dict[str, Any]]:
        tiers = snapshot_tiers(ctx.conn, snapshot_id=int(latest.id), dimension=ctx.dimension)
        with analytics_for(ctx.settings, ctx.store) as analytics:
            return cost_to_serve(
                analytics, tiers, as_of=latest.as_of, order=ctx.order, costs=prices,
                hourly_rate=hourly_rate,
            )  # fmt: skip

    params = {"snapshot": int(latest.id), "costs": prices, "hourly_rate": hourly_rate,
              "facts": _facts_state(ctx.conn)}  # fmt: skip
    return ctx.fetch("cost", params, compute)  # type: ignore[no-any-return]


def _drift(ctx: _Context, thresholds: Thresholds | None) -> dict[str, Any] | None:
    if len(ctx.snaps) < 2:
        return None
    th = thresholds or Thresholds()
    old, new = ctx.snaps[-2], ctx.snaps[-1]

    def compute() -> dict[str, Any]:
        a, b = int(old.id), int(new.id)
        scheme = _scheme_of(ctx.conn, old)
        columns = list(dict.fromkeys([*FEATURES, *_CALIBRATION]))
        risk = (
            snapshot_tiers(ctx.conn, snapshot_id=a, dimension=CHURN)
            if CHURN in scheme.dimensions
            else None
        )
        out = drift(
            snapshot_features(ctx.data_dir, a, columns),
            snapshot_features(ctx.data_dir, b, columns),
            old_tiers=_counts(snapshot_tiers(ctx.conn, snapshot_id=a, dimension=ctx.dimension)),
            new_tiers=_counts(snapshot_tiers(ctx.conn, snapshot_id=b, dimension=ctx.dimension)),
            old_as_of=old.as_of, new_as_of=new.as_of,
            horizon_days=int(scheme.models.horizon_days), thresholds=th,
            models=_store.read_models(_store.snapshot_dir(ctx.data_dir, a)),
            old_risk=None if risk is None or risk.height == 0 else risk,
            risk_order=_order(scheme, CHURN),
        )  # fmt: skip
        return {"from_snapshot": a, "to_snapshot": b, "dimension": ctx.dimension} | out

    params = {"pair": [int(old.id), int(new.id)], "thresholds": th.__dict__}
    return ctx.fetch("drift", params, compute)  # type: ignore[no-any-return]


def _before_after(ctx: _Context) -> dict[str, Any] | None:
    def compute() -> dict[str, Any] | None:
        try:
            return before_after(ctx.conn, data_dir=ctx.data_dir, dimension=ctx.dimension)
        except NotFoundError:  # no scheme change between the published snapshots
            return None

    return ctx.fetch("before_after", {}, compute)  # type: ignore[no-any-return]


def _holdout(ctx: _Context) -> list[dict[str, Any]]:
    books = ctx.scheme.playbooks
    if len(ctx.snaps) < 2 or books is None or books.dimension != ctx.dimension:
        return []
    shares = {t: float(p.holdout_share) for t, p in books.tiers.items() if p.holdout_share}
    if not shares:
        return []
    before, latest = ctx.snaps[-2], ctx.snaps[-1]

    def compute() -> list[dict[str, Any]]:
        tiers = snapshot_tiers(ctx.conn, snapshot_id=int(before.id), dimension=ctx.dimension)
        feats = snapshot_features(ctx.data_dir, int(latest.id), ["last_order_day", "revenue_365d"])
        return holdout_uplift(tiers, feats, shares=shares, since=before.as_of)

    return ctx.fetch("holdout", {"shares": shares}, compute)  # type: ignore[no-any-return]


def _header(ctx: _Context, lang: str | None) -> dict[str, Any]:
    labels = {k: _label_text(ctx.scheme, ctx.dimension, k) for k in ctx.order}
    risk = (
        {k: _label_text(ctx.scheme, CHURN, k) for k in _order(ctx.scheme, CHURN)}
        if CHURN in ctx.scheme.dimensions
        else {}
    )
    title = ctx.scheme.dimensions[ctx.dimension].title.model_dump()
    latest = ctx.snaps[-1]

    def said(texts: dict[str, dict[str, str]]) -> dict[str, Any]:
        return texts if lang is None else {k: v[lang] for k, v in texts.items()}

    return {
        "dimension": ctx.dimension,
        "title": title if lang is None else title[lang],
        "labels": said(labels),
        "risk_labels": said(risk),
        "snapshot": {"id": int(latest.id), "as_of": latest.as_of.isoformat()},
        "snapshots": [{"id": int(x.id), "as_of": x.as_of.isoformat()} for x in ctx.snaps],
    }


def _sections(
    ctx: _Context,
    names: tuple[str, ...],
    *,
    from_snapshot: int | None = None,
    to_snapshot: int | None = None,
    costs: dict[str, float] | None = None,
    hourly_rate: float | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    priced = _prices(ctx, costs, hourly_rate) if "cost" in names else ({}, 0.0)
    make: dict[str, Callable[[], Any]] = {
        "performance": lambda: _performance(ctx),
        "migration": lambda: _migration(ctx, from_snapshot, to_snapshot),
        "flow": lambda: _flow(ctx),
        "cost": lambda: _cost(ctx, *priced),
        "drift": lambda: _drift(ctx, thresholds),
        "before_after": lambda: _before_after(ctx),
        "holdout": lambda: _holdout(ctx),
    }
    out = {name: make[name]() for name in names}  # seven sections at most
    if "cost" in names:  # what the cost section charged, to show beside it
        out["cost_prices"] = {"costs": priced[0], "hourly_rate": priced[1]}
    return out


def _empty(names: tuple[str, ...]) -> dict[str, Any]:
    lists = {"performance", "holdout", "cost"}
    return {"snapshots": [], "labels": {}, "dimension": None} | {
        n: [] if n in lists else None for n in names
    }


def evaluation_view(
    settings: Settings,
    store: sa.Engine,
    *,
    principal: Principal,
    dimension: str = "value_tier",
    from_snapshot: int | None = None,
    to_snapshot: int | None = None,
    lang: str = "en",
    sections: tuple[str, ...] = SECTIONS,
    cache: bool = True,
) -> dict[str, Any]:
    """What the evaluation page shows (whole population: roles that may preview): tier metrics
    over time and the Pareto curve, the migration matrix between two snapshots, the flow, cost
    to serve, drift, before/after the last scheme change and holdout uplift; the scheme
    versions a backtest can use. ``sections`` picks some (a JSON twin of one section)."""
    principal.require("preview")
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise NotFoundError(f"No evaluation section {unknown[0]!r}; use one of {SECTIONS}.")
    with read_only(store).connect() as conn:
        ctx = _context(settings, store, conn, dimension, cache=cache)
        if ctx is None:
            return _empty(sections) | {"scheme_versions": scheme_versions(conn)}
        out = _header(ctx, lang) | _sections(
            ctx, sections, from_snapshot=from_snapshot, to_snapshot=to_snapshot
        )
        out["scheme_versions"] = scheme_versions(conn)
        out["cache"] = ctx.cache.stats()
        return out


def drift_store(
    settings: Settings,
    store: sa.Engine,
    *,
    dimension: str = "value_tier",
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """Drift between the two latest published snapshots."""
    with read_only(store).connect() as conn:
        _pair(conn, None, None)  # two published snapshots, or an error that says why
        ctx = _context(settings, store, conn, dimension, cache=True)
        assert ctx is not None
        out = _drift(ctx, thresholds)
    assert out is not None
    return out


def report_data(
    settings: Settings,
    store: sa.Engine,
    *,
    dimension: str = "value_tier",
    backtest_as_of: date | None = None,
    horizon_days: int = 180,
    costs: dict[str, float] | None = None,
    hourly_rate: float | None = None,
) -> dict[str, Any]:
    """Every number of the report — the sections of the evaluation page, with the labels in
    both languages — and (with ``backtest_as_of``) a backtest."""
    with read_only(store).connect() as conn:
        ctx = _context(settings, store, conn, dimension, cache=True)
        if ctx is None:
            raise NotFoundError(_NONE)
        out = _header(ctx, None) | _sections(ctx, SECTIONS, costs=costs, hourly_rate=hourly_rate)
        scheme = ctx.scheme
    if backtest_as_of is not None:
        with analytics_for(settings, store) as analytics:
            out["backtest"] = backtest(
                analytics, scheme, as_of=backtest_as_of, horizon_days=horizon_days,
                dimension=dimension,
            ).to_dict()  # fmt: skip
    return out


def before_after_store(
    settings: Settings, store: sa.Engine, *, dimension: str = "value_tier", at: date | None = None
) -> dict[str, Any]:
    """Before/after the latest scheme change (or the snapshot on/after ``at``)."""
    with read_only(store).connect() as conn:
        return before_after(conn, data_dir=settings.data_dir, dimension=dimension, at=at)


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


__all__ = [
    "SECTIONS",
    "analytics_for",
    "backtest_store",
    "before_after_store",
    "cell_customers",
    "drift_store",
    "evaluation_view",
    "migration_store",
    "report_data",
    "scheme_by_version",
    "scheme_versions",
]
