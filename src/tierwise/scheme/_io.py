"""Scheme YAML ↔ models, with errors that point at the YAML path."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tierwise.errors import SchemeError
from tierwise.scheme._model import AT, Scheme

MAX_DOCUMENT = 1_000_000
METHODS = ("score", "bands", "rfm", "rules", "mapping", "grid", "model")


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i == 2 and loc[0] == "dimensions" and part in METHODS:
            continue  # the discriminated union's branch (the method), not a YAML key
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _messages(error: ValidationError) -> list[str]:
    lines = []
    for e in error.errors():
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "string_type" and isinstance(e.get("input"), bool):
            msg = (
                "expected text, got a yes/no value: YAML reads yes, no, on, off, true and "
                'false as booleans; put the label in quotes, e.g. "yes"'
            )
        elif e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling)"
        elif e["type"] == "union_tag_invalid":
            msg = (
                "method must be one of score, bands, rfm, rules, mapping, grid, model "
                f"(got {e.get('input', {}).get('method')!r})"
                if isinstance(e.get("input"), dict)
                else msg
            )
        where = _where(tuple(e["loc"]))
        if not e["loc"] and msg.startswith(AT) and ": " in msg:
            where, msg = msg.removeprefix(AT).split(": ", 1)
        lines.append(f"Scheme error at {where}: {msg}.")
    return lines


def parse_scheme(data: Any) -> Scheme:
    """A scheme from already-parsed YAML/JSON data."""
    if not isinstance(data, dict):
        raise SchemeError(
            "Scheme error at (top level): expected a mapping with name and dimensions."
        )
    try:
        return Scheme.model_validate(data)
    except ValidationError as error:
        messages = _messages(error)
        raise SchemeError("\n".join(messages)) from None


def load_scheme(source: str | Path) -> Scheme:
    """A scheme from YAML text or a YAML file; errors name the YAML path.

    >>> load_scheme(Path("my-scheme.yaml")).dimensions["value_tier"].keys()  # doctest: +SKIP
    ['D', 'C', 'B', 'A']
    """
    if isinstance(source, Path):
        if not source.exists():
            raise SchemeError(f"Scheme file not found: {source}")
        if source.stat().st_size > MAX_DOCUMENT:
            raise SchemeError(f"Scheme file {source} is larger than {MAX_DOCUMENT:,} bytes.")
        text = source.read_text(encoding="utf-8-sig")
    else:
        text = source
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SchemeError(f"Scheme YAML cannot be read{where}: {problem}.") from None
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
