"""The evaluation pages: tier performance over time, Pareto curve, migration with the customers
behind each cell (each page with its JSON twin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from tierwise.evaluate import cell_customers, evaluation_view
from tierwise.store import read_only
from tierwise.web._deps import CurrentUser, LangDep, SettingsDep, StoreDep
from tierwise.web._render import page, twin

router = APIRouter()
Dimension = Annotated[str, Query(max_length=64)]
SnapshotQ = Annotated[int | None, Query(ge=1)]
Label = Annotated[str, Query(min_length=1, max_length=64)]


def _view(store: Any, settings: Any, auth: Any, lang: str, dimension: str,
          a: int | None, b: int | None) -> dict[str, Any]:  # fmt: skip
    with read_only(store).connect() as conn:
        return evaluation_view(
            conn, principal=auth.principal, data_dir=settings.data_dir, dimension=dimension,
            from_snapshot=a, to_snapshot=b, lang=lang,
        )  # fmt: skip


@router.get("/evaluation", response_class=HTMLResponse, include_in_schema=False)
def evaluation_page(
    request: Request, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier", from_snapshot: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_snapshot: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> Response:  # fmt: skip
    data = _view(store, settings, auth, lang, dimension, from_snapshot, to_snapshot)
    return page(request, "evaluation.html", {"e": data})


@router.get("/api/v1/evaluation", tags=["evaluation"])
def evaluation_json(
    lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    dimension: Dimension = "value_tier", from_snapshot: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_snapshot: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> JSONResponse:  # fmt: skip
    """Tier metrics per snapshot, the Pareto curve, the migration matrix and the flow."""
    return twin(_view(store, settings, auth, lang, dimension, from_snapshot, to_snapshot))


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
    from_snapshot: Annotated[int, Query(alias="from", ge=1)], to_snapshot: Annotated[int, Query(alias="to", ge=1)],
    row: Label, col: Label, dimension: Dimension = "value_tier",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200, offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:  # fmt: skip
    data = _cell(store, auth, from_snapshot, to_snapshot, dimension, row, col, limit, offset)
    return page(request, "evaluation_cell.html", {"c": data})


@router.get("/api/v1/evaluation/migration", tags=["evaluation"])
def cell_json(
    store: StoreDep, auth: CurrentUser,
    from_snapshot: Annotated[int, Query(alias="from", ge=1)], to_snapshot: Annotated[int, Query(alias="to", ge=1)],
    row: Label, col: Label, dimension: Dimension = "value_tier",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200, offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:  # fmt: skip
    """The customers behind one migration cell (`row` may be `__new__`), by customer id."""
    return twin(_cell(store, auth, from_snapshot, to_snapshot, dimension, row, col, limit, offset))
