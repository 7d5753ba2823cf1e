"""The dashboard and the "classify now" button with its live progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tierwise.access import dashboard, last_classification
from tierwise.store import read_only
from tierwise.web._deps import ChangingUser, CurrentUser, LangDep, SettingsDep, StoreDep
from tierwise.web._render import page, twin

router = APIRouter()


def _dashboard(store: Any, settings: Any, auth: Any, lang: str) -> dict[str, Any]:
    with read_only(store).connect() as conn:
        return dashboard(conn, principal=auth.principal, data_dir=settings.data_dir, lang=lang)


def _status(request: Request, store: Any) -> dict[str, Any]:
    run = request.app.state.jobs.classify_run
    with read_only(store).connect() as conn:
        job = last_classification(conn)
    return {"run": None if run is None else run.view(), "job": job}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(
    request: Request, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser
) -> Response:
    data = _dashboard(store, settings, auth, lang)
    return page(request, "dashboard.html", {"d": data, "status": _status(request, store)})


@router.get("/api/v1/dashboard", tags=["dashboard"])
def dashboard_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser
) -> JSONResponse:
    """Distributions, value by tier, migration, churn risk and recent changes, in scope."""
    return twin(_dashboard(store, settings, auth, lang))


@router.get("/classify/status", response_class=HTMLResponse, include_in_schema=False)
def classify_panel(request: Request, lang: LangDep, store: StoreDep, auth: CurrentUser) -> Response:
    return page(request, "_classify_panel.html", {"status": _status(request, store),
                                                  "can_classify": auth.principal.can("classify")})  # fmt: skip


@router.post("/classify", include_in_schema=False)
def classify_now(request: Request, lang: LangDep, store: StoreDep, auth: ChangingUser) -> Response:
    request.app.state.jobs.start_classify(auth.principal)
    if request.headers.get("hx-request"):
        return classify_panel(request, lang, store, auth)
    return RedirectResponse("/", status_code=303)


@router.get("/api/v1/classifications/status", tags=["classifications"])
def classify_status(request: Request, store: StoreDep, auth: CurrentUser) -> JSONResponse:
    """The running or last classification: state, seconds, result or error."""
    return twin(_status(request, store))


@router.post("/api/v1/classifications", status_code=202, tags=["classifications"])
def classify_start(request: Request, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Start classifying every customer (as of the last order day); 409 while one runs."""
    request.app.state.jobs.start_classify(auth.principal)
    return _status(request, store)
