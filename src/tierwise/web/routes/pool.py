"""The public pool (公海): the list, claims, assignment, releases and the reps' caps.

A page (``/pool``) and its REST twins under ``/api/v1/pool`` and ``/api/v1/reps``. A rep
claims (daily limit, ex-owner cool-down and caps apply) and releases their own customers; a
manager (their team) or an administrator also hands a pool customer to a rep, assigns a batch
by the pool's rule, and sets each rep's caps. Every operation is one `tierwise.act` call in one
transaction; a refusal is shown on the page in the user's language.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tierwise import act
from tierwise.act._pool import give, rep_loads
from tierwise.errors import DataError
from tierwise.store import read_only
from tierwise.store.tables import utcnow
from tierwise.web._deps import (
    MAX_ID,
    Auth,
    ChangingUser,
    CurrentUser,
    IdPath,
    LangDep,
    StoreDep,
    form_id,
)
from tierwise.web._flash import REFUSED, attempt, done, form_number, notice
from tierwise.web._render import page, twin

router = APIRouter()
Rule = Literal["region", "industry", "round_robin", "load"]
NOTICES = {"claimed": "pool.done.claimed", "assigned": "pool.done.assigned",
           "auto": "pool.done.auto", "released": "pool.done.released",
           "caps": "pool.done.caps"}  # fmt: skip


def _reason(text: str) -> str:
    """A release says why: the next owner (and the audit log) should know."""
    if not text.strip():
        raise DataError("A reason is required to release a customer to the pool.",
                        key="err.release_reason")  # fmt: skip
    return text.strip()


def _split(text: str | None) -> list[str] | None:
    items = [v.strip() for v in (text or "").replace("，", ",").split(",") if v.strip()]
    return items or None


def _pool_page(
    request: Request, store: sa.Engine, auth: Auth, lang: str, *, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    who = auth.principal
    with read_only(store).connect() as conn:
        rows = act.list_pool(conn, principal=who, now=utcnow(), limit=500, lang=lang)
        reps = [] if who.role == "analyst" else rep_loads(conn, principal=who, now=utcnow())
    me = next((r for r in reps if r["user_id"] == who.user_id), None)
    context = {"pool": rows, "reps": reps, "me": me, "error": error,
               "notice": notice(request, lang, NOTICES),
               "rules": ("region", "industry", "round_robin", "load")}  # fmt: skip
    return page(request, "pool.html", context, status_code=status_code)


def _answer(request: Request, store: sa.Engine, auth: Auth, lang: str, run: Any, name: str,
            value: Any) -> Response:  # fmt: skip
    return attempt(
        store, run, lambda out: done("/pool", name, value(out) if callable(value) else value),
        lambda why: _pool_page(request, store, auth, lang, error=why, status_code=REFUSED),
        lang,
    )  # fmt: skip


@router.get("/pool", response_class=HTMLResponse, include_in_schema=False)
def pool_page(request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep) -> Response:
    return _pool_page(request, store, auth, lang)


@router.post("/pool/{customer_id}/claim", include_in_schema=False)
def claim_form(
    request: Request, customer_id: str, store: StoreDep, auth: ChangingUser, lang: LangDep
) -> Response:
    return _answer(request, store, auth, lang, lambda conn: act.claim(
        conn, principal=auth.principal, customer_id=customer_id, now=utcnow()),
        "claimed", customer_id)  # fmt: skip


@router.post("/pool/{customer_id}/assign", include_in_schema=False)
def give_form(
    request: Request, customer_id: str, store: StoreDep, auth: ChangingUser, lang: LangDep,
    user_id: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    def run(conn: sa.Connection) -> dict[str, Any]:
        uid = form_id(user_id, field="user_id")
        if uid is None:
            raise DataError("Choose the rep to give the customer to.", key="err.assign_choose")
        return give(conn, principal=auth.principal, customer_id=customer_id, user_id=uid,
                    now=utcnow())  # fmt: skip

    return _answer(request, store, auth, lang, run, "assigned",
                   lambda out: f"{customer_id} → {out['owner']}")  # fmt: skip


@router.post("/pool/assign", include_in_schema=False)
def assign_form(
    request: Request, store: StoreDep, auth: ChangingUser, lang: LangDep,
    rule: Annotated[str, Form()] = "", limit: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    def run(conn: sa.Connection) -> dict[str, Any]:
        n = form_number(limit, field="limit", integer=True)
        return act.assign(conn, principal=auth.principal, now=utcnow(), rule=rule or None,
                          limit=500 if n is None else int(n))  # fmt: skip

    return _answer(request, store, auth, lang, run, "auto", lambda out: out["assigned"])


@router.post("/pool/release", include_in_schema=False)
def release_form(
    request: Request, store: StoreDep, auth: ChangingUser, lang: LangDep,
    customer_id: Annotated[str, Form(max_length=128)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    cid = customer_id.strip()
    return _answer(request, store, auth, lang, lambda conn: act.release(
        conn, principal=auth.principal, customer_id=cid, now=utcnow(), reason=_reason(reason)),
        "released", cid)  # fmt: skip


@router.post("/pool/caps/{user_id}", include_in_schema=False)
def caps_form(
    request: Request, user_id: IdPath, store: StoreDep, auth: ChangingUser, lang: LangDep,
    max_customers: Annotated[str, Form()] = "", max_value: Annotated[str, Form()] = "",
    regions: Annotated[str, Form(max_length=2000)] = "",
    industries: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    def run(conn: sa.Connection) -> dict[str, Any]:
        most = form_number(max_customers, field="max_customers", integer=True)
        value = form_number(max_value, field="max_value")
        act.set_caps(conn, principal=auth.principal, user_id=user_id,
                     max_customers=None if most is None else int(most), max_value=value,
                     regions=_split(regions), industries=_split(industries))  # fmt: skip
        return rep_loads(conn, principal=auth.principal, now=utcnow(), user_id=user_id)[0]

    return _answer(request, store, auth, lang, run, "caps", lambda out: out["name"])


# --- the REST twins -------------------------------------------------------------------------


@router.get("/api/v1/pool", tags=["pool"])
def pool_json(
    store: StoreDep, auth: CurrentUser, lang: LangDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:  # fmt: skip
    """Customers in the public pool (公海), highest tier first."""
    with read_only(store).connect() as conn:
        return twin(act.list_pool(conn, principal=auth.principal, now=utcnow(), limit=limit,
                                  lang=lang))  # fmt: skip


@router.post("/api/v1/pool/{customer_id}/claim", tags=["pool"])
def pool_claim_json(customer_id: str, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Take a customer from the pool (daily limit, ex-owner cool-down and caps apply)."""
    with store.begin() as conn:
        return act.claim(conn, principal=auth.principal, customer_id=customer_id, now=utcnow())


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="why (required)")


@router.post("/api/v1/pool/{customer_id}/release", tags=["pool"])
def pool_release_json(
    customer_id: str, body: ReleaseIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Return a customer to the pool, with a reason: its owner, their manager or an admin."""
    with store.begin() as conn:
        return act.release(conn, principal=auth.principal, customer_id=customer_id,
                           now=utcnow(), reason=_reason(body.reason))  # fmt: skip


class GiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int = Field(ge=1, le=MAX_ID, description="the rep (or manager) to give it to")


@router.post("/api/v1/pool/{customer_id}/assign", tags=["pool"])
def pool_give_json(
    customer_id: str, body: GiveIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Hand one pool customer to a rep, within the rep's caps (managers: their team; admins)."""
    with store.begin() as conn:
        return give(conn, principal=auth.principal, customer_id=customer_id,
                    user_id=body.user_id, now=utcnow())  # fmt: skip


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: Rule | None = Field(None, description="default: the scheme's pool.assign_by")
    limit: int = Field(500, ge=1, le=10_000, description="at most this many customers")


@router.post("/api/v1/pool/assign", tags=["pool"])
def pool_assign_json(body: AssignIn, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Hand pool customers (highest tier first) to reps by rule — region, industry,
    round_robin or load — never above a rep's caps (managers: their team; admins)."""
    with store.begin() as conn:
        return act.assign(conn, principal=auth.principal, now=utcnow(), rule=body.rule,
                          limit=body.limit)  # fmt: skip


@router.get("/api/v1/reps", tags=["pool"])
def reps_json(store: StoreDep, auth: CurrentUser) -> JSONResponse:
    """The reps the caller manages (a rep: themselves) with caps, load and today's claims."""
    with read_only(store).connect() as conn:
        return twin(rep_loads(conn, principal=auth.principal, now=utcnow()))


@router.get("/api/v1/reps/{user_id}/caps", tags=["pool"])
def caps_json(user_id: IdPath, store: StoreDep, auth: CurrentUser) -> JSONResponse:
    """One rep's caps (their own or the scheme's), customers owned, their value and claims."""
    with read_only(store).connect() as conn:
        return twin(rep_loads(conn, principal=auth.principal, now=utcnow(), user_id=user_id)[0])


class CapsIn(BaseModel):
    """The rep's own caps; null falls back to the scheme's ``playbooks.pool`` caps."""

    model_config = ConfigDict(extra="forbid")
    max_customers: int | None = Field(None, ge=0, le=10_000_000)
    max_value: float | None = Field(None, ge=0, allow_inf_nan=False)
    regions: list[str] | None = Field(None, max_length=200)
    industries: list[str] | None = Field(None, max_length=200)


@router.put("/api/v1/reps/{user_id}/caps", tags=["pool"])
def caps_put_json(
    user_id: IdPath, body: CapsIn, store: StoreDep, auth: ChangingUser
) -> JSONResponse:
    """Set a rep's caps and the regions/industries rule-based assignment gives them
    (managers: their team; admins). Every field is replaced."""
    with store.begin() as conn:
        act.set_caps(conn, principal=auth.principal, user_id=user_id, **body.model_dump())
        return twin(rep_loads(conn, principal=auth.principal, now=utcnow(), user_id=user_id)[0])
