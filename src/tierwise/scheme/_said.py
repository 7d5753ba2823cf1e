"""Scheme problems as `Said` messages: the YAML path they are about, and pydantic's own errors
(a key left out, a wrong type, an unknown key…) in words of the catalogue.

Every message a scheme check makes has a key in ``tierwise/web/messages_scheme_checks.yaml``
(zh and en); ``tests/scheme/test_said.py`` produces each of them from a bad document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic_core import ErrorDetails

from tierwise._said import Said, say
from tierwise.errors import SchemeError

TOP_LEVEL: Final = "(top level)"
METHODS: Final = ("score", "bands", "rfm", "rules", "mapping", "grid", "model")
_LABEL_KEY: Final = r"^[A-Za-z0-9_+\-]{1,48}$"
_SHOWN_MAX: Final = 40


class Located(Said):
    """A message about one YAML path (``path``): its key and params are those of ``detail``,
    which is said beside the path; the English text carries the path as it always did."""

    path: str
    detail: Said


def _located(text: str, path: str, detail: Said) -> Located:
    out = Located(text, key=detail.key, **detail.params)
    out.path, out.detail = path, detail
    return out


def at(path: str, detail: Said, stop: str = "") -> Located:
    """``Scheme error at <path>: <detail><stop>``: a line of `check_scheme` or `load_scheme`."""
    return _located(f"Scheme error at {path}: {detail}{stop}", path, detail)


def where(path: str, detail: Said) -> Located:
    """``<path>: <detail>``: what a model check raises about a path below its own."""
    return _located(f"{path}: {detail}", path, detail)


class SchemeProblems(SchemeError):
    """A scheme refused with every problem: ``problems`` holds them as `Said` lines (one per
    line of the message), so that they can be said in the reader's language. A single problem
    is also the error's ``key`` and ``params``."""

    def __init__(self, problems: list[Said]) -> None:
        one = problems[0] if len(problems) == 1 else None
        if one is not None:
            super().__init__("\n".join(problems), key=one.key, **one.params)
        else:
            super().__init__("\n".join(problems))
        self.problems = list(problems)


def say_line(line: str, lang: str, texts: Mapping[str, Mapping[str, str]]) -> str:
    """A line of a refused scheme (`SchemeProblems.problems`, `check_scheme`) in ``lang``: the
    path as it is (the top level said), the detail said; in English, the line itself."""
    if lang == "en" or not isinstance(line, Located):
        return say(line, lang, texts)
    path: str = line.path
    if path == TOP_LEVEL:
        path = Said(TOP_LEVEL, key="scheme.check.top_level")
    framed = Said(str(line), key="scheme.check.line", path=path, detail=line.detail)
    return say(framed, lang, texts)


def said(error: BaseException) -> Said | None:
    """The `Said` a check raised (``ValueError(Said(...))``), if it raised one."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Said) else None


def shown(value: Any) -> str:
    """A value as a message names it: text quoted, a list or mapping by its kind."""
    if value is None:
        return Said("nothing (null)", key="scheme.value.null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return Said("a mapping", key="scheme.value.mapping")
    if isinstance(value, list | tuple):
        return Said("a list", key="scheme.value.list")
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _expected(ctx: dict[str, Any]) -> str:
    """pydantic's ``"'a', 'b' or 'c'"`` as ``"'a', 'b', 'c'"`` (no English "or" to say)."""
    return str(ctx.get("expected", "")).replace(" or ", ", ")


def pydantic_said(error: ErrorDetails) -> Said:
    """One pydantic error as a catalogued message naming the bad value (without a final stop)."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    got = shown(value)
    if kind == "value_error" and (found := said(ctx.get("error") or ValueError())):
        return found
    if kind == "missing":
        return Said("required, but missing", key="scheme.pydantic.missing")
    if kind == "extra_forbidden":
        return Said("unknown key (check the spelling)", key="scheme.pydantic.extra")
    if kind == "string_type" and isinstance(value, bool):
        return Said(
            "expected text, got a yes/no value: YAML reads yes, no, on, off, true and false as "
            'booleans; put the label in quotes, e.g. "yes"', key="scheme.pydantic.yes_no",
        )  # fmt: skip
    if kind == "union_tag_invalid" and isinstance(value, dict):
        return Said(
            f"method must be one of {', '.join(METHODS)} (got {value.get('method')!r})",
            key="scheme.pydantic.method_unknown", methods=", ".join(METHODS),
            method=repr(value.get("method")),
        )  # fmt: skip
    if kind == "union_tag_not_found":
        return Said(f"method is missing: write one of {', '.join(METHODS)}",
                    key="scheme.pydantic.method_missing", methods=", ".join(METHODS))  # fmt: skip
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == _LABEL_KEY:
        return Said(f"a label key is 1 to 48 letters, digits, _, + or -; got {got}",
                    key="scheme.pydantic.label_key", value=got)  # fmt: skip
    simple = _SIMPLE.get(kind)
    if simple is not None:
        key, english = simple
        params = {"value": got, **{k: ctx[k] for k in _BOUNDS if k in ctx}}
        if kind == "literal_error":
            params["expected"] = _expected(ctx)
        if kind in ("too_short", "too_long"):
            params = {"value": got, "limit": ctx.get("min_length", ctx.get("max_length")),
                      "count": ctx.get("actual_length")}  # fmt: skip
        return Said(english.format(**params), key=key, **params)
    detail = str(error["msg"]).removeprefix("Value error, ")
    return Said(detail, key="scheme.pydantic.other", detail=detail, value=got)


_BOUNDS: Final = ("gt", "ge", "lt", "le", "pattern")
#: pydantic error type → (key, English with the parameters of `pydantic_said`)
_SIMPLE: Final[dict[str, tuple[str, str]]] = {
    "string_type": ("scheme.pydantic.text", "expected text, got {value}"),
    "float_type": ("scheme.pydantic.number", "expected a number, got {value}"),
    "float_parsing": ("scheme.pydantic.number", "expected a number, got {value}"),
    "finite_number": ("scheme.pydantic.finite", "expected a finite number, got {value}"),
    "int_type": ("scheme.pydantic.integer", "expected a whole number, got {value}"),
    "int_parsing": ("scheme.pydantic.integer", "expected a whole number, got {value}"),
    "int_from_float": ("scheme.pydantic.integer", "expected a whole number, got {value}"),
    "bool_type": ("scheme.pydantic.boolean", "expected true or false, got {value}"),
    "bool_parsing": ("scheme.pydantic.boolean", "expected true or false, got {value}"),
    "list_type": ("scheme.pydantic.list", "expected a list, got {value}"),
    "dict_type": ("scheme.pydantic.mapping", "expected a mapping (key: value), got {value}"),
    "model_type": ("scheme.pydantic.mapping", "expected a mapping (key: value), got {value}"),
    "model_attributes_type": (
        "scheme.pydantic.mapping",
        "expected a mapping (key: value), got {value}",
    ),
    "literal_error": ("scheme.pydantic.literal", "expected one of {expected}, got {value}"),
    "string_pattern_mismatch": (
        "scheme.pydantic.pattern",
        "{value} does not match the pattern {pattern}",
    ),
    "too_short": ("scheme.pydantic.too_short", "needs at least {limit} item(s), got {count}"),
    "too_long": ("scheme.pydantic.too_long", "takes at most {limit} item(s), got {count}"),
    "greater_than": ("scheme.pydantic.gt", "must be greater than {gt}, got {value}"),
    "greater_than_equal": ("scheme.pydantic.ge", "must be at least {ge}, got {value}"),
    "less_than": ("scheme.pydantic.lt", "must be less than {lt}, got {value}"),
    "less_than_equal": ("scheme.pydantic.le", "must be at most {le}, got {value}"),
}

__all__ = [
    "METHODS",
    "TOP_LEVEL",
    "Located",
    "SchemeProblems",
    "at",
    "pydantic_said",
    "said",
    "say_line",
    "shown",
    "where",
]
