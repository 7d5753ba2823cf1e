"""The import wizard's library: private upload folders, detection, dry runs and background runs.

An upload lives in ``DATA_DIR/uploads/<random id>/`` (mode 0700): the file under its sanitised
name (the client's name is never trusted: no path parts, a known suffix), ``meta.json`` (owner,
state, detection, the user's choices) and the reports of the last dry run and of the real run.
Only the uploading user can see an upload; anyone else is told it does not exist. The file is
deleted when its import ends, and the whole folder 24 hours after the upload.

Every door (page or API) calls one function here, so pages and their JSON twins agree::

    upload = receive(settings, principal=admin, filename="orders.csv", source=fh, lang="en")
    report = dry_run(settings, engine, principal=admin, upload_id=upload.id,
                     choices=Choices(date_format="%d/%m/%Y"), lang="en")
    start_run(settings, engine, jobs, principal=admin, upload_id=upload.id, choices=None, lang="en")
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final, Literal

import polars as pl
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from tierwise.access import Principal
from tierwise.act import write_table
from tierwise.errors import DataError, NotFoundError, TierwiseError
from tierwise.ingest import (
    KINDS,
    TABLES,
    ImportOptions,
    ImportReport,
    Kind,
    UserMapping,
    detect_kind,
    import_file,
    map_columns,
)
from tierwise.ingest._readers import open_source
from tierwise.settings import Settings
from tierwise.store import audit
from tierwise.store import jobs as job_rows
from tierwise.store.tables import import_errors
from tierwise.store.tables import jobs as jobs_table
from tierwise.web._i18n import t

SUFFIXES: Final = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet")
TTL: Final = timedelta(hours=24)
MAX_PENDING: Final = 50  # uploads one user may keep at a time
CHUNK: Final = 1 << 20
DATE_FORMATS: Final = (
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
_ID: Final = re.compile(r"[A-Za-z0-9_-]{20,64}")
_UNSAFE_CHARS: Final = re.compile(r"[^\w\-. ()（）]+")
# 03/04/2024, 3-4-24, 03.04.2024 (optionally followed by a time): day and month both <= 12
_DAY_MONTH: Final = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:\D.*)?")
_SAMPLE_ROWS: Final = 200
_SAMPLES: Final = 3
_SAMPLE_CHARS: Final = 60

State = Literal["uploaded", "running", "done", "failed", "interrupted"]
Problem = dict[str, Any]


class UploadTooLarge(DataError):
    """The upload is larger than ``settings.max_upload_mb``."""


class ImportBusy(TierwiseError):
    """An import is already running (one at a time: SQLite has a single writer)."""


class Choices(BaseModel):
    """What the user chose in the wizard; every field is optional and defaults to the detection.

    ``mapping`` maps a column header of the file to a canonical field of the kind, or to null to
    ignore the column; columns not named keep their detected field.
    """

    model_config = ConfigDict(extra="forbid")
    kind: Kind | None = Field(None, description="customers, orders, ...; detected if omitted")
    sheet: str | None = Field(None, max_length=200, description='Excel sheet name, or "*"')
    date_format: str | None = Field(
        None, description=f"for ambiguous day/month dates, one of {', '.join(DATE_FORMATS)}"
    )
    on_duplicate: Literal["update", "skip", "error"] = "update"
    strict: bool = Field(False, description="reject rows that reference unknown customers")
    mapping: dict[str, str | None] = Field(default_factory=dict, max_length=2000)


@dataclass
class Upload:
    id: str
    user_id: int
    name: str
    size: int
    created_at: datetime
    folder: Path
    state: State = "uploaded"
    detected: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    pid: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def path(self) -> Path:
        return self.folder / self.name

    @property
    def has_file(self) -> bool:
        return self.path.is_file()

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "size": self.size,
            "created_at": self.created_at.isoformat(),
            "state": self.state,
            "detected": self.detected,
            "choices": self.choices,
            "error": self.error,
            "pid": self.pid,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_meta(cls, folder: Path, data: dict[str, Any]) -> Upload:
        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        created = when(data["created_at"])
        assert created is not None
        return cls(
            id=str(data["id"]), user_id=int(data["user_id"]), name=str(data["name"]),
            size=int(data["size"]), created_at=created, folder=folder, state=data["state"],
            detected=data.get("detected") or {}, choices=data.get("choices") or {},
            error=data.get("error"), pid=data.get("pid"), started_at=when(data.get("started_at")),
            finished_at=when(data.get("finished_at")),
        )  # fmt: skip


@dataclass
class _Progress:
    upload_id: str
    rows_done: int = 0
    rows_estimate: int | None = None
    started: float = field(default_factory=time.monotonic)


# live progress of the imports this process runs, and the one running import per data directory
_LOCK = threading.Lock()
# load-change-save of an upload's meta.json, so that two requests cannot undo each other
_META = threading.RLock()
_PROGRESS: dict[str, _Progress] = {}
_RUNNING: dict[str, str] = {}


def _now() -> datetime:
    return datetime.now(UTC)


def uploads_root(settings: Settings) -> Path:
    root = settings.data_dir / "uploads"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _write_json(path: Path, data: Any) -> None:
    """Atomically: a poll reading the file meanwhile sees the old or the new content."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, default=str)
    tmp.replace(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _save(upload: Upload) -> None:
    _write_json(upload.folder / "meta.json", upload.meta())


def safe_name(raw: str | None, *, lang: str) -> str:
    """The client's file name made harmless: no directories, no control or reserved characters,
    no leading dot, a supported suffix (lower-cased) and at most 80 characters before it.

    >>> safe_name("../../etc/客户 名单.CSV", lang="en")
    '客户 名单.csv'
    """
    name = unicodedata.normalize("NFKC", raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    stem, dot, suffix = name.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or suffix not in SUFFIXES:
        raise DataError(t("import.bad_type", lang, types=" ".join(SUFFIXES)))
    stem = _UNSAFE_CHARS.sub("_", stem).strip(" ._")[:80].strip(" ._") or "upload"
    return stem + suffix


def purge_expired(settings: Settings, *, now: datetime | None = None) -> int:
    """Delete the upload folders older than 24 hours (except a running import's); the count."""
    now = now or _now()
    removed = 0
    for folder in uploads_root(settings).iterdir():
        if not folder.is_dir():
            continue
        data = _read_json(folder / "meta.json")
        try:
            created = datetime.fromisoformat(data["created_at"]) if data else None
        except (KeyError, TypeError, ValueError):
            created = None
        if created is None:  # a half-written upload: judge by the folder's age
            created = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
        running = bool(data) and data.get("state") == "running" and data["id"] in _PROGRESS
        if now - created > TTL and not running:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


_SWEPT: dict[str, float] = {}  # data directory -> when its uploads were last swept


def _sweep_now_and_then(settings: Settings) -> None:
    """Purge expired uploads at most once a minute, so that old files go even if nobody opens
    the import page (every door into an upload passes here)."""
    key, now = str(settings.data_dir.resolve()), time.monotonic()
    with _LOCK:
        due = now - _SWEPT.get(key, -1e9) > 60
        if due:
            _SWEPT[key] = now
    if due:
        purge_expired(settings)


def _folder(settings: Settings, upload_id: str) -> Path | None:
    if not _ID.fullmatch(upload_id):
        return None
    folder = uploads_root(settings) / upload_id
    return folder if folder.is_dir() else None


def load(settings: Settings, *, principal: Principal, upload_id: str) -> Upload:
    """The caller's upload ``upload_id``; another user's, an expired or a missing one is
    `NotFoundError` alike (an id must not reveal that it exists)."""
    principal.require("import")
    _sweep_now_and_then(settings)
    folder = _folder(settings, upload_id)
    data = _read_json(folder / "meta.json") if folder else None
    if folder is None or not data or data.get("user_id") != principal.user_id:
        raise NotFoundError(f"Upload {upload_id[:64]!r} does not exist.")
    upload = Upload.from_meta(folder, data)
    if _now() - upload.created_at > TTL and upload.id not in _PROGRESS:
        shutil.rmtree(folder, ignore_errors=True)
        raise NotFoundError(f"Upload {upload_id[:64]!r} does not exist.")
    return upload


def list_uploads(settings: Settings, *, principal: Principal) -> list[dict[str, Any]]:
    """The caller's uploads of the last 24 hours, newest first."""
    principal.require("import")
    purge_expired(settings)
    found: list[Upload] = []
    for folder in uploads_root(settings).iterdir():
        data = _read_json(folder / "meta.json") if folder.is_dir() else None
        if data and data.get("user_id") == principal.user_id:
            found.append(Upload.from_meta(folder, data))
    found.sort(key=lambda u: u.created_at, reverse=True)
    return [_summary(u) for u in found]


def _summary(upload: Upload) -> dict[str, Any]:
    return {
        "upload_id": upload.id,
        "name": upload.name,
        "size": upload.size,
        "created_at": upload.created_at.isoformat(),
        "state": _state(upload),
        "kind": upload.choices.get("kind") or upload.detected.get("kind"),
    }


def receive(
    settings: Settings, *, principal: Principal, filename: str | None, source: IO[bytes], lang: str
) -> dict[str, Any]:
    """Store an uploaded file in a new private folder, counting its bytes against the limit,
    and detect what it holds; the upload's view. Unreadable files are refused, nothing kept."""
    principal.require("import")
    name = safe_name(filename, lang=lang)
    purge_expired(settings)
    if len(list_uploads(settings, principal=principal)) >= MAX_PENDING:
        raise DataError(t("import.too_many", lang, n=MAX_PENDING))
    upload_id = secrets.token_urlsafe(24)
    folder = uploads_root(settings) / upload_id
    folder.mkdir(mode=0o700)
    limit = settings.max_upload_mb * 1024 * 1024
    try:
        size = 0
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(too_large_message(settings, lang))
                out.write(chunk)
        upload = Upload(
            id=upload_id, user_id=principal.user_id, name=name, size=size,
            created_at=_now(), folder=folder,
        )  # fmt: skip
        upload.detected = _detect(upload.path, kind=None, sheet=None)
        _save(upload)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _view(upload)


def too_large_message(settings: Settings, lang: str) -> str:
    return t("import.too_large", lang, mb=settings.max_upload_mb)


def _detect(path: Path, *, kind: str | None, sheet: str | None) -> dict[str, Any]:
    """Format, encoding, sheets, header, the kind and the automatic column mapping, samples."""
    with open_source(path, sheet=sheet) as source:
        info = source.info
        frame = None
        if info.header:
            first = next(iter(source.batches(_SAMPLE_ROWS)), None)
            frame = None if first is None else first.frame
    kind_error = None
    if kind is None and info.header:
        try:
            kind = detect_kind(info.header, path)
        except DataError as exc:
            kind_error = str(exc)
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
        "auto_mapping": auto,
        "samples": samples,
        "notes": notes,
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
    "kind_error", "notes", "empty",
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


def _options(settings: Settings, upload: Upload, *, dry_run: bool, lang: str) -> ImportOptions:
    kind = _effective_kind(upload)
    if kind is None and not upload.detected.get("empty"):  # an empty file needs no kind
        raise DataError(t("import.choose_kind", lang, kinds=", ".join(KINDS)))
    c = upload.choices
    mapping = None
    if c.get("mapping"):
        mapping = UserMapping(columns=_effective_mapping(upload))
    return ImportOptions(
        kind=kind if c.get("kind") else None,  # type: ignore[arg-type]
        mapping=mapping, date_format=c.get("date_format"),
        on_duplicate=c.get("on_duplicate") or "update", strict=bool(c.get("strict")),
        dry_run=dry_run, sheet=c.get("sheet"), batch_size=settings.import_batch_size, lang=lang,
    )  # fmt: skip


def public_report(report: ImportReport, upload: Upload) -> dict[str, Any]:
    """The report as JSON, naming the file as the user named it (not the server's path)."""
    data = audit.jsonable(report.to_dict())
    assert isinstance(data, dict)
    data["file"] = upload.name
    return data


def dry_run(
    settings: Settings, engine: sa.Engine, *, principal: Principal, upload_id: str,
    choices: Choices | None, lang: str,
) -> dict[str, Any]:  # fmt: skip
    """Validate the whole file with the chosen options and write nothing (invariant I1)."""
    with _META:
        upload = load(settings, principal=principal, upload_id=upload_id)
        if choices is not None:
            _apply(upload, choices, lang)
            _save(upload)
    _refuse_if_busy(settings, upload, lang)
    if not upload.has_file:
        raise DataError(t("import.file_gone", lang))
    options = _options(settings, upload, dry_run=True, lang=lang)
    report = public_report(import_file(upload.path, engine=engine, options=options,
                                       actor=principal.username), upload)  # fmt: skip
    _write_json(upload.folder / "dry_run.json", report)
    return report


def _refuse_if_busy(settings: Settings, upload: Upload, lang: str) -> None:
    with _LOCK:
        running = _RUNNING.get(str(settings.data_dir.resolve()))
    if running is not None:
        key = "import.already_running" if running == upload.id else "import.busy"
        raise ImportBusy(t(key, lang))


Submit = Callable[..., Any]


def start_run(
    settings: Settings, engine: sa.Engine, submit: Submit, *, principal: Principal,
    upload_id: str, choices: Choices | None, lang: str,
) -> dict[str, Any]:  # fmt: skip
    """Start the real import in the background (``submit`` is the app's job pool); the status.

    One import runs at a time per data directory (`ImportBusy` otherwise). The library audits
    the import and records it in the jobs table; a killed run resumes when started again.
    """
    key = str(settings.data_dir.resolve())
    with _META:
        upload = load(settings, principal=principal, upload_id=upload_id)
        if upload.state == "done" or not upload.has_file:
            raise DataError(t("import.file_gone", lang))
        if choices is not None:
            _apply(upload, choices, lang)
        options = _options(settings, upload, dry_run=False, lang=lang)
        with _LOCK:
            running = _RUNNING.get(key)
            if running is not None or _state(upload) == "running":
                same = running in (None, upload.id)
                raise ImportBusy(t("import.already_running" if same else "import.busy", lang))
            _RUNNING[key] = upload.id
            progress = _Progress(upload.id)
            _PROGRESS[upload.id] = progress
        upload.state, upload.error, upload.pid = "running", None, os.getpid()
        upload.started_at, upload.finished_at = _now(), None
        _save(upload)
    try:
        submit(_work, settings, engine, upload, options, principal.username, progress, key)
    except BaseException:
        with _META:
            _release(key, upload.id)
            upload.state = "uploaded"
            _save(upload)
        raise
    return _status(upload)


def _estimate_rows(upload: Upload) -> int | None:
    """Data rows, roughly, for the progress bar: lines of a text file, rows of a Parquet file."""
    fmt = upload.detected.get("format")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetFile(upload.path) as pf:
                return int(pf.metadata.num_rows)
        if fmt == "csv":
            newline = b"\x00\n" if str(upload.detected.get("encoding", "")).startswith(
                "utf-16"
            ) else b"\n"  # fmt: skip
            lines = 0
            with upload.path.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    lines += chunk.count(newline)
            return max(lines - 1, 0) or None
    except OSError:
        return None
    return None


def _work(
    settings: Settings, engine: sa.Engine, upload: Upload, options: ImportOptions, actor: str,
    progress: _Progress, key: str,
) -> None:  # fmt: skip
    def step(done: int, _total: int | None) -> None:
        progress.rows_done = done

    progress.rows_estimate = _estimate_rows(upload)
    try:
        report = import_file(upload.path, engine=engine, options=options, actor=actor,
                             progress=step)  # fmt: skip
        _write_json(upload.folder / "report.json", public_report(report, upload))
        upload.state = "done"
        upload.path.unlink(missing_ok=True)  # the data is in the store now
    except Exception as exc:  # the page shows why; committed batches resume on the next run
        upload.state, upload.error = "failed", str(exc) or type(exc).__name__
        _fail_job(engine, upload, upload.error)
    finally:
        with _META:
            upload.finished_at = _now()
            _save(upload)
            _release(key, upload.id)


def _release(key: str, upload_id: str) -> None:
    with _LOCK:
        _RUNNING.pop(key, None)
        _PROGRESS.pop(upload_id, None)


def _fail_job(engine: sa.Engine, upload: Upload, error: str) -> None:
    """Mark this file's running import job failed: its process is alive, so nothing else will."""
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(jobs_table.c.id, jobs_table.c.params).where(
                    jobs_table.c.kind == "import", jobs_table.c.state == "running"
                )
            ).mappings()
            for row in list(rows):
                params: Any = row["params"]
                data = json.loads(params) if isinstance(params, str) else params
                if isinstance(data, dict) and data.get("file") == str(upload.path):
                    job_rows.finish_job(
                        conn, job_id=int(row["id"]), state="failed", error=error[:2000]
                    )
    except Exception:  # best effort: the job is then found stale at the next start
        return


def _state(upload: Upload) -> State:
    if upload.state != "running":
        return upload.state
    if upload.id in _PROGRESS:
        return "running"
    if upload.pid is not None and upload.pid != os.getpid() and job_rows.pid_alive(upload.pid):
        return "running"  # another worker process runs it
    return "interrupted"


def _status(upload: Upload) -> dict[str, Any]:
    state = _state(upload)
    live = _PROGRESS.get(upload.id)
    report = _read_json(upload.folder / "report.json") if state == "done" else None
    seconds = None
    if live is not None:
        seconds = round(time.monotonic() - live.started, 1)
    elif upload.started_at and upload.finished_at:
        seconds = round((upload.finished_at - upload.started_at).total_seconds(), 1)
    done = live.rows_done if live else (report or {}).get("rows_in", 0)
    estimate = live.rows_estimate if live else None
    percent = None
    if estimate:
        percent = min(99, int(100 * done / estimate)) if state == "running" else 100
    return {
        "upload_id": upload.id,
        "state": state,
        "rows_done": done,
        "rows_estimate": estimate,
        "percent": percent,
        "seconds": seconds,
        "error": upload.error,
        "report": report,
    }


def status(settings: Settings, *, principal: Principal, upload_id: str) -> dict[str, Any]:
    """The state of the upload's import: progress while it runs, then the final report."""
    return _status(load(settings, principal=principal, upload_id=upload_id))


def problems(
    settings: Settings, engine: sa.Engine, *, principal: Principal, upload_id: str,
    page: int = 1, per_page: int = 50,
) -> dict[str, Any]:  # fmt: skip
    """One page of the rejected rows and dropped values: of the real import (all of them, from
    the store) once it ran, else of the last dry run (the report lists up to 1000)."""
    upload = load(settings, principal=principal, upload_id=upload_id)
    source, rows, total = _problems(engine, upload, offset=(page - 1) * per_page, limit=per_page)
    pages = max(1, -(-total // per_page))
    return {"source": source, "items": rows, "total": total, "page": page, "pages": pages,
            "per_page": per_page}  # fmt: skip


def _problems(
    engine: sa.Engine, upload: Upload, *, offset: int, limit: int | None
) -> tuple[str | None, list[Problem], int]:
    report = _read_json(upload.folder / "report.json")
    if report is not None and report.get("batch_id") is not None:
        where = import_errors.c.batch_id == report["batch_id"]
        cols = (import_errors.c.sheet, import_errors.c.line, import_errors.c["column"],
                import_errors.c.code, import_errors.c.severity, import_errors.c.message,
                import_errors.c.raw)  # fmt: skip
        with engine.connect() as conn:
            total = int(conn.scalar(sa.select(sa.func.count()).where(where)) or 0)
            query = (
                sa.select(*cols).where(where)
                .order_by(import_errors.c.severity, import_errors.c.line, import_errors.c.id)
                .offset(offset).limit(limit)
            )  # fmt: skip
            rows = [dict(r._mapping) | {"value": r.raw} for r in conn.execute(query)]
        for r in rows:
            r.pop("raw", None)
        return "import", rows, total
    if report is None:
        report = _read_json(upload.folder / "dry_run.json")
    if report is None:
        return None, [], 0
    listed: list[Problem] = [
        {k: p.get(k) for k in ("sheet", "line", "column", "code", "severity", "message", "value")}
        for p in (report.get("errors") or []) + (report.get("warnings_list") or [])
    ]
    source = "dry_run" if upload.state != "done" else "import"
    end = None if limit is None else offset + limit
    return source, listed[offset:end], len(listed)


ERROR_COLUMNS: Final = ("sheet", "line", "column", "code", "severity", "message", "value")


def errors_csv(
    settings: Settings, engine: sa.Engine, *, principal: Principal, upload_id: str, path: Path,
    lang: str,
) -> Path:  # fmt: skip
    """Every listed problem as CSV at ``path`` (formula-like cells neutralised for Excel);
    the download is audited, since the rows hold the file's personal data."""
    upload = load(settings, principal=principal, upload_id=upload_id)
    _source, rows, total = _problems(engine, upload, offset=0, limit=None)
    frame = pl.DataFrame(
        {
            t(f"import.col_{c}", lang): pl.Series(
                [r.get(c) for r in rows], dtype=pl.Int64 if c == "line" else pl.String
            )
            for c in ERROR_COLUMNS
        }
    )
    write_table(frame, path)
    with engine.begin() as conn:
        audit.record(
            conn, actor=principal.username, actor_id=principal.user_id,
            action="import.errors_download", entity="upload", entity_id=upload.id,
            after={"file": upload.name, "rows": total},
        )  # fmt: skip
    return path


def discard(settings: Settings, *, principal: Principal, upload_id: str, lang: str) -> None:
    """Delete an upload and its reports (not while its import runs)."""
    with _META:
        upload = load(settings, principal=principal, upload_id=upload_id)
        if _state(upload) == "running":
            raise ImportBusy(t("import.already_running", lang))
        shutil.rmtree(upload.folder, ignore_errors=True)


def wait(upload_id: str, *, timeout: float = 60.0) -> None:
    """Block until this process's run of ``upload_id`` ends (for tests and scripts)."""
    deadline = time.monotonic() + timeout
    while upload_id in _PROGRESS and time.monotonic() < deadline:
        time.sleep(0.02)


__all__ = [
    "DATE_FORMATS",
    "SUFFIXES",
    "Choices",
    "ImportBusy",
    "Upload",
    "UploadTooLarge",
    "choose",
    "discard",
    "dry_run",
    "errors_csv",
    "list_uploads",
    "load",
    "problems",
    "purge_expired",
    "receive",
    "safe_name",
    "start_run",
    "status",
    "too_large_message",
    "view",
    "wait",
]
