"""A small, safe expression language for the boolean rules of a classification scheme.

Users write rules over per-customer features in the scheme YAML, for example
``recency_days > 365 and orders_total >= 2`` or ``province in ['上海', '江苏']``. The text is
tokenised and parsed by hand into an immutable tree of dataclasses (`Expr`); nothing is ever
evaluated by Python, so a rule can only read the features it names.

Grammar, loosest binding first::

    or  <  and  <  not  <  == != < <= > >= in, not in, contains  <  + -  <  * /  <  unary -

- values: integers, decimals (``0.6``, ``1e3``), text in ``'single'`` or ``"double"`` quotes
  (``\\`` escapes a quote or a backslash), ``true``, ``false``, ``null``, feature names
  ``[A-Za-z_][A-Za-z0-9_]*``, parentheses, and the functions ``is_null(x)``, ``not_null(x)``,
  ``coalesce(a, b, ...)``, ``abs(x)``, ``min(a, b, ...)``, ``max(a, b, ...)``;
- a list ``['a', 'b']`` or ``[1, -2]`` may only follow ``in`` / ``not in``;
- keywords and function names ignore case (``AND``, ``Is_Null``); feature names do not;
- comparisons do not chain (``a < b < c`` is an error: write ``a < b and b < c``);
- text can be tested with ``==``, ``!=``, ``in`` and ``contains`` (substring) but not ordered,
  because databases sort text by different collations;
- ``null`` may only appear inside ``is_null``, ``not_null`` and ``coalesce``;
- full-width ``（`` ``）`` ``，`` and curly quotes ``‘’“”`` typed by accident are accepted.

Null semantics, identical on every engine: inside a rule, SQL three-valued logic applies (a
comparison with a missing operand is unknown; ``false and unknown`` is false, ``true or
unknown`` is true); the rule's final unknown counts as **false**. So a missing value never
makes a rule true by accident: for a customer with no ``recency_days`` both
``recency_days > 365`` and ``not (recency_days > 365)`` are false; use ``is_null`` or
``coalesce`` to decide explicitly. ``/`` is float division and dividing by zero gives null;
``min``/``max`` skip nulls (null only when every argument is null).
"""

from __future__ import annotations

import functools
import math
from typing import Final, Literal, NoReturn, TypeAlias

from tierwise._said import Said
from tierwise.scheme._expr_tokens import _SINGLE_QUOTES, _Token, _tokenize
from tierwise.scheme._expr_tree import (
    Arithmetic,
    ArithmeticOp,
    Boolean,
    Call,
    Compare,
    CompareOp,
    Contains,
    Expr,
    ExpressionError,
    FunctionName,
    In,
    Logical,
    LogicalOp,
    Name,
    Neg,
    Not,
    Null,
    Number,
    String,
)

MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 50

_QUOTE_WHOLE_MAX = 120
_EXCERPT_HALF = 50


def _stop(reason: str) -> str:
    return "" if reason.endswith("?") else "."


def _located_error(text: str, position: int, reason: Said) -> ExpressionError:
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line_end = len(text) if line_end == -1 else line_end
    column = position - line_start + 1
    line = text.count(chr(10), 0, position) + 1
    where = f"line {line}, column {column}" if "\n" in text else f"column {column}"
    if "\n" not in text and len(text) <= _QUOTE_WHOLE_MAX:
        quoted = text
    else:
        # Long or multi-line rules: quote the part of the offending line around the column.
        start = max(line_start, position - _EXCERPT_HALF)
        end = min(line_end, position + _EXCERPT_HALF)
        quoted = (
            ("…" if start > line_start else "") + text[start:end] + ("…" if end < line_end else "")
        )
    message = f'Expression error at {where} in "{quoted}": {reason}{_stop(reason)}'
    key = "expr.error_at_line" if "\n" in text else "expr.error_at_column"
    return ExpressionError(message, reason=reason, text=text, position=position, key=key,
                           line=line, column=column, quoted=quoted, detail=reason)  # fmt: skip


def _whole_error(text: str, reason: Said) -> ExpressionError:
    quoted = text if len(text) <= _QUOTE_WHOLE_MAX else text[:_QUOTE_WHOLE_MAX] + "…"
    message = f'Expression error in "{quoted}": {reason}{_stop(reason)}'
    return ExpressionError(message, reason=reason, text=text, position=None,
                           key="expr.error_in", quoted=quoted, detail=reason)  # fmt: skip


def _too_deep() -> Said:
    return Said(
        f"the expression is nested too deeply (more than {MAX_DEPTH} levels); "
        "split it into simpler rules", key="expr.too_deep", limit=MAX_DEPTH,
    )  # fmt: skip


# --- parser ---------------------------------------------------------------------------------

# Binding powers; an infix operator is taken while its power exceeds the caller's minimum.
_OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = 1, 2, 3, 4, 5, 6, 7, 8
_COMPARE_OPS: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ORDER_OPS: Final = frozenset({"<", "<=", ">", ">="})
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "abs": (1, 1),
    "coalesce": (2, None),
    "is_null": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "not_null": (1, 1),
}
_NULL_FUNCTIONS: Final = frozenset({"is_null", "not_null", "coalesce"})

Kind: TypeAlias = Literal["boolean", "number", "text", "null", "unknown"]
_KIND_WORDS: Final[dict[Kind, Said]] = {
    "boolean": Said("true/false", key="expr.kind.boolean"),
    "number": Said("a number", key="expr.kind.number"),
    "text": Said("text", key="expr.kind.text"),
    "null": Said("null", key="expr.kind.null"),
    "unknown": Said("a feature", key="expr.kind.unknown"),
}
_NULL_MISUSE: Final = Said(
    "null can only be used inside is_null(), not_null() or coalesce(); "
    "to test for a missing value write is_null(x)", key="expr.null_misuse",
)  # fmt: skip
#: what an operator needs (`_Parser.need`)
_NEEDS: Final[dict[str, Said]] = {
    "booleans": Said("true/false values on both sides", key="expr.needs.booleans"),
    "texts": Said("text on both sides", key="expr.needs.texts"),
    "numbers": Said("numbers on both sides", key="expr.needs.numbers"),
    "boolean": Said("a true/false value", key="expr.needs.boolean"),
    "number": Said("a number", key="expr.needs.number"),
}
_END: Final = Said("the end of the expression", key="expr.end")


def _kind(expr: Expr) -> Kind:
    """What a node yields, as far as is known without the table (a feature is unknown)."""
    match expr:
        case Number():
            return "number"
        case String():
            return "text"
        case Null():
            return "null"
        case Boolean() | Not() | Logical() | Compare() | Contains() | In():
            return "boolean"
        case Neg() | Arithmetic():
            return "number"
        case Call(func="is_null" | "not_null"):
            return "boolean"
        case Call(func="coalesce", args=args):
            kinds = {_kind(a) for a in args} - {"null"}
            known = kinds - {"unknown"}
            if known:
                return known.pop()
            return "unknown" if kinds else "null"
        case Call():
            return "number"
        case _:
            return "unknown"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(expr: Expr, kind: Kind | None = None) -> Said:
    text, word = _clip(to_text(expr)), _KIND_WORDS[kind or _kind(expr)]
    return Said(f"{text} ({word})", key="expr.describe", expr=text, kind=word)


def _reason(token: _Token) -> Said:
    """The reason an "error" token carries (see `_tokenize`)."""
    value = token.value
    return value if isinstance(value, Said) else Said(str(value), key="expr.unreadable",
                                                       reason=str(value))  # fmt: skip


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.nesting = 0

    # token helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind == "error":
            self.fail(token.pos, _reason(token))
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def previous(self) -> _Token | None:
        return self.tokens[self.index - 1] if self.index > 0 else None

    def fail(self, position: int, reason: Said) -> NoReturn:
        raise _located_error(self.text, position, reason)

    def got(self, token: _Token) -> str:
        """How to name an unexpected token; an unreadable one raises its own error instead."""
        if token.kind == "error":
            self.fail(token.pos, _reason(token))
        if token.kind == "end":
            return _END
        if token.kind == "string":
            return token.raw
        return f'"{token.raw}"'

    def after(self) -> str:
        previous = self.previous()
        if previous is None:
            return ""
        return Said(f' after "{previous.raw}"', key="expr.after", token=previous.raw)

    def is_punct(self, token: _Token, value: str) -> bool:
        return token.kind == "punct" and token.value == value

    def made(self, node: Expr) -> Expr:
        if node._depth > MAX_DEPTH:
            self.fail(node.pos, _too_deep())
        return node

    # grammar

    def parse(self) -> Expr:
        expr = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            if self.is_punct(token, ")"):
                self.fail(token.pos, Said('unmatched ")"; there is no "(" before it',
                                          key="expr.unmatched_close"))  # fmt: skip
            after, got = self.after(), self.got(token)
            self.fail(token.pos, Said(
                f"expected an operator or the end of the expression{after}, got {got}",
                key="expr.expected_operator", after=after, got=got,
            ))  # fmt: skip
        if _kind(expr) == "null":
            self.fail(expr.pos, _NULL_MISUSE)
        return expr

    def expression(self, min_power: int) -> Expr:
        self.nesting += 1
        try:
            if self.nesting > MAX_DEPTH:
                self.fail(self.peek().pos, _too_deep())
            left = self.prefix(min_power)
            compared = False  # left is a comparison made in this loop, not in parentheses
            while True:
                token = self.peek()
                power = self.infix_power(token)
                if power is None or power <= min_power:
                    return left
                if power == _CMP and compared:
                    self.fail(token.pos, Said(
                        'comparisons cannot be chained; join them with "and", '
                        'e.g. "a < b and b < c"', key="expr.chained",
                    ))  # fmt: skip
                self.advance()
                left = self.made(self.infix(token, power, left))
                compared = power == _CMP
        finally:
            self.nesting -= 1

    def infix_power(self, token: _Token) -> int | None:
        if token.kind == "op":
            if token.value in _COMPARE_OPS:
                return _CMP
            return _ADD if token.value in ("+", "-") else _MUL
        if token.kind == "keyword":
            return {"or": _OR, "and": _AND, "in": _CMP, "not": _CMP, "contains": _CMP}.get(
                str(token.value)
            )
        return None

    def infix(self, token: _Token, power: int, left: Expr) -> Expr:
        value = token.value
        if value in ("and", "or"):
            right = self.expression(power)
            for side in (left, right):
                self.need(side, ("boolean",), token, _NEEDS["booleans"])
            op: LogicalOp = "and" if value == "and" else "or"
            return Logical(op, left, right, pos=left.pos)
        if value == "not":
            following = self.peek()
            if not (following.kind == "keyword" and following.value == "in"):
                got = self.got(following)
                self.fail(following.pos, Said(f'expected "in" after "not", got {got}',
                                              key="expr.not_without_in", got=got))  # fmt: skip
            self.advance()
            return self.membership(left, token, negated=True)
        if value == "in":
            return self.membership(left, token, negated=False)
        if value == "contains":
            right = self.expression(power)
            for side in (left, right):
                self.need(side, ("text",), token, _NEEDS["texts"])
            return Contains(left, right, pos=left.pos)
        if value in _COMPARE_OPS:
            right = self.expression(power)
            return self.comparison(token, left, right)
        right = self.expression(power)
        for side in (left, right):
            self.need(side, ("number",), token, _NEEDS["numbers"])
        return Arithmetic(_ARITHMETIC_OPS[str(value)], left, right, pos=left.pos)

    def need(self, expr: Expr, kinds: tuple[Kind, ...], token: _Token, what: Said) -> None:
        kind = _kind(expr)
        if kind == "null":
            self.fail(expr.pos, _NULL_MISUSE)
        if kind != "unknown" and kind not in kinds:
            got = _describe(expr, kind)
            self.fail(token.pos, Said(f'"{token.raw}" needs {what}, got {got}', key="expr.needs",
                                      op=token.raw, what=what, got=got))  # fmt: skip

    def comparison(self, token: _Token, left: Expr, right: Expr) -> Compare:
        kinds = (_kind(left), _kind(right))
        for side, kind in zip((left, right), kinds, strict=True):
            if kind == "null":
                self.fail(side.pos, _NULL_MISUSE)
            if token.value in _ORDER_OPS and kind == "text":
                shown = _clip(to_text(side))
                self.fail(token.pos, Said(
                    f'"{token.raw}" cannot order text ({shown}): databases sort '
                    "text differently; compare text with ==, !=, in or contains",
                    key="expr.order_text", op=token.raw, expr=shown,
                ))  # fmt: skip
            if token.value in _ORDER_OPS and kind == "boolean":
                got = _describe(side, kind)
                self.fail(token.pos, Said(
                    f'"{token.raw}" needs numbers or dates on both sides, got {got}',
                    key="expr.order_boolean", op=token.raw, got=got,
                ))  # fmt: skip
        if "unknown" not in kinds and kinds[0] != kinds[1]:
            one, other = _describe(left), _describe(right)
            self.fail(token.pos, Said(f'"{token.raw}" cannot compare {one} with {other}',
                                      key="expr.cannot_compare", op=token.raw, left=one,
                                      right=other))  # fmt: skip
        return Compare(_COMPARE_OP_NAMES[str(token.value)], left, right, pos=left.pos)

    def membership(self, operand: Expr, token: _Token, *, negated: bool) -> In:
        keyword = "not in" if negated else "in"
        opening = self.peek()
        if not self.is_punct(opening, "["):
            got = self.got(opening)
            self.fail(opening.pos, Said(
                f"expected a list like ['a', 'b'] after \"{keyword}\", got {got}",
                key="expr.list_expected", keyword=keyword, got=got,
            ))  # fmt: skip
        self.advance()
        values: list[Number | String] = []
        while True:
            item = self.advance()
            if self.is_punct(item, "]") and not values:
                self.fail(item.pos, Said("expected at least one value in the list",
                                         key="expr.list_empty"))  # fmt: skip
            values.append(self.list_item(item))
            if len({type(v) for v in values}) > 1:
                self.fail(item.pos, Said("the list mixes numbers and text; use one kind of value",
                                         key="expr.list_mixed"))  # fmt: skip
            separator = self.advance()
            if self.is_punct(separator, "]"):
                break
            if not self.is_punct(separator, ","):
                got = self.got(separator)
                self.fail(separator.pos, Said(f'expected "," or "]" in the list, got {got}',
                                              key="expr.list_separator", got=got))  # fmt: skip
        list_kind: Kind = "number" if isinstance(values[0], Number) else "text"
        kind = _kind(operand)
        if kind == "null":
            self.fail(operand.pos, _NULL_MISUSE)
        if kind != "unknown" and kind != list_kind:
            got = _describe(operand, kind)
            if list_kind == "number":
                reason = Said(f'"{keyword}" cannot look for {got} in a list of numbers',
                              key="expr.in_numbers", keyword=keyword, got=got)  # fmt: skip
            else:
                reason = Said(f'"{keyword}" cannot look for {got} in a list of text',
                              key="expr.in_text", keyword=keyword, got=got)  # fmt: skip
            self.fail(token.pos, reason)
        return In(operand, tuple(values), negated, pos=operand.pos)

    def list_item(self, item: _Token) -> Number | String:
        if item.kind == "string":
            return String(str(item.value), pos=item.pos)
        if item.kind == "number":
            return Number(_number_value(item), pos=item.pos)
        following = self.peek()
        if item.kind == "op" and item.value == "-" and following.kind == "number":
            self.advance()
            return Number(-_number_value(following), pos=item.pos)
        got = self.got(item)
        self.fail(item.pos, Said(f"expected a number or quoted text in the list, got {got}",
                                 key="expr.list_item", got=got))  # fmt: skip

    def prefix(self, min_power: int) -> Expr:
        after = self.after()
        token = self.advance()
        if token.kind == "number":
            return Number(_number_value(token), pos=token.pos)
        if token.kind == "string":
            return String(str(token.value), pos=token.pos)
        if token.kind == "name":
            if self.is_punct(self.peek(), "("):
                return self.call(token)
            return Name(str(token.value), pos=token.pos)
        if token.kind == "keyword":
            if token.value in ("true", "false"):
                return Boolean(token.value == "true", pos=token.pos)
            if token.value == "null":
                return Null(pos=token.pos)
            if token.value == "not":
                if min_power >= _NOT:
                    self.fail(token.pos, Said(
                        f'expected a value{after}, got "{token.raw}"; put the negation in '
                        'parentheses, e.g. "(not x)"', key="expr.not_parens", after=after,
                        got=token.raw,
                    ))  # fmt: skip
                operand = self.expression(_AND)
                self.need(operand, ("boolean",), token, _NEEDS["boolean"])
                return self.made(Not(operand, pos=token.pos))
        if token.kind == "op" and token.value == "-":
            operand = self.expression(_MUL)
            self.need(operand, ("number",), token, _NEEDS["number"])
            return self.made(Neg(operand, pos=token.pos))
        if self.is_punct(token, "("):
            inner = self.expression(0)
            closing = self.peek()
            if not self.is_punct(closing, ")"):
                column = token.pos - self.text.rfind("\n", 0, token.pos)
                got = self.got(closing)
                self.fail(closing.pos, Said(
                    f'expected ")" to close the "(" at column {column}, got {got}',
                    key="expr.unclosed_paren", column=column, got=got,
                ))  # fmt: skip
            self.advance()
            return inner
        if self.is_punct(token, "["):
            self.fail(token.pos, Said('a list [...] can only follow "in" or "not in"',
                                      key="expr.list_misplaced"))  # fmt: skip
        got = self.got(token)
        self.fail(token.pos, Said(f"expected a value{after}, got {got}",
                                  key="expr.expected_value", after=after, got=got))  # fmt: skip

    def call(self, name: _Token) -> Expr:
        func = str(name.value).lower()
        if func not in _ARITY:
            functions = ", ".join(sorted(_ARITY))
            self.fail(name.pos, Said(
                f'unknown function "{name.raw}"; the functions are {functions}',
                key="expr.unknown_function", name=name.raw, functions=functions,
            ))  # fmt: skip
        self.advance()  # "("
        args: list[Expr] = []
        if self.is_punct(self.peek(), ")"):
            self.advance()
        else:
            while True:
                args.append(self.expression(0))
                separator = self.advance()
                if self.is_punct(separator, ")"):
                    break
                if not self.is_punct(separator, ","):
                    got = self.got(separator)
                    self.fail(separator.pos, Said(
                        f'expected "," or ")" in the arguments of {func}(), got {got}',
                        key="expr.argument_separator", func=func, got=got,
                    ))  # fmt: skip
        low, high = _ARITY[func]
        if len(args) < low or (high is not None and len(args) > high):
            plural = "argument" if low == 1 else "arguments"
            if low == high:
                reason = Said(f"{func}() takes exactly {low} {plural}, got {len(args)}",
                              key="expr.arity_exactly", func=func, count=low, got=len(args))  # fmt: skip
            else:
                reason = Said(f"{func}() takes at least {low} {plural}, got {len(args)}",
                              key="expr.arity_at_least", func=func, count=low, got=len(args))  # fmt: skip
            self.fail(name.pos, reason)
        self.check_arguments(func, name, args)
        return self.made(Call(_FUNCTION_NAMES[func], tuple(args), pos=name.pos))

    def check_arguments(self, func: str, name: _Token, args: list[Expr]) -> None:
        kinds = [_kind(a) for a in args]
        if func not in _NULL_FUNCTIONS:
            for arg, kind in zip(args, kinds, strict=True):
                if kind == "null":
                    self.fail(arg.pos, _NULL_MISUSE)
                if kind not in ("number", "unknown"):
                    got = _describe(arg, kind)
                    self.fail(name.pos, Said(f"{func}() needs numbers, got {got}",
                                             key="expr.function_numbers", func=func, got=got))  # fmt: skip
        if func == "coalesce":
            known = [
                (a, k) for a, k in zip(args, kinds, strict=True) if k not in ("null", "unknown")
            ]
            for arg, kind in known[1:]:
                if kind != known[0][1]:
                    first, second = _describe(known[0][0]), _describe(arg)
                    self.fail(name.pos, Said(
                        f"coalesce() needs values of one kind, got {first} and {second}",
                        key="expr.coalesce_kinds", first=first, second=second,
                    ))  # fmt: skip


def _number_value(token: _Token) -> int | float:
    if isinstance(token.value, str):
        raise TypeError(f"not a number token: {token!r}")
    return token.value


_ARITHMETIC_OPS: Final[dict[str, ArithmeticOp]] = {"+": "+", "-": "-", "*": "*", "/": "/"}
_COMPARE_OP_NAMES: Final[dict[str, CompareOp]] = {
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_FUNCTION_NAMES: Final[dict[str, FunctionName]] = {
    "abs": "abs",
    "coalesce": "coalesce",
    "is_null": "is_null",
    "max": "max",
    "min": "min",
    "not_null": "not_null",
}


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expr:
    """Parse a rule into an immutable tree; raise `ExpressionError` naming the position.
    Trees are cached by text (explaining one customer parses the scheme's rules again).

    Any well-typed expression is accepted (``2 * median_gap_days`` too); a scheme rule
    should check that ``to_ibis(...)`` yields a boolean.

    >>> parse("orders_total == 0")
    Compare(op='==', left=Name(name='orders_total'), right=Number(value=0))
    """
    if len(text) > MAX_LENGTH:
        raise _whole_error(text, Said(
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}. "
            "Split it into several rules", key="expr.too_long", length=len(text),
            limit=MAX_LENGTH,
        ))  # fmt: skip
    if not text.strip():
        raise _whole_error(text, Said(
            'the expression is empty; expected a rule such as "orders_total >= 2"',
            key="expr.empty",
        ))  # fmt: skip
    return _Parser(text).parse()


# --- canonical text -------------------------------------------------------------------------


def _power(expr: Expr) -> int:
    match expr:
        case Logical(op="or"):
            return _OR
        case Logical():
            return _AND
        case Not():
            return _NOT
        case Compare() | In() | Contains():
            return _CMP
        case Arithmetic(op="+" | "-"):
            return _ADD
        case Arithmetic():
            return _MUL
        case Neg():
            return _NEG
        case _:
            return _ATOM


def _quote(value: str) -> str:
    escaped = "".join("\\" + c if c in "\\" + _SINGLE_QUOTES else c for c in value)
    return f"'{escaped}'"


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        reason = Said(f"{value} cannot be written in a rule", key="expr.unwritable",
                      value=str(value))  # fmt: skip
        raise ExpressionError(
            f"Expression error: {reason}.",
            reason=reason,
            text=str(value),
            position=None,
            key="expr.error",
            detail=reason,
        )
    return repr(value) if isinstance(value, float) else str(value)


def to_text(expr: Expr) -> str:
    """The canonical text of a rule, with the fewest parentheses; ``parse`` reads it back.

    >>> to_text(parse("NOT(complaints_open>0) AND province IN [‘上海’，'江苏']"))
    "not complaints_open > 0 and province in ['上海', '江苏']"
    """

    def wrap(child: Expr, minimum: int) -> str:
        text = to_text(child)
        return f"({text})" if _power(child) < minimum else text

    match expr:
        case Number(value=value):
            return _number_text(value)
        case String(value=value):
            return _quote(value)
        case Boolean(value=value):
            return "true" if value else "false"
        case Null():
            return "null"
        case Name(name=name):
            return name
        case Neg(operand=operand):
            return "-" + wrap(operand, _NEG)
        case Not(operand=operand):
            return "not " + wrap(operand, _NOT)
        case Logical(op=op, left=left, right=right) | Arithmetic(op=op, left=left, right=right):
            power = _power(expr)
            # Left-associative: an equal-power right operand needs parentheses.
            return f"{wrap(left, power)} {op} {wrap(right, power + 1)}"
        case Compare(op=op, left=left, right=right):
            return f"{wrap(left, _CMP + 1)} {op} {wrap(right, _CMP + 1)}"
        case Contains(text=text, part=part):
            return f"{wrap(text, _CMP + 1)} contains {wrap(part, _CMP + 1)}"
        case In(operand=operand, values=values, negated=negated):
            items = ", ".join(to_text(v) for v in values)
            keyword = "not in" if negated else "in"
            return f"{wrap(operand, _CMP + 1)} {keyword} [{items}]"
        case Call(func=func, args=args):
            return f"{func}({', '.join(to_text(a) for a in args)})"
        case _:
            raise TypeError(f"not an expression node: {expr!r}")


__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Arithmetic",
    "ArithmeticOp",
    "Boolean",
    "Call",
    "Compare",
    "CompareOp",
    "Contains",
    "Expr",
    "ExpressionError",
    "FunctionName",
    "In",
    "Logical",
    "LogicalOp",
    "Name",
    "Neg",
    "Not",
    "Null",
    "Number",
    "String",
    "parse",
    "to_text",
]
