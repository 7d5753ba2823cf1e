"""Sign-in, sign-out, the language switch and "who am I"."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tierwise.access import AuthError, end_session, sign_in
from tierwise.web._deps import (
    SESSION_COOKIE,
    ChangingUser,
    CurrentUser,
    LangDep,
    MaybeUser,
    SettingsDep,
    StoreDep,
    client_ip,
)
from tierwise.web._i18n import COOKIE, LANGS, t
from tierwise.web._render import page

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would turn sign-in into a phishing aid."""
    if not target:
        return "/"
    parts = urlsplit(target)
    # browsers read "/\host" as "//host"; control characters can hide either
    odd = "\\" in target or any(ord(ch) < 32 for ch in target)
    if parts.scheme or parts.netloc or odd or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(
    request: Request, lang: LangDep, user: MaybeUser, next: str | None = None
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return page(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    lang: LangDep,
    settings: SettingsDep,
    store: StoreDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    failure: AuthError | None = None
    with store.begin() as conn:  # commits a refused attempt too: throttling counts it
        try:
            signed = sign_in(
                conn, settings, username=username, password=password, ip=client_ip(request),
                user_agent=request.headers.get("user-agent"),
                previous_token=request.cookies.get(SESSION_COOKIE),
            )  # fmt: skip
        except AuthError as exc:
            failure = exc
    if failure is not None:
        key = "login.too_many_attempts" if failure.throttled else "login.bad_credentials"
        status = 429 if failure.throttled else 401
        return page(
            request, "login.html", {"next": _safe_next(next), "error": t(key, lang),
                                    "username": username},
            status_code=status,
        )  # fmt: skip
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, signed.token, httponly=True, samesite="lax", secure=settings.https,
        max_age=settings.session_max_hours * 3600, path="/",
    )  # fmt: skip
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, store: StoreDep, auth: ChangingUser) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with store.begin() as conn:
            end_session(conn, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}", include_in_schema=False)
def switch_language(code: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LANGS:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@router.get("/api/v1/me", tags=["session"])
def me(auth: CurrentUser) -> dict[str, Any]:
    """The caller: user name, role and what the role may do."""
    from tierwise.access import CAPABILITIES

    p = auth.principal
    return {
        "user_id": p.user_id,
        "username": p.username,
        "display_name": p.display_name,
        "role": p.role,
        "can": sorted(CAPABILITIES[p.role]),
        "via": auth.via,
    }
