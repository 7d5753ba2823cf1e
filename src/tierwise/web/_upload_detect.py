"""What an upload is — kind, encoding, sheets, columns and their mapping, ambiguous dates —
and the user's changes to those choices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import polars as pl

from tierwise.access import Principal
from tierwise.errors import DataError
from tierwise.ingest import (
    KINDS,
    TABLES,
    detect_kind,
    map_columns,
)
from tierwise.ingest._readers import open_source
from tierwise.ingest.report import note_keys
from tierwise.settings import Settings
from tierwise.web._flash import said
from tierwise.web._i18n import LANGS, t
from tierwise.web._upload_files import (
    _DAY_MONTH,
    _META,
    _SAMPLE_CHARS,
    _SAMPLE_ROWS,
    _SAMPLES,
    DATE_FORMATS,
    Choices,
    ImportBusy,
    Upload,
    _read_json,
    _save,
    _state,
    _status,
    _summary,
    load,
)


def _detect(path: Path, *, kind: str | None, sheet: str | None) -> dict[str, Any]:
    """Format, encoding, sheets, header, the kind and the automatic column mapping, samples."""
    with open_source(path, sheet=sheet) as source:
        info = source.info
        frame = None
        if info.header:
            first = next(iter(source.batches(_SAMPLE_ROWS)), None)
            frame = None if first is None else first.frame
    kind_error = kind_error_said = None
    if kind is None and info.header:
        try:
            kind = detect_kind(info.header, path)
        except DataError as exc:
            kind_error = str(exc)  # the API's English; the page says it in its language
            kind_error_said = {lang: said(exc, lang) for lang in LANGS}
    auto: dict[str, str | None] = {h: None for h in info.header}
    notes = list(info.notes)
    if kind is not None and info.header:
        cmap = map_columns(info.header, kind)  # type: ignore[arg-type]
        for name, source_column in cmap.fields.items():
            auto[source_column] = name
        notes += cmap.notes
    samples = {h: _samples(frame, h) for h in info.header}
    return {
        "format": info.format,
        "encoding": info.encoding,
        "encoding_detected": info.encoding_detected,
        "delimiter": info.delimiter,
        "sheets": list(info.sheets),
        "sheet": info.sheet,
        "header": list(info.header),
        "kind": kind,
        "kind_error": kind_error,
        "kind_error_said": kind_error_said,
        "auto_mapping": auto,
        "samples": samples,
        "notes": notes,
        "note_keys": note_keys(notes),  # the notes in the reader's language: _import_detected
        "empty": not info.header,
    }


def _samples(frame: pl.DataFrame | None, column: str) -> list[str]:
    if frame is None or column not in frame.columns:
        return []
    values = frame[column].drop_nulls().head(_SAMPLES).to_list()
    return [str(v)[:_SAMPLE_CHARS] for v in values]


def _ambiguous_dates(kind: str | None, mapping: dict[str, str | None], samples: Any) -> list[str]:
    """Columns mapped to a date field whose sample values read both as day/month and month/day."""
    if kind is None:
        return []
    spec = TABLES[kind]
    dated = {f.name for f in spec.fields if f.type in ("date", "datetime")}
    found = []
    for column, target in mapping.items():
        if target not in dated:
            continue
        for value in samples.get(column, []):
            m = _DAY_MONTH.fullmatch(value)
            if m and int(m[1]) <= 12 and int(m[2]) <= 12 and m[1] != m[2]:
                found.append(column)
                break
    return found


def _effective_kind(upload: Upload) -> str | None:
    kind = upload.choices.get("kind") or upload.detected.get("kind")
    return str(kind) if kind else None


def _effective_mapping(upload: Upload) -> dict[str, str | None]:
    mapping: dict[str, str | None] = dict(upload.detected.get("auto_mapping") or {})
    for column, target in (upload.choices.get("mapping") or {}).items():
        if column in mapping:
            mapping[column] = target
    return mapping


def _missing(kind: str | None, mapping: dict[str, str | None]) -> list[str]:
    if kind is None:
        return []
    spec = TABLES[kind]
    mapped = {v for v in mapping.values() if v}
    missing = [f.name for f in spec.fields if f.required and f.name not in mapped]
    if spec.one_of and not any(set(group) <= mapped for group in spec.one_of):
        missing.append(" + ".join(spec.one_of[0]))
    return missing


_DETECTED_KEYS: Final = (
    "format", "encoding", "encoding_detected", "delimiter", "sheets", "sheet", "kind",
    "kind_error", "kind_error_said", "notes", "note_keys", "empty",
)  # fmt: skip


def view(settings: Settings, *, principal: Principal, upload_id: str) -> dict[str, Any]:
    """Everything the wizard shows: the file, the detection, the choices, the state, reports."""
    upload = load(settings, principal=principal, upload_id=upload_id)
    return _view(upload)


def _view(upload: Upload) -> dict[str, Any]:
    d = upload.detected
    kind = _effective_kind(upload)
    mapping = _effective_mapping(upload)
    auto = d.get("auto_mapping") or {}
    columns = [
        {"index": i, "header": h, "field": mapping.get(h), "auto_field": auto.get(h),
         "samples": d.get("samples", {}).get(h, [])}
        for i, h in enumerate(d.get("header") or [])
    ]  # fmt: skip
    fields = [] if kind is None else [
        {"name": f.name, "label_zh": f.label_zh, "type": f.type, "required": f.required}
        for f in TABLES[kind].fields
    ]  # fmt: skip
    choices = {
        "kind": kind,
        "sheet": upload.choices.get("sheet") or d.get("sheet"),
        "date_format": upload.choices.get("date_format"),
        "on_duplicate": upload.choices.get("on_duplicate") or "update",
        "strict": bool(upload.choices.get("strict")),
    }
    return {
        **_summary(upload),
        "has_file": upload.has_file,
        "detected": {key: d.get(key) for key in _DETECTED_KEYS},
        "choices": choices,
        "columns": columns,
        "fields": fields,
        "kinds": list(KINDS),
        "date_formats": list(DATE_FORMATS),
        "missing_fields": _missing(kind, mapping),
        "ambiguous_date_columns": _ambiguous_dates(kind, mapping, d.get("samples") or {}),
        "dry_run": _read_json(upload.folder / "dry_run.json"),
        "status": _status(upload),
    }


def choose(
    settings: Settings, *, principal: Principal, upload_id: str, choices: Choices, lang: str
) -> dict[str, Any]:
    """Record the user's choices (a new kind or sheet re-detects the mapping); the new view."""
    with _META:
        upload = load(settings, principal=principal, upload_id=upload_id)
        _apply(upload, choices, lang)
        _save(upload)
    return _view(upload)


def _apply(upload: Upload, choices: Choices, lang: str) -> None:
    if _state(upload) == "running":
        raise ImportBusy(t("import.already_running", lang))
    if not upload.has_file:
        raise DataError(t("import.file_gone", lang))
    if choices.date_format is not None and choices.date_format not in DATE_FORMATS:
        raise DataError(t("import.bad_date_format", lang, formats=", ".join(DATE_FORMATS)))
    d = upload.detected
    sheet = choices.sheet or None
    if d.get("format") != "xlsx":
        sheet = None
    elif sheet is not None and sheet != "*" and sheet not in (d.get("sheets") or []):
        raise DataError(t("import.bad_sheet", lang, sheets=", ".join(d.get("sheets") or [])))
    old_kind, old_sheet = _effective_kind(upload), upload.choices.get("sheet") or None
    new_sheet = (sheet or d.get("sheet")) != (old_sheet or d.get("sheet"))  # by the sheet read
    wanted = choices.kind  # None: as detected
    if (
        new_sheet
        or (wanted is not None and wanted != d.get("kind"))
        or (wanted is None and upload.choices.get("kind"))
    ):
        upload.detected = _detect(upload.path, kind=wanted, sheet=sheet)
    kind = wanted or upload.detected.get("kind")
    auto: dict[str, str | None] = upload.detected.get("auto_mapping") or {}
    header = list(upload.detected.get("header") or [])
    mapping = dict(auto)
    if kind == old_kind and not new_sheet:  # earlier choices still mean the same
        mapping.update({h: v for h, v in (upload.choices.get("mapping") or {}).items()
                        if h in mapping})  # fmt: skip
    names = TABLES[kind].names if kind else ()
    for column, target in choices.mapping.items():
        if column not in mapping:
            raise DataError(t("import.bad_column", lang, column=column, columns=", ".join(header)))
        target = target or None
        if target is not None and target not in names:
            raise DataError(t("import.bad_field", lang, field=target, kind=kind or "—",
                              fields=", ".join(names)))  # fmt: skip
        mapping[column] = target
    used: dict[str, str] = {}
    for column, target in mapping.items():
        if target is None:
            continue
        if target in used:
            raise DataError(t("import.field_twice", lang, field=target, first=used[target],
                              second=column))  # fmt: skip
        used[target] = column
    upload.choices = {
        "kind": choices.kind or None,
        "sheet": sheet,
        "date_format": choices.date_format or None,
        "on_duplicate": choices.on_duplicate,
        "strict": choices.strict,
        # only the columns that differ from the detection, so an untouched wizard imports
        # exactly like `tierwise import` does
        "mapping": {h: v for h, v in mapping.items() if auto.get(h) != v},
    }
