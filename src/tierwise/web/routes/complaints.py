"""The complaint queue: highest tier first, then the nearest SLA deadline; the first response.

A page (``/complaints``) showing each complaint's deadline, whether it is overdue and whether it
was escalated, with a form to record the first response (the SLA clock stops); its REST twins
``GET /api/v1/complaints`` and ``POST /api/v1/complaints/{feedback_id}/respond``.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tierwise import act
from tierwise.store import read_only
from tierwise.store.tables import utcnow
from tierwise.web._deps import Auth, ChangingUser, CurrentUser, LangDep, StoreDep
from tierwise.web._flash import REFUSED, attempt, done, notice
from tierwise.web._render import page, twin

router = APIRouter()
NOTICES = {"responded": "complaints.done.responded"}


def _queue_page(
    request: Request, store: sa.Engine, auth: Auth, lang: str, *, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    with read_only(store).connect() as conn:
        rows = act.complaint_queue(conn, principal=auth.principal, now=utcnow(), limit=500,
                                   lang=lang)  # fmt: skip
    context = {"complaints": rows, "error": error, "notice": notice(request, lang, NOTICES)}
    return page(request, "complaints.html", context, status_code=status_code)


@router.get("/complaints", response_class=HTMLResponse, include_in_schema=False)
def complaints_page(
    request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep
) -> Response:
    return _queue_page(request, store, auth, lang)


@router.post("/complaints/{feedback_id}/respond", include_in_schema=False)
def respond_form(
    request: Request, feedback_id: str, store: StoreDep, auth: ChangingUser, lang: LangDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    return attempt(
        store,
        lambda conn: act.respond(
            conn,
            principal=auth.principal,
            feedback_id=feedback_id,
            now=utcnow(),
            note=note.strip() or None,
        ),
        lambda _: done("/complaints", "responded", feedback_id),
        lambda why: _queue_page(request, store, auth, lang, error=why, status_code=REFUSED),
        lang,
    )


@router.get("/api/v1/complaints", tags=["complaints"])
def complaints_json(
    store: StoreDep, auth: CurrentUser, lang: LangDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:  # fmt: skip
    """Unanswered complaints in scope: highest tier first, then the nearest SLA deadline."""
    with read_only(store).connect() as conn:
        return twin(act.complaint_queue(conn, principal=auth.principal, now=utcnow(),
                                        limit=limit, lang=lang))  # fmt: skip


class RespondIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000, description="what was said or done")


@router.post("/api/v1/complaints/{feedback_id}/respond", tags=["complaints"])
def respond_json(
    feedback_id: str, body: RespondIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Record the first response to a complaint: its SLA clock stops and its escalation task,
    if any, is done."""
    with store.begin() as conn:
        return act.respond(conn, principal=auth.principal, feedback_id=feedback_id,
                           now=utcnow(), note=body.note)  # fmt: skip
