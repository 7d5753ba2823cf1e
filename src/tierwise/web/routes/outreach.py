"""Reaching out: churn warnings and win-back results, the care calendar, target-list exports.

- ``/churn`` (``GET /api/v1/churn``): open win-back tasks with why each customer is at risk,
  and the outcomes so far (does the win-back playbook work?); a form records an outcome.
- ``/care`` (``GET /api/v1/care``): the care touches of the coming days by tier (birthdays,
  anniversaries, 春节 / 中秋 …), within quiet hours and the frequency cap.
- ``/export`` (``GET /api/v1/export``): a target list over labels and score ranges, headers in
  zh or en, CSV or XLSX (formulas neutralised), scoped like the customer list — a rep gets
  their own customers and the pool, an analyst masked contacts. Every export is audited.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from tierwise import act
from tierwise.act import Range
from tierwise.act._care import care_calendar
from tierwise.act._target_export import export_options, export_targets
from tierwise.errors import DataError
from tierwise.store import read_only
from tierwise.store.tables import utcnow
from tierwise.web._deps import Auth, ChangingUser, CurrentUser, IdPath, LangDep, StoreDep
from tierwise.web._flash import REFUSED, attempt, done, notice, said
from tierwise.web._render import page, twin

router = APIRouter()
OUTCOMES = ("won_back", "lost", "no_answer")
Outcome = Literal["won_back", "lost", "no_answer"]
Format = Literal["csv", "xlsx"]
Lang = Literal["zh", "en"]
Days = Annotated[int, Query(ge=1, le=366, description="look this many days ahead")]
Labels = Annotated[list[str], Query(description="dimension:label, repeatable (one dimension: any)")]
Scores = Annotated[
    list[str], Query(description="dimension:min:max, repeatable (either bound may be empty)")
]

# --- churn warnings and win-back ------------------------------------------------------------


def _churn(store: sa.Engine, auth: Auth, lang: str) -> dict[str, Any]:
    with read_only(store).connect() as conn:
        warnings = act.churn_warnings(conn, principal=auth.principal, now=utcnow(), lang=lang,
                                      limit=500)  # fmt: skip
        results = act.win_back_results(conn, principal=auth.principal)
    return {"warnings": warnings, "results": results}


def _churn_page(
    request: Request, store: sa.Engine, auth: Auth, lang: str, *, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    context = {**_churn(store, auth, lang), "outcomes": OUTCOMES, "error": error,
               "notice": notice(request, lang, {"outcome": "churn.done.outcome"})}  # fmt: skip
    return page(request, "churn.html", context, status_code=status_code)


@router.get("/churn", response_class=HTMLResponse, include_in_schema=False)
def churn_page(request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep) -> Response:
    return _churn_page(request, store, auth, lang)


@router.post("/churn/{task_id}/outcome", include_in_schema=False)
def churn_outcome_form(
    request: Request, task_id: IdPath, store: StoreDep, auth: ChangingUser, lang: LangDep,
    outcome: Annotated[Outcome, Form()], note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    return attempt(
        store,
        lambda conn: act.complete_task(
            conn,
            principal=auth.principal,
            task_id=task_id,
            now=utcnow(),
            note=note.strip() or None,
            outcome=outcome,
        ),
        lambda _: done("/churn", "outcome", task_id),
        lambda why: _churn_page(request, store, auth, lang, error=why, status_code=REFUSED),
        lang,
    )


@router.get("/api/v1/churn", tags=["outreach"])
def churn_json(store: StoreDep, auth: CurrentUser, lang: LangDep) -> JSONResponse:
    """Churn warnings (open win-back tasks the caller may see, with why) and the win-back
    tasks by outcome (``open`` for those not done yet)."""
    return twin(_churn(store, auth, lang))


# --- the care calendar ----------------------------------------------------------------------


def _care(store: sa.Engine, auth: Auth, lang: str, days: int) -> list[dict[str, Any]]:
    with read_only(store).connect() as conn:
        return care_calendar(conn, principal=auth.principal, now=utcnow(), days=days, lang=lang)


@router.get("/care", response_class=HTMLResponse, include_in_schema=False)
def care_page(
    request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep, days: Days = 30
) -> Response:
    return page(request, "care.html", {"events": _care(store, auth, lang, days), "days": days})


@router.get("/api/v1/care", tags=["outreach"])
def care_json(store: StoreDep, auth: CurrentUser, lang: LangDep, days: Days = 30) -> JSONResponse:
    """Care touches of the coming days for the customers in scope, by their tier's playbook:
    the day, when to send (quiet hours respected), the channel and the occasion."""
    return twin(_care(store, auth, lang, days))


# --- target lists ---------------------------------------------------------------------------


def _labels(items: list[str]) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {}
    for item in items:
        dimension, sep, key = item.partition(":")
        if not sep or not dimension or not key:
            raise DataError(f'Label filter "{item}" must look like dimension:label.',
                            key="err.label_filter", value=item[:80])  # fmt: skip
        wanted.setdefault(dimension, []).append(key)
    return wanted


def _bound(text: str, item: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError(f'Score filter "{item}": "{text}" is not a number.',
                        key="err.score_filter", value=item[:80])  # fmt: skip
    return value


def _scores(items: list[str]) -> dict[str, Range]:
    out: dict[str, Range] = {}
    for item in items:
        parts = item.split(":")
        if len(parts) != 3 or not parts[0] or not (parts[1].strip() or parts[2].strip()):
            raise DataError(f'Score filter "{item}" must look like dimension:min:max.',
                            key="err.score_filter", value=item[:80])  # fmt: skip
        out[parts[0]] = Range(min=_bound(parts[1], item), max=_bound(parts[2], item))
    return out


def _file(
    store: sa.Engine, auth: Auth, tasks: BackgroundTasks, *, labels: list[str],
    scores: list[str], headers: str, fmt: str, contacts: bool,
) -> Response:  # fmt: skip
    """The target list written to a temporary file, sent, then deleted."""
    filters, ranges = _labels(labels), _scores(scores)
    with store.begin() as conn:  # the export is audited
        frame = export_targets(conn, principal=auth.principal, filters=filters, lang=headers,
                               scores=ranges, contacts=contacts)  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="tierwise-targets-"))
    name = f"targets-{date.today().isoformat()}.{fmt}"
    act.write_table(frame, folder / name)
    tasks.add_task(shutil.rmtree, folder, ignore_errors=True)
    return FileResponse(folder / name, filename=name)


def _export_page(
    request: Request, store: sa.Engine, auth: Auth, lang: str, *, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    with read_only(store).connect() as conn:
        options = export_options(conn, principal=auth.principal, lang=lang)
    params = request.query_params
    picked = set(params.getlist("label"))
    chosen = {"labels": picked, "open": {item.partition(":")[0] for item in picked},
              "headers": params.get("headers") or lang,
              "format": params.get("format") or "xlsx",
              "contacts": params.get("contacts", "1" if not params else "") == "1",
              "scores": list(zip(params.getlist("score_dimension"), params.getlist("score_min"),
                                 params.getlist("score_max"), strict=False))}  # fmt: skip
    context = {"options": options, "chosen": chosen, "error": error}
    return page(request, "export.html", context, status_code=status_code)


@router.get("/export", response_class=HTMLResponse, include_in_schema=False)
def export_page(request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep) -> Response:
    return _export_page(request, store, auth, lang)


@router.get("/export/download", include_in_schema=False)
def export_download(
    request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep, tasks: BackgroundTasks,
    label: Annotated[list[str], Query()] = [],  # noqa: B006
    score_dimension: Annotated[list[str], Query()] = [],  # noqa: B006
    score_min: Annotated[list[str], Query()] = [],  # noqa: B006
    score_max: Annotated[list[str], Query()] = [],  # noqa: B006
    headers: Lang | None = None, format: Format = "xlsx", contacts: str = "",
) -> Response:  # fmt: skip
    # the form's score rows: a dimension and its bounds; rows without a dimension are unused
    scores = [f"{d}:{lo}:{hi}" for d, lo, hi in zip(score_dimension, score_min, score_max,
                                                   strict=False) if d and (lo or hi)]  # fmt: skip
    try:
        return _file(store, auth, tasks, labels=label, scores=scores, headers=headers or lang,
                     fmt=format, contacts=contacts == "1")  # fmt: skip
    except DataError as exc:
        return _export_page(request, store, auth, lang, error=said(exc, lang),
                            status_code=REFUSED)  # fmt: skip


@router.get("/api/v1/export", tags=["outreach"], response_class=FileResponse)
def export_json(
    store: StoreDep, auth: CurrentUser, lang: LangDep, tasks: BackgroundTasks,
    label: Labels = [], score: Scores = [],  # noqa: B006
    headers: Annotated[Lang | None, Query(description="header language (default: yours)")] = None,
    format: Format = "csv",
    contacts: Annotated[bool, Query(description="add phone and email (masked for analysts)")] = True,
) -> Response:  # fmt: skip
    """A target list: the customers in scope whose labels and scores match, with headers in
    zh or en, as CSV (UTF-8 with BOM) or XLSX; formula-like cells are neutralised. Audited."""
    return _file(store, auth, tasks, labels=label, scores=score, headers=headers or lang,
                 fmt=format, contacts=contacts)  # fmt: skip
