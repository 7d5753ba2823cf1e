"""My work: a page (``/work``, its JSON twin ``/api/v1/tasks``) with forms to complete, skip or
snooze a task. The pool and the complaint queue have their own modules (`routes.pool`,
`routes.complaints`).

Each operation calls one `tierwise.act` function in one transaction; the caller's role and
scope are enforced there (a rep acts on their own tasks only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tierwise import act
from tierwise.store import read_only
from tierwise.store.tables import utcnow
from tierwise.web._deps import ChangingUser, CurrentUser, IdPath, LangDep, StoreDep
from tierwise.web._render import page, twin

router = APIRouter()


@router.get("/api/v1/tasks", tags=["work"])
def tasks_json(
    store: StoreDep, auth: CurrentUser, lang: LangDep,
    due: Literal["today", "overdue", "upcoming", "all"] = "today",
    everyone: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:  # fmt: skip
    """My work: tasks due today and overdue, with the tier, why and the talking points."""
    with read_only(store).connect() as conn:
        return twin(act.list_tasks(conn, principal=auth.principal, now=utcnow(), due=due,
                                   everyone=everyone, limit=limit, lang=lang))  # fmt: skip


@router.get("/work", response_class=HTMLResponse, include_in_schema=False)
def work_page(request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep) -> Response:
    with read_only(store).connect() as conn:
        rows = act.list_tasks(conn, principal=auth.principal, now=utcnow(), lang=lang)
    return page(request, "work.html", {"tasks": rows})


@router.post("/work/tasks/{task_id}/done", include_in_schema=False)
def work_done_form(
    task_id: IdPath, store: StoreDep, auth: ChangingUser,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    with store.begin() as conn:
        act.complete_task(conn, principal=auth.principal, task_id=task_id, now=utcnow(),
                          note=note.strip() or None)  # fmt: skip
    return RedirectResponse("/work", status_code=303)


@router.post("/work/tasks/{task_id}/skip", include_in_schema=False)
def work_skip_form(
    task_id: IdPath, store: StoreDep, auth: ChangingUser,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    with store.begin() as conn:
        act.skip_task(conn, principal=auth.principal, task_id=task_id, reason=reason,
                      now=utcnow())  # fmt: skip
    return RedirectResponse("/work", status_code=303)


@router.post("/work/tasks/{task_id}/snooze", include_in_schema=False)
def work_snooze_form(
    task_id: IdPath, store: StoreDep, auth: ChangingUser,
    until: Annotated[date, Form()], reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    with store.begin() as conn:
        act.snooze_task(conn, principal=auth.principal, task_id=task_id, reason=reason,
                        until=datetime(until.year, until.month, until.day, 9, 0), now=utcnow())  # fmt: skip
    return RedirectResponse("/work", status_code=303)


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)
    outcome: str = Field("done", min_length=1, max_length=32)


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: datetime
    reason: str = Field(max_length=500)


class SkipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500)


@router.post("/api/v1/tasks/{task_id}/done", tags=["work"])
def task_done_json(
    task_id: IdPath, body: DoneIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Complete a task: the contact is logged and the next follow-up planned."""
    with store.begin() as conn:
        return act.complete_task(conn, principal=auth.principal, task_id=task_id, now=utcnow(),
                                 note=body.note, outcome=body.outcome)  # fmt: skip


@router.post("/api/v1/tasks/{task_id}/snooze", tags=["work"])
def task_snooze_json(
    task_id: IdPath, body: SnoozeIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Put a task off until a later time (UTC); a reason is required."""
    with store.begin() as conn:
        return act.snooze_task(conn, principal=auth.principal, task_id=task_id,
                               until=body.until, reason=body.reason, now=utcnow())  # fmt: skip


@router.post("/api/v1/tasks/{task_id}/skip", tags=["work"])
def task_skip_json(
    task_id: IdPath, body: SkipIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Skip a contact (a reason is required); the next follow-up is planned."""
    with store.begin() as conn:
        return act.skip_task(conn, principal=auth.principal, task_id=task_id,
                             reason=body.reason, now=utcnow())  # fmt: skip
