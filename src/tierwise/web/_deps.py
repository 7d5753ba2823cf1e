"""Route dependencies as `Annotated` aliases: the store, the language, the caller, CSRF.

A caller is signed in by the session cookie (browser) or by ``Authorization: Bearer tw_...``
(scripts). Every state-changing request made with the cookie must carry the session's CSRF
token, in the ``X-CSRF-Token`` header (HTMX, fetch) or the ``csrf_token`` form field.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import Depends, Path, Request

from tierwise.access import Principal, open_session, principal_for_token
from tierwise.access._auth import token_touch_due, touch_session
from tierwise.errors import DataError, TierwiseError
from tierwise.settings import Settings
from tierwise.store import read_only
from tierwise.web._i18n import COOKIE, negotiate

SESSION_COOKIE = "tw_session"
#: the largest id a database column holds (BIGINT); larger numbers cannot name a record
MAX_ID = 2**63 - 1
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class NotSignedIn(TierwiseError):
    """No live session or token: pages redirect to sign-in, the API answers 401."""


class CsrfError(TierwiseError):
    """A cookie-authenticated change without the session's CSRF token."""


@dataclass(frozen=True)
class Auth:
    principal: Principal
    via: Literal["session", "token"]
    csrf_token: str | None = None


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> sa.Engine:
    store: sa.Engine = request.app.state.store
    return store


def get_lang(request: Request) -> str:
    lang = negotiate(
        request.cookies.get(COOKIE),
        request.headers.get("accept-language"),
        get_settings(request).language,
    )
    request.state.lang = lang
    return lang


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[sa.Engine, Depends(get_store)]
LangDep = Annotated[str, Depends(get_lang)]


def optional_auth(request: Request) -> Auth | None:
    cached: Auth | None = getattr(request.state, "auth", None)
    if cached is not None:
        return cached
    store = get_store(request)
    auth: Auth | None = None
    header = request.headers.get("authorization", "")
    # looked up in a read-only transaction; the activity stamp is written at most once a
    # minute, in its own short write transaction (SQLite has one writer: reads must not queue)
    if header.lower().startswith("bearer "):
        secret = header[7:].strip()
        with read_only(store).connect() as conn:
            principal = principal_for_token(conn, token=secret, write=False)
            due = principal is not None and token_touch_due(conn, token=secret)
        if principal is not None:
            auth = Auth(principal, "token")
            if due:
                with store.begin() as conn:
                    principal_for_token(conn, token=secret)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with read_only(store).connect() as conn:
                info = open_session(conn, get_settings(request), token=token, write=False)
            if info is not None:
                auth = Auth(info.principal, "session", info.csrf_token)
                if info.touch_due:
                    with store.begin() as conn:
                        touch_session(conn, session_id=info.session_id)
    request.state.auth = auth
    return auth


def current_auth(request: Request) -> Auth:
    auth = optional_auth(request)
    if auth is None:
        raise NotSignedIn("Sign in first (session cookie or an API token).")
    return auth


async def checked_auth(request: Request) -> AsyncIterator[Auth]:
    """The caller of a state-changing request, after the CSRF check for cookie sessions."""
    auth = current_auth(request)
    form = None
    if auth.via == "session":
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not sent or not auth.csrf_token or not secrets.compare_digest(sent, auth.csrf_token):
            if form is not None:
                await form.close()
            raise CsrfError("Missing or wrong CSRF token; reload the page and try again.")
    try:
        yield auth
    finally:
        if form is not None:  # spooled upload files, once the route is done with them
            await form.close()


CurrentUser = Annotated[Auth, Depends(current_auth)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionPath = Annotated[int, Path(ge=0, le=MAX_ID)]
ChangingUser = Annotated[Auth, Depends(checked_auth)]
MaybeUser = Annotated[Auth | None, Depends(optional_auth)]


def form_id(value: str | None, *, field: str) -> int | None:
    """An optional id from a form field ("" means none); a clear error for anything else."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise DataError(
            f'Form field "{field}" must be a user id (got "{text[:40]}").',
            key="err.form_id",
            field=field,
            value=text[:40],
        )
    return int(text)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "MAX_ID",
    "SESSION_COOKIE",
    "Auth",
    "ChangingUser",
    "CsrfError",
    "CurrentUser",
    "IdPath",
    "LangDep",
    "MaybeUser",
    "NotSignedIn",
    "SettingsDep",
    "StoreDep",
    "VersionPath",
    "client_ip",
    "form_id",
]
