"""Recognise what a file is and which column holds which canonical field.

Headers are matched case- and full-width-insensitively against the English and Chinese aliases
of ``_schema``; a user mapping (YAML) wins over the aliases.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tierwise._said import Said
from tierwise.errors import DataError
from tierwise.ingest._schema import KINDS, TABLES, Kind, TableSpec

_SEPARATORS = re.compile(r"[\s_\-./:：、]+")
_BRACKETS = re.compile(r"[(\[（【].*?[)\]）】]")


def normalise_header(text: str) -> str:
    """``" Order_ID "`` → ``"order id"``; ``"ＣＵＳＴＯＭＥＲ＿ＩＤ"`` → ``"customer id"``."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "").replace("\u200b", "")
    text = text.strip().strip("*").strip().lower()
    return _SEPARATORS.sub(" ", text).strip()


def _without_brackets(text: str) -> str:
    """``"订单金额(元)"`` → ``"订单金额"``: units and notes in brackets do not name the field."""
    return normalise_header(_BRACKETS.sub(" ", text))


@dataclass(frozen=True)
class UserMapping:
    """A ``--mapping`` YAML file: ``columns: {source header: canonical field or null}``."""

    columns: dict[str, str | None] = field(default_factory=dict)
    kind: Kind | None = None
    date_format: str | None = None

    @classmethod
    def load(cls, path: Path) -> UserMapping:
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"Cannot read mapping file {path}: {exc}", key="import.mapping_unreadable",
                            path=str(path), reason=str(exc)) from None  # fmt: skip
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise DataError(f"Mapping file {path} must be a YAML mapping with a 'columns:' key.",
                            key="import.mapping_not_mapping", path=str(path))  # fmt: skip
        unknown = set(data) - {"columns", "kind", "date_format"}
        if unknown:
            raise DataError(
                f"Mapping file {path}: unknown key(s) {sorted(unknown)}; "
                "allowed: columns, kind, date_format.",
                key="import.mapping_unknown_keys",
                path=str(path),
                keys=str(sorted(unknown)),
            )
        kind = data.get("kind")
        if kind is not None and kind not in KINDS:
            raise DataError(
                f"Mapping file {path}: kind {kind!r} is not one of {', '.join(KINDS)}.",
                key="import.mapping_kind",
                path=str(path),
                kind=repr(kind),
                kinds=", ".join(KINDS),
            )
        columns = data.get("columns") or {}
        if not isinstance(columns, dict):
            raise DataError(f"Mapping file {path}: 'columns' must map source headers to fields.",
                            key="import.mapping_columns", path=str(path))  # fmt: skip
        clean: dict[str, str | None] = {}
        for source, target in columns.items():
            if target is not None and not isinstance(target, str):
                raise DataError(
                    f"Mapping file {path}: columns.{source} must be a field name or null, "
                    f"got {target!r}.",
                    key="import.mapping_target",
                    path=str(path),
                    column=str(source),
                    value=repr(target),
                )
            clean[str(source)] = target
        date_format = data.get("date_format")
        return cls(columns=clean, kind=kind, date_format=date_format)


@dataclass(frozen=True)
class ColumnMap:
    kind: Kind
    fields: dict[str, str]  # canonical field -> source column
    unmapped: list[str]  # source columns that map to nothing
    notes: list[str]

    def source(self, field_name: str) -> str | None:
        return self.fields.get(field_name)


def _alias_index(spec: TableSpec) -> dict[str, tuple[str, int]]:
    """normalised alias -> (field, rank); the first field claiming an alias keeps it."""
    index: dict[str, tuple[str, int]] = {}
    for f in spec.fields:
        for rank, alias in enumerate(f.aliases):
            index.setdefault(normalise_header(alias), (f.name, rank))
    return index


_INDEXES = {kind: _alias_index(spec) for kind, spec in TABLES.items()}


def _match(header: str, kind: Kind) -> tuple[str, int] | None:
    index = _INDEXES[kind]
    hit = index.get(normalise_header(header))
    if hit is None:
        hit = index.get(_without_brackets(header))
    return hit


def map_columns(header: list[str], kind: Kind, user: UserMapping | None = None) -> ColumnMap:
    """Map source headers to the canonical fields of ``kind``."""
    spec = TABLES[kind]
    user_cols = {normalise_header(k): v for k, v in (user.columns if user else {}).items()}
    chosen: dict[str, tuple[str, int]] = {}  # field -> (source, rank); rank -1 = user mapping
    unmapped: list[str] = []
    notes: list[str] = []
    for source in header:
        norm = normalise_header(source)
        if norm in user_cols:
            target = user_cols[norm]
            if target is None:
                unmapped.append(source)
                continue
            if target not in spec.names:
                raise DataError(
                    f'Mapping: column "{source}" is mapped to "{target}", which is not a field of '
                    f"{kind}. Fields: {', '.join(spec.names)}.",
                    key="import.mapping_field",
                    column=source,
                    field=target,
                    kind=kind,
                    fields=", ".join(spec.names),
                )
            hit: tuple[str, int] | None = (target, -1)
        else:
            hit = _match(source, kind)
        if hit is None:
            unmapped.append(source)
            continue
        name, rank = hit
        previous = chosen.get(name)
        if previous is None or rank < previous[1]:
            if previous is not None:
                unmapped.append(previous[0])
                notes.append(_both(previous[0], source, name, source))
            chosen[name] = (source, rank)
        else:
            unmapped.append(source)
            notes.append(_both(previous[0], source, name, previous[0]))
    if user:
        known = {normalise_header(h) for h in header}
        for source in user.columns:
            if normalise_header(source) not in known:
                notes.append(Said(f'mapping names column "{source}", which is not in the file',
                                  key="import.note.mapping_unknown_column", column=source))  # fmt: skip
    return ColumnMap(kind, {k: v[0] for k, v in chosen.items()}, unmapped, notes)


def _both(first: str, second: str, field_name: str, used: str) -> Said:
    """A note: two columns map to one field, and which one is used."""
    return Said(f'columns "{first}" and "{second}" both mean {field_name}; using "{used}"',
                key="import.note.same_field", first=first, second=second, field=field_name,
                used=used)  # fmt: skip


def _score(header: list[str], kind: Kind) -> float:
    spec = TABLES[kind]
    cmap = map_columns(header, kind)
    mapped = set(cmap.fields)
    required = {f.name for f in spec.fields if f.required}
    if not required <= mapped:
        return 0.0
    if spec.one_of and not any(set(group) <= mapped for group in spec.one_of):
        return 0.0
    # fields that only this kind has count double: a file with order ids is an orders file
    distinctive = sum(
        2 if all(name not in TABLES[k].names for k in KINDS if k != kind) else 1 for name in mapped
    )
    return distinctive / (len(header) + 1)


def detect_kind(header: list[str], path: Path | None = None) -> Kind:
    """The kind of a file from its headers (and its name as a tie-breaker)."""
    scores = {kind: _score(header, kind) for kind in KINDS}
    name = normalise_header(path.stem) if path else ""
    for kind in KINDS:
        if scores[kind] > 0 and any(h in name for h in TABLES[kind].file_hints):
            scores[kind] += 0.5
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, best_score = ranked[0]
    if best_score == 0:
        raise DataError(
            f"Cannot tell what kind of data this file holds (columns: {', '.join(header[:12])}). "
            f"Pass --kind ({'/'.join(KINDS)}) and, for unusual headers, --mapping FILE.",
            key="import.kind_unknown",
            columns=", ".join(header[:12]),
            kinds="/".join(KINDS),
        )
    if ranked[1][1] == best_score:
        raise DataError(f"The columns fit both {best} and {ranked[1][0]}. Pass --kind to choose.",
                        key="import.kind_ambiguous", first=best, second=ranked[1][0])  # fmt: skip
    return best


__all__ = ["ColumnMap", "UserMapping", "detect_kind", "map_columns", "normalise_header"]
