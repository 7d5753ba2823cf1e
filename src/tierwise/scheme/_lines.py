"""Scheme problems at their YAML line: the scheme editor shows each error where it is.

`SchemeError` and `check_scheme` name the YAML *path* of a problem
(``dimensions.value_tier.cut.points[2]``); `line_of` finds that path's line in the text through
the node marks of ``yaml.compose``. A path that is not in the text (a required key left out)
points at its nearest ancestor that is. YAML syntax errors carry their line already.

Example::

    >>> check = check_document("name: x\\ndimensions: {}\\n")
    >>> [(p.line, p.path) for p in check.problems]
    [(2, 'dimensions')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from tierwise.errors import SchemeError
from tierwise.scheme._io import MAX_DOCUMENT, load_scheme, scheme_hash
from tierwise.scheme._model import Scheme
from tierwise.scheme._validate import check_scheme

#: a scheme is a few hundred values; far more means aliases that multiply (a "billion laughs")
MAX_NODES: Final = 200_000
TOP_LEVEL: Final = "(top level)"

_MESSAGE = re.compile(r"^Scheme error at (?P<path>.+?): (?P<text>.*)$", re.DOTALL)
_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
# a model check may name the item inside its path: "points must increase (... at points[2])"
_INNER = re.compile(r"\bat ([a-z_]+(?:\[\d+\])+)\)")


@dataclass(frozen=True)
class Problem:
    """One problem of a scheme document: where (path and 1-based line) and what."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class DocumentCheck:
    """The result of `check_document`: the scheme (None if it does not load) and its problems."""

    scheme: Scheme | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scheme is not None and not self.problems

    @property
    def hash(self) -> str | None:
        return None if self.scheme is None else scheme_hash(self.scheme)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": [p.to_dict() for p in self.problems],
            "name": None if self.scheme is None else self.scheme.name,
            "dimensions": [] if self.scheme is None else list(self.scheme.dimensions),
            "hash": self.hash,
        }


def split_path(path: str) -> list[str | int]:
    """``"dimensions.a.cut.points[2]"`` → ``["dimensions", "a", "cut", "points", 2]``."""
    if path == TOP_LEVEL:
        return []
    return [int(index) if index else key for index, key in _PART.findall(path)]


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node to point at, the node to descend into) for one path part, or None."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def locate(root: yaml.Node, path: str) -> tuple[int, int]:
    """The 1-based (line, column) of ``path`` under ``root``, or of its nearest ancestor."""
    mark = root.start_mark
    node = root
    for part in split_path(path):
        found = _child(node, part)
        if found is None:
            break
        mark, node = found[0].start_mark, found[1]
    return mark.line + 1, mark.column + 1


def line_of(text: str, path: str) -> int | None:
    """The 1-based line of YAML path ``path`` in ``text`` (None if the text is not YAML).

    >>> line_of("name: x\\ndimensions:\\n  a:\\n    labels: []\\n", "dimensions.a.labels")
    4
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    return None if root is None else locate(root, path)[0]


def _expanded_size(root: yaml.Node) -> int | None:
    """How many nodes the document has with every alias expanded; None if an alias is
    recursive. Memoised per node, so a "billion laughs" is counted without being built."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: yaml.Node) -> int | None:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            return None
        on_path.add(key)
        total = 1
        children: list[Any] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        for child in children:
            n = size(child)
            if n is None:
                return None
            total += n
            if total > MAX_NODES:
                break
        on_path.discard(key)
        sizes[key] = total
        return total

    return size(root)


def _syntax_problem(error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    where = f" at line {line}, column {column}" if line else ""
    return Problem(f"Scheme YAML cannot be read{where}: {problem}.", None, line, column)


def _problem(message: str, root: yaml.Node) -> Problem:
    match = _MESSAGE.match(message)
    if match is None:
        return Problem(message, None, root.start_mark.line + 1, None)
    path = match["path"]
    inner = _INNER.search(match["text"])
    if inner and path != TOP_LEVEL:
        path = f"{path}.{inner[1]}"
    line, column = locate(root, path)
    return Problem(match["text"], path, line, column)


def check_document(text: str) -> DocumentCheck:
    """Load and check a scheme document; every problem with its YAML path and line.

    The checks are those of ``tierwise scheme validate`` (structure, labels, rules and the
    features they use), plus limits on size and alias expansion.
    """
    if len(text) > MAX_DOCUMENT:
        return DocumentCheck(
            None, [Problem(f"The document is larger than {MAX_DOCUMENT:,} characters.")]
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        return DocumentCheck(None, [_syntax_problem(error)])
    if root is None:
        return DocumentCheck(
            None, [Problem("The document is empty: write a scheme (name, dimensions).", None, 1)]
        )
    size = _expanded_size(root)
    if size is None or size > MAX_NODES:
        why = "refers to itself" if size is None else f"expands to more than {MAX_NODES:,} values"
        return DocumentCheck(
            None, [Problem(f"The document {why} through YAML aliases (*name); write it out.")]
        )
    try:
        scheme = load_scheme(text)
    except SchemeError as error:
        return DocumentCheck(None, _sorted([_problem(m, root) for m in str(error).splitlines()]))
    return DocumentCheck(scheme, _sorted([_problem(m, root) for m in check_scheme(scheme)]))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


__all__ = ["DocumentCheck", "Problem", "check_document", "line_of", "locate", "split_path"]
