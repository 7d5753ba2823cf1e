"""How the act pages answer a form: done is a redirect back with a notice, refused is the same
page again with the reason in the user's language.

A notice travels as ``?done=<name>&id=<value>``: only names the page lists are shown (the value
is data, autoescaped), so a link cannot put arbitrary text on the page. A refusal (a `DataError`
such as a claim over the daily limit) re-renders the page with status 422; permission and
not-found errors go to the app's error handlers as everywhere (audited, no detail).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from tierwise.errors import DataError
from tierwise.web._i18n import messages, t

#: a page's refusal status: the request was understood, the act library said no
REFUSED: Final = 422


def said(exc: Exception, lang: str) -> str:
    """The error in the user's language where the catalogue has it, else its own text."""
    key = getattr(exc, "key", None)
    if key and key in messages():
        try:
            return t(key, lang, **getattr(exc, "params", {}))
        except (KeyError, IndexError, ValueError):
            pass
    return str(exc)


def done(url: str, name: str, value: Any = "") -> RedirectResponse:
    """Back to ``url`` (303) with the notice ``name`` about ``value``."""
    return RedirectResponse(f"{url}?{urlencode({'done': name, 'id': str(value)})}", status_code=303)


def notice(request: Request, lang: str, names: Mapping[str, str]) -> str | None:
    """The notice of the query string, if its name is one of ``names`` (name -> message key)."""
    key = names.get(request.query_params.get("done", ""))
    if key is None:
        return None
    return t(key, lang, id=request.query_params.get("id", "")[:200])


def attempt(
    store: sa.Engine,
    run: Callable[[sa.Connection], Any],
    ok: Callable[[Any], Response],
    refused: Callable[[str], Response],
    lang: str,
) -> Response:
    """``run`` in one transaction; ``ok(result)`` when it commits, ``refused(reason)`` (nothing
    written) when the act library refuses with a `DataError`."""
    try:
        with store.begin() as conn:
            result = run(conn)
    except DataError as exc:
        return refused(said(exc, lang))
    return ok(result)


def form_number(value: str | None, *, field: str, integer: bool = False) -> float | int | None:
    """An optional number from a form field ("" means none); a clear error for anything else."""
    text = (value or "").strip().replace(",", "")
    if not text:
        return None
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        raise DataError(
            f'Form field "{field}" must be a number (got "{text[:40]}").',
            key="err.form_number", field=field, value=text[:40],
        ) from None  # fmt: skip
    if number != number or number in (float("inf"), float("-inf")):
        raise DataError(
            f'Form field "{field}" must be a number (got "{text[:40]}").',
            key="err.form_number", field=field, value=text[:40],
        )  # fmt: skip
    return number


__all__ = ["REFUSED", "attempt", "done", "form_number", "notice", "said"]
