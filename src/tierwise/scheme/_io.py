"""Scheme YAML ↔ models, with errors that point at the YAML path."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from tierwise._said import Said
from tierwise.scheme._model import AT, Scheme
from tierwise.scheme._said import (
    METHODS,
    TOP_LEVEL,
    Located,
    SchemeProblems,
    at,
    pydantic_said,
)

MAX_DOCUMENT = 1_000_000


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i == 2 and loc[0] == "dimensions" and part in METHODS:
            continue  # the discriminated union's branch (the method), not a YAML key
        else:
            out += f".{part}" if out else str(part)
    return out or TOP_LEVEL


def _messages(error: ValidationError) -> list[Located]:
    lines = []
    for e in error.errors():
        detail = pydantic_said(e)
        where = _where(tuple(e["loc"]))
        if not e["loc"] and isinstance(detail, Located) and detail.path.startswith(AT):
            where, detail = detail.path.removeprefix(AT), detail.detail
        lines.append(at(where, detail, "."))
    return lines


def parse_scheme(data: Any) -> Scheme:
    """A scheme from already-parsed YAML/JSON data; `SchemeProblems` lists what is wrong."""
    if not isinstance(data, dict):
        detail = Said("expected a mapping with name and dimensions",
                      key="scheme.check.not_mapping")  # fmt: skip
        raise SchemeProblems([at(TOP_LEVEL, detail, ".")])
    try:
        return Scheme.model_validate(data)
    except ValidationError as error:
        raise SchemeProblems(list(_messages(error))) from None


def yaml_problem(error: yaml.YAMLError, *, context: bool = False) -> Said:
    """``Scheme YAML cannot be read at line L, column C: <the parser's problem>.``"""
    mark = getattr(error, "problem_mark", None)
    if mark is None and context:
        mark = getattr(error, "context_mark", None)
    problem = yaml_reason(getattr(error, "problem", None) or str(error))
    if mark is None:
        return Said(f"Scheme YAML cannot be read: {problem}.", key="scheme.check.yaml",
                    problem=problem)  # fmt: skip
    line, column = mark.line + 1, mark.column + 1
    return Said(f"Scheme YAML cannot be read at line {line}, column {column}: {problem}.",
                key="scheme.check.yaml_at", line=line, column=column, problem=problem)  # fmt: skip


#: the parser's usual problems (PyYAML's words) → catalogue keys; the rest are said as they are
_YAML_REASONS: Final[list[tuple[re.Pattern[str], str]]] = [
    (re.compile(r"mapping values are not allowed here"), "scheme.syntax.mapping_values"),
    (re.compile(r"block sequence entries are not allowed here"), "scheme.syntax.sequence_entries"),
    (re.compile(r"could not find expected ':'"), "scheme.syntax.no_colon"),
    (re.compile(r"expected (?P<wanted>.+), but found (?P<found>.+)"), "scheme.syntax.expected"),
    (re.compile(r"expected (?P<wanted>.+), but got (?P<found>.+)"), "scheme.syntax.expected_got"),
    (re.compile(r"found character (?P<found>.+) that cannot start any token"),
     "scheme.syntax.bad_character"),
    (re.compile(r"found undefined alias (?P<found>.+)"), "scheme.syntax.undefined_alias"),
    (re.compile(r"second occurrence"), "scheme.syntax.duplicate_anchor"),
    (re.compile(r"but found another document"), "scheme.syntax.another_document"),
    (re.compile(r"found unexpected end of stream"), "scheme.syntax.unexpected_end"),
    (re.compile(r"found unknown escape character (?P<found>.+)"), "scheme.syntax.escape"),
    (re.compile(r"found unhashable key"), "scheme.syntax.unhashable_key"),
    (re.compile(r"could not determine a constructor for the tag (?P<found>.+)"),
     "scheme.syntax.unknown_tag"),
    (re.compile(r"did not find expected (?P<wanted>.+)"), "scheme.syntax.not_found"),
    (re.compile(r"found unexpected (?P<found>.+)"), "scheme.syntax.unexpected"),
]  # fmt: skip


def yaml_reason(problem: str) -> Said:
    """PyYAML's problem text with its catalogue key (``scheme.syntax.other`` when not known)."""
    for pattern, key in _YAML_REASONS:
        if match := pattern.fullmatch(problem):
            return Said(problem, key=key, **match.groupdict())
    return Said(problem, key="scheme.syntax.other", problem=problem)


def load_scheme(source: str | Path) -> Scheme:
    """A scheme from YAML text or a YAML file; errors name the YAML path.

    >>> load_scheme(Path("my-scheme.yaml")).dimensions["value_tier"].keys()  # doctest: +SKIP
    ['D', 'C', 'B', 'A']
    """
    if isinstance(source, Path):
        if not source.exists():
            raise SchemeProblems([Said(f"Scheme file not found: {source}",
                                       key="scheme.check.file_not_found", file=str(source))])  # fmt: skip
        if source.stat().st_size > MAX_DOCUMENT:
            raise SchemeProblems([Said(
                f"Scheme file {source} is larger than {MAX_DOCUMENT:,} bytes.",
                key="scheme.check.file_too_large", file=str(source), limit=MAX_DOCUMENT,
            )])  # fmt: skip
        text = source.read_text(encoding="utf-8-sig")
    else:
        text = source
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SchemeProblems([yaml_problem(error)]) from None
    return parse_scheme(data)


def to_data(scheme: Scheme) -> dict[str, Any]:
    return scheme.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


def dump_scheme(scheme: Scheme) -> str:
    """YAML text that loads back to an equal scheme."""
    return yaml.safe_dump(to_data(scheme), allow_unicode=True, sort_keys=False, width=100)


def scheme_hash(scheme: Scheme) -> str:
    """sha256 of the canonical JSON form: the same standard always has the same hash."""
    canonical = json.dumps(
        scheme.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def default_scheme_text() -> str:
    return resources.files("tierwise.scheme").joinpath("default.yaml").read_text(encoding="utf-8")


def default_scheme() -> Scheme:
    """The shipped default scheme (``tierwise/scheme/default.yaml``)."""
    return load_scheme(default_scheme_text())


__all__ = [
    "default_scheme",
    "default_scheme_text",
    "dump_scheme",
    "load_scheme",
    "parse_scheme",
    "scheme_hash",
    "to_data",
]
