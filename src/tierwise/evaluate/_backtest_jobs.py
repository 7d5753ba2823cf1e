"""Backtests started from the web app or the API: a job row each, run in the background.

A backtest is a full classification as of a past date plus the outcomes after it (minutes at a
million customers), so a request only queues it (``queue_backtest``: the inputs checked, a
``backtest`` row in the jobs table) and a worker thread runs it (``run_backtest_job``). The
state and the result live in the job row, so whichever web worker answers the page's polling
sees the same thing. One backtest runs at a time per process; the others wait ``queued``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from tierwise.errors import DataError, NotFoundError
from tierwise.settings import Settings
from tierwise.store import read_only
from tierwise.store.jobs import create_job, finish_job, get_job, start_job
from tierwise.store.tables import jobs, orders, utcnow

if TYPE_CHECKING:
    from tierwise.access._principal import Principal

KIND: Final = "backtest"
MAX_HORIZON: Final = 1095
_ONE_AT_A_TIME: Final = threading.Lock()


def _last_order_day(conn: sa.Connection) -> date | None:
    value = conn.scalar(sa.select(sa.func.max(orders.c.ordered_at)))
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else None


def queue_backtest(
    conn: sa.Connection,
    *,
    principal: Principal,
    as_of: date,
    horizon_days: int,
    dimension: str = "value_tier",
    scheme_version: int | None = None,
    compare_version: int | None = None,
) -> int:
    """Check the inputs and queue a backtest job; its id. ``scheme_version`` defaults to the
    published scheme; ``compare_version`` adds a second scheme side by side."""
    from tierwise.classify._store import current_scheme
    from tierwise.evaluate._service import scheme_by_version

    principal.require("preview")
    if not 1 <= horizon_days <= MAX_HORIZON:
        raise DataError(
            f"Horizon {horizon_days} days is outside 1..{MAX_HORIZON}; use e.g. 180. / "
            f"观察期 {horizon_days} 天超出 1..{MAX_HORIZON}，例如用 180。",
            key="eval.err_horizon", horizon=horizon_days, max=MAX_HORIZON,
        )  # fmt: skip
    last = _last_order_day(conn)
    if last is None or as_of >= last:
        hint = (last or date.today()) - timedelta(days=horizon_days)
        raise DataError(
            f"As-of date {as_of} leaves nothing to compare with: the last order is of "
            f"{last or 'no day (no orders yet)'}; choose an earlier date such as {hint}. / "
            f"回测日期 {as_of} 之后没有可比较的数据（最后一笔订单：{last or '无'}），请选更早的日期，例如 {hint}。",
            key="eval.err_as_of", as_of=as_of.isoformat(), last=str(last or "–"),
            hint=hint.isoformat(),
        )  # fmt: skip
    first = current_scheme(conn).version if scheme_version is None else scheme_version
    for version in (first, compare_version):
        if version is None:
            continue
        scheme = scheme_by_version(conn, version)
        if dimension not in scheme.dimensions:
            raise DataError(
                f"Dimension {dimension!r} is not in scheme version {version}; use one of "
                f"{', '.join(scheme.dimensions)}. / 方案版本 {version} 中没有维度 {dimension!r}。",
                key="eval.err_dimension", dimension=dimension, known=", ".join(scheme.dimensions),
            )  # fmt: skip
    params = {
        "as_of": as_of.isoformat(), "horizon_days": horizon_days, "dimension": dimension,
        "scheme_version": first, "compare_version": compare_version,
        "last_order_day": last.isoformat(),
    }  # fmt: skip
    return create_job(conn, kind=KIND, params=params, created_by=principal.user_id)


def _finite(value: Any) -> Any:
    """NaN and infinity become None: the jobs table's JSON refuses them, charts skip None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _claim(store: sa.Engine, job_id: int) -> dict[str, Any] | None:
    """Mark a queued backtest running in this process; its inputs, or None when another
    process took it first (or it is no longer queued)."""
    try:
        with store.begin() as conn:
            job = get_job(conn, job_id=job_id)
            if job.kind != KIND or job.state != "queued":
                return None
            start_job(conn, job_id=job_id)
    except DataError:  # started elsewhere meanwhile
        return None
    params: dict[str, Any] = job.params
    return params


def _execute(settings: Settings, store: sa.Engine, job_id: int, p: dict[str, Any]) -> None:
    from tierwise.evaluate._service import backtest_store, scheme_by_version

    try:
        with read_only(store).connect() as conn:
            first = scheme_by_version(conn, int(p["scheme_version"]))
            second = (
                None
                if p.get("compare_version") is None
                else scheme_by_version(conn, int(p["compare_version"]))
            )
        as_of = date.fromisoformat(p["as_of"])
        result = backtest_store(
            settings, store, as_of=as_of, horizon_days=int(p["horizon_days"]),
            scheme=first, compare_with=second, dimension=p["dimension"],
        )  # fmt: skip
        end = as_of + timedelta(days=int(p["horizon_days"]))
        last = date.fromisoformat(p["last_order_day"])
        result["partial"] = None if end <= last else last.isoformat()
        with store.begin() as conn:
            finish_job(conn, job_id=job_id, state="done", result=_finite(result))
    except Exception as exc:  # the page shows why; nothing else changed
        with store.begin() as conn:
            finish_job(conn, job_id=job_id, state="failed", error=str(exc) or type(exc).__name__)


def run_backtest_job(settings: Settings, store: sa.Engine, *, job_id: int) -> bool:
    """Run one queued backtest and record its result (or why it failed) in its job row;
    False when it was not queued any more (another worker took it)."""
    with _ONE_AT_A_TIME:
        params = _claim(store, job_id)
        if params is None:
            return False
        _execute(settings, store, job_id, params)
        return True


def run_queued_backtests(
    settings: Settings, store: sa.Engine, *, before: Callable[[], None] | None = None
) -> int:
    """Run every queued backtest, oldest first, one at a time; how many ran here.

    ``before`` is called before each (the web app waits there for a running classification,
    which rewrites the analytic copy a backtest reads). Queued jobs left by a stopped process
    are picked up too.
    """
    done = 0
    while True:  # one backtest per turn until the queue is empty
        if before is not None:
            before()
        with read_only(store).connect() as conn:
            waiting = queued_backtests(conn)
        if not waiting:
            return done
        done += run_backtest_job(settings, store, job_id=waiting[0])


def queued_backtests(conn: sa.Connection) -> list[int]:
    """Ids of the backtests waiting to run, oldest first."""
    query = sa.select(jobs.c.id).where(jobs.c.kind == KIND, jobs.c.state == "queued")
    rows: list[Any] = list(conn.scalars(query.order_by(jobs.c.id)))
    return [int(i) for i in rows]


def _view(row: Any) -> dict[str, Any]:
    started, finished = row.started_at, row.finished_at
    seconds = None
    if started is not None:
        seconds = round(((finished or utcnow()) - started).total_seconds(), 1)
    return {
        "job_id": int(row.id), "state": row.state, "params": row.params, "result": row.result,
        "error": row.error, "created_at": row.created_at.isoformat(),
        "finished_at": None if finished is None else finished.isoformat(), "seconds": seconds,
    }  # fmt: skip


def backtest_job(conn: sa.Connection, *, principal: Principal, job_id: int) -> dict[str, Any]:
    """A backtest job's state, inputs and result (roles that may preview: any backtest)."""
    principal.require("preview")
    try:
        job = get_job(conn, job_id=job_id)
    except NotFoundError:
        job = None
    if job is None or job.kind != KIND:
        raise NotFoundError(f"Backtest {job_id} does not exist.")
    return _view(job)


def recent_backtests(
    conn: sa.Connection, *, principal: Principal, limit: int = 5
) -> list[dict[str, Any]]:
    """The latest backtest jobs, newest first."""
    principal.require("preview")
    rows = conn.execute(
        sa.select(jobs).where(jobs.c.kind == KIND).order_by(jobs.c.id.desc()).limit(limit)
    )
    return [_view(r) for r in rows]


__all__ = [
    "KIND",
    "MAX_HORIZON",
    "backtest_job",
    "queue_backtest",
    "queued_backtests",
    "recent_backtests",
    "run_backtest_job",
    "run_queued_backtests",
]  # fmt: skip
