"""Jinja2 pages (autoescaped; no `|safe` on user data) and their JSON twins."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tierwise.store.audit import jsonable
from tierwise.web._i18n import LANGS, fmt_date, fmt_money, fmt_number, t

TEMPLATES_DIR: Final = Path(__file__).with_name("templates")
STATIC_DIR: Final = Path(__file__).with_name("static")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (pagination, sorting links)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return "?" + urlencode(params)


def page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` in the request's language."""
    lang = getattr(request.state, "lang", "zh")
    auth = getattr(request.state, "auth", None)

    def tr(key: str, **values: Any) -> str:
        return t(key, lang, **values)

    base = {
        "request": request,
        "lang": lang,
        "other_lang": next(x for x in LANGS if x != lang),
        "t": tr,
        "auth": auth,
        "user": None if auth is None else auth.principal,
        "csrf": None if auth is None else auth.csrf_token,
        "num": lambda v, d=0: fmt_number(v, lang, d),
        "money": lambda v: fmt_money(v, lang),
        "day": lambda v: fmt_date(v, lang),
        "query": lambda **kw: _query(request, **kw),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, base | context, status_code=status_code)


def _encode(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


class TwinResponse(JSONResponse):
    """Plain `json.dumps` of what the library returned: FastAPI's encoder took 15× as long
    on a customer list page (15 ms against 1 ms for 50 customers)."""

    def render(self, content: Any) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=False, allow_nan=False, default=_encode)
        except ValueError:  # NaN or infinity somewhere: spelled out as strings
            text = json.dumps(jsonable(content), ensure_ascii=False, default=_encode)
        return text.encode("utf-8")


def twin(data: Any, *, status_code: int = 200) -> JSONResponse:
    """The JSON twin of a page: the same data the page was rendered from."""
    return TwinResponse(data, status_code=status_code)


__all__ = ["STATIC_DIR", "page", "templates", "twin"]
