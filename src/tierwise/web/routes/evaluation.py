"""The evaluation pages: everything the report shows — tier performance over time, Pareto
curve, migration with the customers behind each cell, the flow over several snapshots, cost to
serve, drift, before/after the last scheme change, holdout uplift — and backtests run as
background jobs from a form (each page and section with its JSON twin)."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from tierwise.classify._service import last_order_day
from tierwise.errors import DataError
from tierwise.evaluate import (
    SECTIONS,
    backtest_job,
    cell_customers,
    evaluation_view,
    queue_backtest,
    queued_backtests,
    recent_backtests,
    run_queued_backtests,
)
from tierwise.evaluate._backtest_jobs import MAX_HORIZON
from tierwise.store import read_only
from tierwise.web._deps import (
    MAX_ID,
    ChangingUser,
    CurrentUser,
    IdPath,
    LangDep,
    SettingsDep,
    StoreDep,
)
from tierwise.web._render import page, twin

router = APIRouter()
Dimension = Annotated[str, Query(max_length=64)]
Label = Annotated[str, Query(min_length=1, max_length=64)]
FromQ = Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID)]
ToQ = Annotated[int | None, Query(alias="to", ge=1, le=MAX_ID)]
FromId = Annotated[int, Query(alias="from", ge=1, le=MAX_ID)]
ToId = Annotated[int, Query(alias="to", ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
FormText = Annotated[str, Form(max_length=64)]
#: the words the chart builders (static/evaluation.js) put on legends
_CHART_WORDS = ("predicted", "actual", "cost", "discounts", "gross_profit", "predicted_spend",
                "new")  # fmt: skip
HORIZON = 180


def _view(store: Any, settings: Any, auth: Any, lang: str, dimension: str,
          a: int | None = None, b: int | None = None,
          sections: tuple[str, ...] | None = None) -> dict[str, Any]:  # fmt: skip
    return evaluation_view(
        settings, read_only(store), principal=auth.principal, dimension=dimension,
        from_snapshot=a, to_snapshot=b, lang=lang,
        sections=SECTIONS if sections is None else sections,
    )  # fmt: skip


def _backtest_defaults(store: Any) -> dict[str, Any]:
    last = last_order_day(read_only(store))
    return {"as_of": (last - timedelta(days=HORIZON)).isoformat(), "horizon": HORIZON,
            "last_order_day": last.isoformat(), "max_horizon": MAX_HORIZON}  # fmt: skip


def _words(lang: str) -> dict[str, str]:
    from tierwise.web._i18n import t

    return {k: t(f"eval.chart_{k}", lang) for k in _CHART_WORDS}


@router.get("/evaluation", response_class=HTMLResponse, include_in_schema=False)
def evaluation_page(
    request: Request, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier", from_snapshot: FromQ = None, to_snapshot: ToQ = None,
    backtest: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:  # fmt: skip
    data = _view(store, settings, auth, lang, dimension, from_snapshot, to_snapshot)
    with read_only(store).connect() as conn:
        runs = recent_backtests(conn, principal=auth.principal, limit=5)
        shown = (
            backtest_job(conn, principal=auth.principal, job_id=backtest)
            if backtest is not None
            else next((r for r in runs), None)
        )
    context = {"labels": data.get("labels") or {}, "risk": data.get("risk_labels") or {},
               "words": _words(lang)}  # fmt: skip
    return page(request, "evaluation.html", {
        "e": data, "chart_context": context, "runs": runs, "run": shown,
        "defaults": _backtest_defaults(store),
    })  # fmt: skip


@router.get("/api/v1/evaluation", tags=["evaluation"])
def evaluation_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier", from_snapshot: FromQ = None, to_snapshot: ToQ = None,
) -> JSONResponse:  # fmt: skip
    """Every section of the evaluation page: tier metrics per snapshot with the Pareto curve,
    the migration matrix, the flow, cost to serve, drift, before/after and holdout uplift."""
    return twin(_view(store, settings, auth, lang, dimension, from_snapshot, to_snapshot))


@router.get("/api/v1/evaluation/flow", tags=["evaluation"])
def flow_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier",
) -> JSONResponse:  # fmt: skip
    """Customers flowing between tiers over the last six snapshots (Sankey links
    `"<snapshot>:<label>"` → `"<snapshot>:<label>"`)."""
    return twin(_view(store, settings, auth, lang, dimension, sections=("flow",)))


@router.get("/api/v1/evaluation/cost", tags=["evaluation"])
def cost_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier",
) -> JSONResponse:  # fmt: skip
    """Cost to serve per tier in the year to the latest snapshot (interactions, visits, service
    hours, discounts) against its gross profit."""
    return twin(_view(store, settings, auth, lang, dimension, sections=("cost",)))


@router.get("/api/v1/evaluation/drift", tags=["evaluation"])
def drift_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier",
) -> JSONResponse:  # fmt: skip
    """Drift between the two latest snapshots: tier sizes, the PSI of input features, the
    calibration of expected purchases and of churn risk, and the warnings beyond thresholds."""
    return twin(_view(store, settings, auth, lang, dimension, sections=("drift",)))


@router.get("/api/v1/evaluation/before-after", tags=["evaluation"])
def before_after_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier",
) -> JSONResponse:  # fmt: skip
    """Tier metrics before and after the last scheme change, with the periods and the
    confidence in words (`before_after` is null without a change)."""
    return twin(_view(store, settings, auth, lang, dimension, sections=("before_after",)))


@router.get("/api/v1/evaluation/holdout", tags=["evaluation"])
def holdout_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier",
) -> JSONResponse:  # fmt: skip
    """Uplift of treated over held-out customers, per tier with a playbook holdout share."""
    return twin(_view(store, settings, auth, lang, dimension, sections=("holdout",)))


def _cell(store: Any, auth: Any, a: int, b: int, dimension: str, row: str, col: str,
          limit: int, offset: int) -> dict[str, Any]:  # fmt: skip
    with read_only(store).connect() as conn:
        return cell_customers(
            conn, principal=auth.principal, from_snapshot=a, to_snapshot=b, dimension=dimension,
            from_label=row, to_label=col, limit=limit, offset=offset,
        )  # fmt: skip


@router.get("/evaluation/migration", response_class=HTMLResponse, include_in_schema=False)
def cell_page(
    request: Request, lang: LangDep, store: StoreDep, auth: CurrentUser,
    from_snapshot: FromId, to_snapshot: ToId,
    row: Label, col: Label, dimension: Dimension = "value_tier",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200, offset: Offset = 0,
) -> Response:  # fmt: skip
    data = _cell(store, auth, from_snapshot, to_snapshot, dimension, row, col, limit, offset)
    return page(request, "evaluation_cell.html", {"c": data})


@router.get("/api/v1/evaluation/migration", tags=["evaluation"])
def cell_json(
    store: StoreDep, auth: CurrentUser,
    from_snapshot: FromId, to_snapshot: ToId,
    row: Label, col: Label, dimension: Dimension = "value_tier",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200, offset: Offset = 0,
) -> JSONResponse:  # fmt: skip
    """The customers behind one migration cell (`row` may be `__new__`), by customer id."""
    return twin(_cell(store, auth, from_snapshot, to_snapshot, dimension, row, col, limit, offset))


# -- backtests: queued by a form or the API, run by the app's job threads -----------------------


class BacktestIn(BaseModel):
    as_of: date = Field(description="Classify as of this day (only data before its end).")
    horizon_days: int = Field(HORIZON, description="Days of outcomes after the as-of date.")
    dimension: str = Field("value_tier", max_length=64)
    # bounded like every id: a larger number reached the database and failed there (a 500)
    scheme_version: int | None = Field(
        None,
        ge=0,
        le=MAX_ID,
        description="Published scheme version (default: the current; 0: default).",
    )
    compare_version: int | None = Field(
        None, ge=0, le=MAX_ID, description="A second scheme version, backtested side by side."
    )


_DRAINING = threading.Lock()


def _after_classification(jobs: Any) -> None:
    """Wait while this process classifies: it rewrites the analytic copy a backtest reads."""
    for _ in range(24 * 3600):  # seconds; a classification of 10M orders takes minutes
        run = jobs.classify_run
        if run is None or run.state != "running":
            return
        time.sleep(1.0)


def _drain(jobs: Any, settings: Any, store: Any) -> None:
    """Run the queued backtests in one of the app's job threads, one after the other (the
    other thread stays free for classifications and imports)."""

    def work() -> None:
        while _DRAINING.acquire(blocking=False):  # else the thread draining now runs it
            try:
                run_queued_backtests(settings, store, before=lambda: _after_classification(jobs))
            finally:
                _DRAINING.release()
            with read_only(store).connect() as conn:  # queued while the last one finished
                if not queued_backtests(conn):
                    return

    jobs.submit(work)


def _start(request: Request, settings: Any, store: Any, auth: Any, body: BacktestIn) -> int:
    with store.begin() as conn:
        job_id = queue_backtest(
            conn, principal=auth.principal, as_of=body.as_of, horizon_days=body.horizon_days,
            dimension=body.dimension, scheme_version=body.scheme_version,
            compare_version=body.compare_version,
        )  # fmt: skip
    _drain(request.app.state.jobs, settings, store)
    return job_id


def _number(value: str, name: str, lang: str) -> int | None:
    from tierwise.web._i18n import t

    text = value.strip()
    if not text:
        return None
    if not text.isdigit():
        raise DataError(t("eval.err_number", lang, field=name, value=text[:64]))
    return int(text)


def _panel(request: Request, settings: Any, store: Any, auth: Any, lang: str,
           job_id: int) -> Response:  # fmt: skip
    with read_only(store).connect() as conn:
        run = backtest_job(conn, principal=auth.principal, job_id=job_id)
    try:  # the tier names of the backtest's dimension in the current scheme
        labels = _view(store, settings, auth, lang, run["params"]["dimension"], sections=())
    except DataError:  # a dimension the scheme no longer has: its keys as they are
        labels = {}
    context = {"labels": labels.get("labels") or {}, "risk": labels.get("risk_labels") or {},
               "words": _words(lang)}  # fmt: skip
    return page(request, "evaluation_backtest.html", {"run": run, "chart_context": context})


@router.post("/evaluation/backtests", include_in_schema=False)
def backtest_form(
    request: Request, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: ChangingUser,
    as_of: FormText, horizon: FormText = str(HORIZON), scheme_version: FormText = "",
    compare_version: FormText = "", dimension: FormText = "value_tier",
) -> Response:  # fmt: skip
    from tierwise.web._i18n import t

    try:
        day = date.fromisoformat(as_of.strip())
    except ValueError:
        raise DataError(t("eval.err_date", lang, value=as_of[:64])) from None
    days = _number(horizon, "horizon", lang)
    body = BacktestIn(
        as_of=day, horizon_days=HORIZON if days is None else days, dimension=dimension,
        scheme_version=_number(scheme_version, "scheme_version", lang),
        compare_version=_number(compare_version, "compare_version", lang),
    )  # fmt: skip
    job_id = _start(request, settings, store, auth, body)
    if request.headers.get("hx-request"):
        return _panel(request, settings, store, auth, lang, job_id)
    query = urlencode({"dimension": dimension, "backtest": job_id})
    return RedirectResponse(f"/evaluation?{query}#backtest", status_code=303)


@router.get("/evaluation/backtests/{job_id}", response_class=HTMLResponse, include_in_schema=False)
def backtest_panel(
    request: Request, job_id: IdPath, lang: LangDep, settings: SettingsDep, store: StoreDep,
    auth: CurrentUser,
) -> Response:  # fmt: skip
    return _panel(request, settings, store, auth, lang, job_id)


@router.post("/api/v1/evaluation/backtests", status_code=202, tags=["evaluation"])
def backtest_start(
    request: Request, body: BacktestIn, settings: SettingsDep, store: StoreDep, auth: ChangingUser
) -> JSONResponse:
    """Queue a backtest (classify as of a past date with a scheme version, optionally a second
    one side by side, and compare with the horizon after it); poll its job for the result."""
    job_id = _start(request, settings, store, auth, body)
    with read_only(store).connect() as conn:
        return twin(backtest_job(conn, principal=auth.principal, job_id=job_id), status_code=202)


@router.get("/api/v1/evaluation/backtests", tags=["evaluation"])
def backtests_json(
    store: StoreDep, auth: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> JSONResponse:
    """The latest backtests, newest first: inputs, state and result."""
    with read_only(store).connect() as conn:
        return twin(recent_backtests(conn, principal=auth.principal, limit=limit))


@router.get("/api/v1/evaluation/backtests/{job_id}", tags=["evaluation"])
def backtest_json(job_id: IdPath, store: StoreDep, auth: CurrentUser) -> JSONResponse:
    """One backtest: state, inputs and (once done) revenue and orders per tier in the horizon,
    the top tier's lift, churn-risk, expected-purchase and CLV calibration (two schemes side by
    side when compared)."""
    with read_only(store).connect() as conn:
        return twin(backtest_job(conn, principal=auth.principal, job_id=job_id))
