"""Scheme problems at their YAML line: the scheme editor shows each error where it is.

`SchemeError` and `check_scheme` name the YAML *path* of a problem
(``dimensions.value_tier.cut.points[2]``); `line_of` finds that path's line in the text through
the node marks of ``yaml.compose``. A path that is not in the text (a required key left out)
points at its nearest ancestor that is. YAML syntax errors carry their line already.

Each problem also names its message in the catalogue (``key``, ``params``; zh and en in
``tierwise/web/messages_scheme_checks.yaml``): `Problem.said` is what the editor and the CLI
say in the reader's language; ``message`` stays the English text.

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

from tierwise._said import Said
from tierwise.errors import SchemeError
from tierwise.scheme._io import MAX_DOCUMENT, load_scheme, scheme_hash, yaml_problem
from tierwise.scheme._model import Scheme
from tierwise.scheme._said import TOP_LEVEL, Located
from tierwise.scheme._validate import check_scheme

#: a scheme is a few hundred values; far more means aliases that multiply (a "billion laughs")
MAX_NODES: Final = 200_000

_MESSAGE = re.compile(r"^Scheme error at (?P<path>.+?): (?P<text>.*)$", re.DOTALL)
_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
# a model check may name the item inside its path: "points must increase (... at points[2])"
_INNER = re.compile(r"\bat ([a-z_]+(?:\[\d+\])+)\)")
_NAMES_ITEM: Final = frozenset({"scheme.check.must_increase", "scheme.check.other"})


@dataclass(frozen=True)
class Problem:
    """One problem of a scheme document: where (path and 1-based line) and what — ``message``
    in English, ``key`` and ``params`` its entry in the message catalogue."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    key: str = "scheme.check.other"
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, said: Said, path: str | None = None, line: int | None = None,
           column: int | None = None, *, stop: str = "") -> Problem:  # fmt: skip
        """The problem ``said`` says (its English text, then ``stop``) at path and line."""
        return cls(f"{said}{stop}", path, line, column, said.key, dict(said.params))

    @property
    def said(self) -> Said:
        """The message with its key and params, for `tierwise._said.say`."""
        return Said(self.message, key=self.key, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "key": self.key,
            "params": self.said.to_dict()["params"],
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
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return Problem.of(yaml_problem(error, context=True), None, line, column)


def _problem(message: str, root: yaml.Node) -> Problem:
    if isinstance(message, Located):
        path, text = message.path, str(message.detail)
        said: Said = message.detail
        stop = str(message).removeprefix(f"Scheme error at {path}: {text}")
    else:
        match = _MESSAGE.match(message)
        if match is None:
            said = message if isinstance(message, Said) else _other(message)
            return Problem.of(said, None, root.start_mark.line + 1, None)
        path, text, said, stop = match["path"], match["text"], _other(match["text"]), ""
    inner = _INNER.search(text) if said.key in _NAMES_ITEM else None
    if inner and path != TOP_LEVEL:
        path = f"{path}.{inner[1]}"
    line, column = locate(root, path)
    return Problem.of(said, path, line, column, stop=stop)


def _other(text: str) -> Said:
    """A message no check named (none should be: ``tests/scheme/test_said.py``)."""
    return Said(text, key="scheme.check.other", detail=text)


def check_document(text: str) -> DocumentCheck:
    """Load and check a scheme document; every problem with its YAML path and line.

    The checks are those of ``tierwise scheme validate`` (structure, labels, rules and the
    features they use), plus limits on size and alias expansion.
    """
    if len(text) > MAX_DOCUMENT:
        return DocumentCheck(None, [Problem.of(Said(
            f"The document is larger than {MAX_DOCUMENT:,} characters.",
            key="scheme.check.too_large", limit=MAX_DOCUMENT,
        ))])  # fmt: skip
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        return DocumentCheck(None, [_syntax_problem(error)])
    if root is None:
        return DocumentCheck(None, [Problem.of(Said(
            "The document is empty: write a scheme (name, dimensions).", key="scheme.check.empty"
        ), None, 1)])  # fmt: skip
    size = _expanded_size(root)
    if size is None or size > MAX_NODES:
        if size is None:
            said = Said("The document refers to itself through YAML aliases (*name); write it out.",
                        key="scheme.check.alias_loop")  # fmt: skip
        else:
            said = Said(
                f"The document expands to more than {MAX_NODES:,} values through YAML aliases "
                "(*name); write it out.", key="scheme.check.alias_size", limit=MAX_NODES,
            )  # fmt: skip
        return DocumentCheck(None, [Problem.of(said)])
    try:
        scheme = load_scheme(text)
    except SchemeError as error:
        lines = getattr(error, "problems", None) or str(error).splitlines()
        return DocumentCheck(None, _sorted([_problem(m, root) for m in lines]))
    return DocumentCheck(scheme, _sorted([_problem(m, root) for m in check_scheme(scheme)]))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


__all__ = ["DocumentCheck", "Problem", "check_document", "line_of", "locate", "split_path"]
