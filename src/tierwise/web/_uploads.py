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
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final

import polars as pl
import sqlalchemy as sa

from tierwise.access import Principal
from tierwise.act import write_table
from tierwise.errors import DataError
from tierwise.ingest import (
    KINDS,
    ImportOptions,
    ImportReport,
    UserMapping,
    import_file,
)
from tierwise.pipeline import acted
from tierwise.settings import Settings
from tierwise.store import audit
from tierwise.store import jobs as job_rows
from tierwise.store.tables import import_errors
from tierwise.store.tables import jobs as jobs_table
from tierwise.web._i18n import t
from tierwise.web._upload_detect import (
    _apply,
    _detect,
    _effective_kind,
    _effective_mapping,
    _view,
    choose,
    view,
)
from tierwise.web._upload_files import (
    _LOCK,
    _META,
    _PROGRESS,
    _RUNNING,
    CHUNK,
    MAX_PENDING,
    SUFFIXES,
    Choices,
    ImportBusy,
    Problem,
    Upload,
    UploadTooLarge,
    _now,
    _Progress,
    _read_json,
    _save,
    _state,
    _status,
    _write_json,
    list_uploads,
    load,
    purge_expired,
    safe_name,
    uploads_root,
)


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
        submit(_work, settings, engine, upload, options, principal, progress, key)
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
    settings: Settings, engine: sa.Engine, upload: Upload, options: ImportOptions,
    principal: Principal, progress: _Progress, key: str,
) -> None:  # fmt: skip
    def step(done: int, _total: int | None) -> None:
        progress.rows_done = done

    progress.rows_estimate = _estimate_rows(upload)
    try:
        report = import_file(upload.path, engine=engine, options=options,
                             actor=principal.username, actor_id=principal.user_id,
                             progress=step)  # fmt: skip
        acted(engine, report)
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
    "ERROR_COLUMNS",
    "SUFFIXES",
    "Choices",
    "ImportBusy",
    "Submit",
    "UploadTooLarge",
    "choose",
    "discard",
    "dry_run",
    "errors_csv",
    "list_uploads",
    "load",
    "problems",
    "public_report",
    "purge_expired",
    "receive",
    "safe_name",
    "start_run",
    "status",
    "too_large_message",
    "view",
    "wait",
]
