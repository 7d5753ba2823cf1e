"""zh-CN and en: the texts of `messages.yaml`, the request's language, number and date formats.

The language is the ``tw_lang`` cookie (set by the switch on every page), else the browser's
``Accept-Language``, else the configured default.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

LANGS: Final = ("zh", "en")
COOKIE: Final = "tw_lang"
# messages.yaml, plus one messages_<page>.yaml per page family
MESSAGES_DIR: Final = Path(__file__).parent


@cache
def messages() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for path in sorted(MESSAGES_DIR.glob("messages*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if key in out:
                raise ValueError(f"Message {key!r} is defined twice (again in {path.name}).")
            out[str(key)] = {lang: str(value[lang]) for lang in LANGS}
    return out


def t(key: str, lang: str, **values: Any) -> str:
    """The text of ``key`` in ``lang``, with ``{name}`` placeholders filled in."""
    entry = messages().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def negotiate(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The page language from the cookie, the browser's preferences, or the default."""
    if cookie in LANGS:
        return cookie
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if best is None or q > best[0]:
            best = (q, primary)
    return best[1] if best else (default if default in LANGS else "zh")


def fmt_number(value: Any, lang: str, digits: int = 0) -> str:
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.{digits}f}"


def fmt_money(value: Any, lang: str, currency: str = "CNY") -> str:
    if value is None or value == "":
        return "—"
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€"}.get(currency, "")
    text = fmt_number(value, lang, 2)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def fmt_date(value: Any, lang: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            parsed: date = (
                date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
            )
        except ValueError:
            return value
        value = parsed
    if isinstance(value, datetime):
        return (
            f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
            if lang == "zh"
            else f"{value:%Y-%m-%d %H:%M}"
        )
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.isoformat()
    return str(value)


__all__ = ["COOKIE", "LANGS", "fmt_date", "fmt_money", "fmt_number", "messages", "negotiate", "t"]
