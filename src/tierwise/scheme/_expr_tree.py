"""The parsed form of a scheme rule: an immutable tree of dataclasses (`Expr` and its node
kinds) and the error a rule that cannot be parsed or compiled raises. `tierwise.scheme._expr`
reads rules into these trees and writes them back as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from tierwise._said import Said
from tierwise.errors import SchemeError

LogicalOp: TypeAlias = Literal["and", "or"]
CompareOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]
ArithmeticOp: TypeAlias = Literal["+", "-", "*", "/"]
FunctionName: TypeAlias = Literal["abs", "coalesce", "is_null", "max", "min", "not_null"]


class ExpressionError(SchemeError, ValueError):
    """A rule cannot be parsed or compiled.

    ``reason`` is the message without the location prefix, ``text`` the rule as written
    (or its canonical form for errors found while compiling), ``position`` the 0-based
    character offset of the problem in ``text`` (None when it concerns the whole rule).
    ``said`` is the message with its catalogue key (``expr.*``), the reason nested in it.
    """

    def __init__(
        self, message: str, *, reason: str, text: str, position: int | None,
        key: str | None = None, **params: object,
    ) -> None:  # fmt: skip
        super().__init__(message, key=key, **params)
        self.reason = reason
        self.text = text
        self.position = position

    @property
    def said(self) -> Said:
        return Said(str(self), key=self.key or "expr.error", **self.params)


# --- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expr:
    """A node of a parsed rule. ``pos`` (offset in the source) takes no part in equality."""

    pos: int = field(default=-1, kw_only=True, compare=False, repr=False)
    # Stored so the parser can refuse deep trees without re-walking them at every node.
    _depth: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        depth = 1 + max((child._depth for child in self.children()), default=0)
        object.__setattr__(self, "_depth", depth)

    def children(self) -> tuple[Expr, ...]:
        """The direct sub-expressions, left to right."""
        return ()

    def names(self) -> frozenset[str]:
        """The feature names this expression reads.

        >>> from tierwise.scheme._expr import parse
        >>> sorted(parse("r_score >= 4 and f_score >= 4").names())
        ['f_score', 'r_score']
        """
        found: set[str] = set()
        stack: list[Expr] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, Name):
                found.add(node.name)
            stack.extend(node.children())
        return frozenset(found)

    def __str__(self) -> str:
        from tierwise.scheme._expr import to_text  # the writer builds on this module

        return to_text(self)


@dataclass(frozen=True, slots=True)
class Number(Expr):
    """A number; negative only as an item of an ``in`` list (elsewhere ``-`` is `Neg`)."""

    value: int | float


@dataclass(frozen=True, slots=True)
class String(Expr):
    value: str


@dataclass(frozen=True, slots=True)
class Boolean(Expr):
    value: bool


@dataclass(frozen=True, slots=True)
class Null(Expr):
    pass


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A feature (a column of the per-customer table)."""

    name: str


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    op: LogicalOp
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Arithmetic(Expr):
    op: ArithmeticOp
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Contains(Expr):
    """``text contains part``: a substring test."""

    text: Expr
    part: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.text, self.part)


@dataclass(frozen=True, slots=True)
class In(Expr):
    """``operand in [values]`` (or ``not in`` when ``negated``)."""

    operand: Expr
    values: tuple[Number | String, ...]
    negated: bool = False

    def children(self) -> tuple[Expr, ...]:
        return (self.operand, *self.values)


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: FunctionName
    args: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.args


__all__ = [
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
]
