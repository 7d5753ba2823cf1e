"""Webhooks (企业微信 / 钉钉 / 飞书 / JSON), administrators only: receivers, a test message, the
delivery log.

A page (``/admin/webhooks``) and ``/api/v1/webhooks``. Secrets never leave the server: the
list says whether an endpoint signs (``signed``), and URLs lose their query (bot URLs carry
their key there). "Send test" posts one sample message to the stored receiver now and shows its
answer; nothing is queued or logged for it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tierwise import act
from tierwise.access import Principal
from tierwise.act._secrets import unseal
from tierwise.act._text import say
from tierwise.act._webhooks import FORMATS, KINDS
from tierwise.errors import ConfigError, NotFoundError
from tierwise.store import read_only
from tierwise.store.tables import webhook_endpoints
from tierwise.web._deps import (
    Auth,
    ChangingUser,
    CurrentUser,
    IdPath,
    LangDep,
    SettingsDep,
    StoreDep,
)
from tierwise.web._flash import REFUSED, attempt, done, notice
from tierwise.web._render import page, twin

router = APIRouter()
Format = Literal["json", "wecom", "dingtalk", "feishu"]
Kind = Literal["tier_changed", "churn_warning", "task_overdue", "sla_breached"]
NOTICES = {"added": "hooks.done.added", "removed": "hooks.done.removed"}


def _test(
    store: sa.Engine, secret_key: str, principal: Principal, endpoint_id: int, lang: str
) -> dict[str, Any]:
    """Send the sample message to a stored, active endpoint (signed with its secret, decrypted
    with the app's key) and say how it went in ``lang``. The store is not held while the
    receiver answers (up to its timeout)."""
    principal.require("admin")
    with read_only(store).connect() as conn:
        row = conn.execute(
            sa.select(webhook_endpoints).where(
                webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.is_active.is_(True)
            )
        ).mappings().first()  # fmt: skip
    if row is None:
        raise NotFoundError(f"Webhook {endpoint_id} does not exist.")
    try:
        secret = None if row["secret"] is None else unseal(row["secret"], secret_key=secret_key)
    except ConfigError as exc:  # the key changed since the endpoint was added
        return {"id": endpoint_id, "ok": False, "status_code": None, "duration_ms": 0,
                "error": say(exc.key or "", lang) if exc.key else str(exc)}  # fmt: skip
    tried = act.test_endpoint(row["url"], format=row["format"], secret=secret, lang=row["lang"])
    return {"id": endpoint_id, "ok": tried.ok, "status_code": tried.status_code,
            "duration_ms": tried.duration_ms,
            "error": tried.error_zh if lang == "zh" else tried.error}  # fmt: skip


def _hooks_page(
    request: Request, store: sa.Engine, auth: Auth, lang: str, *, error: str | None = None,
    tested: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    with read_only(store).connect() as conn:
        endpoints = act.list_endpoints(conn, principal=auth.principal)
        log = act.delivery_log(conn, principal=auth.principal, limit=100)
    kinds = {k: pair[0] if lang == "zh" else pair[1] for k, pair in KINDS.items()}
    context = {"endpoints": endpoints, "log": log, "kinds": kinds, "formats": FORMATS,
               "error": error, "tested": tested, "notice": notice(request, lang, NOTICES)}  # fmt: skip
    return page(request, "webhooks.html", context, status_code=status_code)


@router.get("/admin/webhooks", response_class=HTMLResponse, include_in_schema=False)
def hooks_page(request: Request, store: StoreDep, auth: CurrentUser, lang: LangDep) -> Response:
    return _hooks_page(request, store, auth, lang)


@router.post("/admin/webhooks", include_in_schema=False)
def add_form(
    request: Request, store: StoreDep, settings: SettingsDep, auth: ChangingUser, lang: LangDep,
    url: Annotated[str, Form(max_length=2000)], format: Annotated[str, Form()] = "json",
    events: Annotated[list[str], Form()] = [],  # noqa: B006
    secret: Annotated[str, Form(max_length=500)] = "", hook_lang: Annotated[str, Form()] = "zh",
) -> Response:  # fmt: skip
    return attempt(
        store,
        lambda conn: act.add_endpoint(
            conn,
            principal=auth.principal,
            url=url.strip(),
            format=format,
            events=events or None,
            secret=secret.strip() or None,
            lang=hook_lang,
            secret_key=settings.require_secret_key(),
        ),
        lambda out: done("/admin/webhooks", "added", out["url"]),
        lambda why: _hooks_page(request, store, auth, lang, error=why, status_code=REFUSED),
        lang,
    )


@router.post("/admin/webhooks/{endpoint_id}/remove", include_in_schema=False)
def remove_form(endpoint_id: IdPath, store: StoreDep, auth: ChangingUser) -> Response:
    with store.begin() as conn:
        act.remove_endpoint(conn, principal=auth.principal, endpoint_id=endpoint_id)
    return done("/admin/webhooks", "removed", endpoint_id)


@router.post("/admin/webhooks/{endpoint_id}/test", include_in_schema=False)
def test_form(
    request: Request, endpoint_id: IdPath, store: StoreDep, settings: SettingsDep,
    auth: ChangingUser, lang: LangDep,
) -> Response:  # fmt: skip
    tested = _test(store, settings.require_secret_key(), auth.principal, endpoint_id, lang)
    if request.headers.get("HX-Request") == "true":  # HTMX: the result in place
        return page(request, "_webhook_test.html", {"tested": tested})
    return _hooks_page(request, store, auth, lang, tested=tested)


# --- the REST twins -------------------------------------------------------------------------


@router.get("/api/v1/webhooks", tags=["webhooks"])
def hooks_json(store: StoreDep, auth: CurrentUser) -> JSONResponse:
    """Registered receivers: URL without its query, format, events, whether it signs (secrets
    are never shown) and whether it is active."""
    with read_only(store).connect() as conn:
        return twin(act.list_endpoints(conn, principal=auth.principal))


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000)
    format: Format = "json"
    events: list[Kind] | None = Field(None, description="null: every event")
    secret: str | None = Field(None, max_length=500, description="signs json, dingtalk, feishu")
    lang: Literal["zh", "en"] = "zh"


@router.post("/api/v1/webhooks", status_code=201, tags=["webhooks"])
def add_json(
    body: WebhookIn, store: StoreDep, settings: SettingsDep, auth: ChangingUser
) -> dict[str, Any]:
    """Register a receiver of tier changes, churn warnings, overdue tasks and SLA breaches."""
    with store.begin() as conn:
        return act.add_endpoint(conn, principal=auth.principal, url=body.url, format=body.format,
                                events=list(body.events) if body.events else None,
                                secret=body.secret or None, lang=body.lang,
                                secret_key=settings.require_secret_key())  # fmt: skip


@router.get("/api/v1/webhooks/deliveries", tags=["webhooks"])
def deliveries_json(
    store: StoreDep, auth: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> JSONResponse:
    """The delivery log: the newest deliveries, their state, attempts and last error."""
    with read_only(store).connect() as conn:
        return twin(act.delivery_log(conn, principal=auth.principal, limit=limit))


@router.delete("/api/v1/webhooks/{endpoint_id}", tags=["webhooks"])
def remove_json(endpoint_id: IdPath, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Stop sending to a receiver (its delivery log is kept)."""
    with store.begin() as conn:
        act.remove_endpoint(conn, principal=auth.principal, endpoint_id=endpoint_id)
    return {"id": endpoint_id, "active": False}


@router.post("/api/v1/webhooks/{endpoint_id}/test", tags=["webhooks"])
def test_json(
    endpoint_id: IdPath, store: StoreDep, settings: SettingsDep, auth: ChangingUser,
    lang: LangDep,
) -> dict[str, Any]:  # fmt: skip
    """Send one sample message to the receiver now and report its answer (``ok``, the HTTP
    status, the time taken, the error in your language); nothing is stored."""
    return _test(store, settings.require_secret_key(), auth.principal, endpoint_id, lang)
