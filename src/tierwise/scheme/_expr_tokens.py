"""Tokens of the rule language (see `tierwise.scheme._expr` for the grammar)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from tierwise._said import Said

_INT_MAX: Final = 2**63 - 1


# --- tokens ---------------------------------------------------------------------------------

TokenKind: TypeAlias = Literal["number", "string", "name", "keyword", "op", "punct", "error", "end"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: TokenKind
    value: str | int | float  # lower-cased keyword, operator, punctuation, name or literal
    pos: int
    raw: str  # as written, for messages


_KEYWORDS: Final = frozenset({"and", "or", "not", "in", "contains", "true", "false", "null"})
_FULL_WIDTH: Final = {"（": "(", "）": ")", "，": ","}
_SINGLE_QUOTES: Final = "'‘’"
_DOUBLE_QUOTES: Final = '"“”'
_ESCAPABLE: Final = "\\" + _SINGLE_QUOTES + _DOUBLE_QUOTES
_NUMBER_RE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS: Final = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/")
_PUNCTUATION: Final = "()[],"
_MISTAKES_2: Final = {"&&": '"and"', "||": '"or"', "<>": '"!="'}
_MISTAKES_1: Final = {"!": '"not"', "&": '"and"', "|": '"or"'}


def _use(found: str, use: str) -> Said:
    return Said(f'unexpected "{found}"; use {use}', key="expr.unexpected_use", found=found,
                use=use)  # fmt: skip


class _BadText(Exception):
    """Unreadable text at ``pos``; ``reason`` (a `Said`) is the parser's error."""

    def __init__(self, pos: int, reason: Said) -> None:
        super().__init__(reason)
        self.pos = pos
        self.reason = reason


def _tokenize(text: str) -> list[_Token]:
    """All tokens, ending in "end"; unreadable text becomes a final "error" token.

    The error is deferred to the parser so problems are reported in reading order
    (``__import__('os').system`` fails on the unknown function, not on the ".").
    """
    tokens: list[_Token] = []
    try:
        _scan(text, tokens)
    except _BadText as bad:
        tokens.append(_Token("error", bad.reason, bad.pos, text[bad.pos : bad.pos + 1]))
    tokens.append(_Token("end", "", len(text), ""))
    return tokens


def _scan(text: str, tokens: list[_Token]) -> None:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        ch = _FULL_WIDTH.get(ch, ch)
        if ch in _PUNCTUATION:
            tokens.append(_Token("punct", ch, i, text[i]))
            i += 1
        elif ch in _SINGLE_QUOTES or ch in _DOUBLE_QUOTES:
            token, i = _read_string(text, i)
            tokens.append(token)
        elif match := _NUMBER_RE.match(text, i):
            tokens.append(_number_token(text, match))
            i = match.end()
        elif match := _NAME_RE.match(text, i):
            word = match.group()
            if word.lower() in _KEYWORDS:
                tokens.append(_Token("keyword", word.lower(), i, word))
            else:
                tokens.append(_Token("name", word, i, word))
            i = match.end()
        elif (two := text[i : i + 2]) in _MISTAKES_2:
            raise _BadText(i, _use(two, _MISTAKES_2[two]))
        elif two in _OPERATORS:
            tokens.append(_Token("op", two, i, two))
            i += 2
        elif ch in _OPERATORS:
            tokens.append(_Token("op", ch, i, ch))
            i += 1
        elif ch == "=":
            raise _BadText(i, Said('unexpected "="; use "==" to compare',
                                   key="expr.unexpected_equals"))  # fmt: skip
        elif ch in _MISTAKES_1:
            raise _BadText(i, _use(ch, _MISTAKES_1[ch]))
        elif ch.isalpha():
            raise _BadText(i, Said(
                f'unexpected character "{ch}"; feature names use only A-Z, a-z, 0-9 and _, '
                "and text must be in quotes", key="expr.unexpected_letter", found=ch,
            ))  # fmt: skip
        elif ch == ".":
            raise _BadText(i, Said('unexpected "."; feature names use only A-Z, a-z, 0-9 and _',
                                   key="expr.unexpected_dot"))  # fmt: skip
        else:
            raise _BadText(i, Said(f'unexpected character "{ch}"',
                                   key="expr.unexpected_character", found=ch))  # fmt: skip


def _read_string(text: str, start: int) -> tuple[_Token, int]:
    closers = _SINGLE_QUOTES if text[start] in _SINGLE_QUOTES else _DOUBLE_QUOTES
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch in closers:
            return _Token("string", "".join(chars), start, text[start : i + 1]), i + 1
        if ch == "\\":
            if i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
                chars.append(text[i + 1])
                i += 2
                continue
            raise _BadText(i, Said(
                "a backslash in text must be followed by a quote or another backslash",
                key="expr.backslash",
            ))  # fmt: skip
        chars.append(ch)
        i += 1
    raise _BadText(start, Said("the text starting here has no closing quote",
                               key="expr.unclosed_quote"))  # fmt: skip


def _number_token(text: str, match: re.Match[str]) -> _Token:
    raw = match.group()
    value: int | float
    if any(c in raw for c in ".eE"):
        value = float(raw)
        if not math.isfinite(value):
            raise _BadText(match.start(), Said(f"the number {raw} is too large",
                                               key="expr.number_too_large", number=raw))  # fmt: skip
    else:
        value = int(raw)
        if value > _INT_MAX:
            raise _BadText(match.start(), Said(
                f"the integer {raw} is too large (the limit is {_INT_MAX})",
                key="expr.integer_too_large", number=raw, limit=_INT_MAX,
            ))  # fmt: skip
    return _Token("number", value, match.start(), raw)
