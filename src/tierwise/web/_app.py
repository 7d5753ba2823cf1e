"""The app factory: one FastAPI app serving the pages, the REST API (/api/v1) and static files.

Security headers on every answer: a Content Security Policy that allows scripts, styles and
connections only from the app itself (no inline scripts, nothing from another host), no framing,
no MIME sniffing. Errors answer in the caller's language, as a page or as JSON under /api/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from tierwise import __version__
from tierwise.access import AuthError, ForbiddenError
from tierwise.errors import DataError, NotFoundError, SchemeError, TierwiseError
from tierwise.settings import Settings
from tierwise.web._deps import CsrfError, NotSignedIn, get_lang
from tierwise.web._i18n import messages, t
from tierwise.web._jobs import BusyError, Jobs
from tierwise.web._render import STATIC_DIR, page

CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# error class -> (status, message key); the most specific class first
_ERRORS: Final[list[tuple[type[Exception], int, str]]] = [
    (NotSignedIn, 401, "login.expired"),
    (CsrfError, 403, "error.csrf"),
    (ForbiddenError, 403, "error.forbidden"),
    (NotFoundError, 404, "error.not_found"),
    (AuthError, 401, "login.bad_credentials"),
    (BusyError, 409, "dash.classify_busy"),
    (SchemeError, 422, "error.bad_input"),
    (DataError, 422, "error.bad_input"),
    (TierwiseError, 400, "error.bad_input"),
]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _said(exc: Exception, lang: str) -> str:
    """The error in the user's language where the catalogue has it, else its own text."""
    key = getattr(exc, "key", None)
    if key and key in messages():
        return t(key, lang, **getattr(exc, "params", {}))
    return str(exc)


def _audit_denied(request: Request, exc: Exception) -> None:
    """Permission failures are audited (RELIABILITY.md), with who, what and from where."""
    from tierwise.store import audit

    auth = getattr(request.state, "auth", None)
    actor = auth.principal.username if auth is not None else "anonymous"
    with request.app.state.store.begin() as conn:
        audit.record(
            conn, actor=actor, actor_id=auth.principal.user_id if auth is not None else None,
            action="permission.denied", entity="request",
            entity_id=f"{request.method} {request.url.path}"[:128],
            after={"reason": type(exc).__name__}, ip=request.client.host if request.client else None,
        )  # fmt: skip


def _error(request: Request, exc: Exception) -> Response:
    lang = getattr(request.state, "lang", None) or get_lang(request)
    status, key = next((s, k) for cls, s, k in _ERRORS if isinstance(exc, cls))
    if isinstance(exc, ForbiddenError | CsrfError):
        _audit_denied(request, exc)
    if isinstance(exc, NotSignedIn) and not _is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)
    # not-found answers carry no detail: out of scope must look exactly like missing
    detail = t(key, lang) if status in (401, 403, 404) else _said(exc, lang)
    if _is_api(request):
        return JSONResponse({"detail": detail, "code": key}, status_code=status)
    return page(
        request, "error.html", {"status": status, "message": t(key, lang), "detail": detail},
        status_code=status,
    )  # fmt: skip


def create_app(settings: Settings, *, store: Any = None) -> FastAPI:
    """The Tierwise web app over the store of ``settings`` (or an engine passed in).

    Example::

        import uvicorn
        from tierwise.settings import load_settings
        uvicorn.run(create_app(load_settings()), host="127.0.0.1", port=8000)
    """
    from tierwise.pipeline import open_store
    from tierwise.web.routes import ROUTERS

    settings.require_secret_key()
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the pool sync routes run in (anyio's default: 40 threads). Twenty requests at once on
        # 40 threads took 40 ms of CPU each against 17 ms one at a time; a few threads keep
        # the rest waiting in the event loop instead (bench/README.md, web)
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        yield
        app.state.jobs.shutdown()
        if owns_store:
            app.state.store.dispose()

    app = FastAPI(
        title="Tierwise",
        version=__version__,
        description="Customer classification and tiering (客户分类 / 客户分级管理) — REST API.",
        # FastAPI's Swagger UI loads its scripts from a CDN: nothing may, so no docs page
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = open_store(settings) if owns_store else store
    app.state.jobs = Jobs(settings, app.state.store)

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        limit = settings.max_upload_mb * 1024 * 1024
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            lang = get_lang(request)
            return JSONResponse(
                {"detail": f"{t('error.too_large', lang)} (> {settings.max_upload_mb} MB)"},
                status_code=413,
                headers=SECURITY_HEADERS,
            )
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/") or "text/html" in response.headers.get(
            "content-type", ""
        ):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for cls, _status, _key in _ERRORS:
        app.add_exception_handler(cls, _error)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        if _is_api(request):
            return JSONResponse({"detail": problems, "code": "error.bad_input"}, status_code=422)
        return _error(request, DataError(problems))

    app.add_exception_handler(RequestValidationError, invalid)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory tierwise.web:app_from_env`` (settings from the
    environment); `tierwise serve --workers N` starts N such processes."""
    from tierwise.settings import load_settings

    return create_app(load_settings())


__all__ = ["CSP", "app_from_env", "create_app"]
