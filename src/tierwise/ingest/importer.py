"""Import one file into the store, keeping the invariants I1–I5 of RELIABILITY.md.

Each batch of rows is validated as a whole, upserted by its external key and committed together
with its row errors, the batch counters and the job cursor, so a killed import resumes exactly
where its last committed batch ended. A dry run does all of it inside one transaction that is
rolled back, so it reports exactly what the real run would do and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl
import sqlalchemy as sa

from tierwise._said import Said
from tierwise.errors import DataError
from tierwise.ingest import _messages
from tierwise.ingest._apply import BatchWriter
from tierwise.ingest._columns import UserMapping, detect_kind, map_columns
from tierwise.ingest._prefetch import ahead
from tierwise.ingest._readers import RawBatch, open_source
from tierwise.ingest._schema import TABLES, Field, Kind
from tierwise.ingest._validate import canonicalise
from tierwise.ingest.report import ImportReport, RowError
from tierwise.store import audit, jobs
from tierwise.store.bulk import bulk_session

OnDuplicate = Literal["update", "skip", "error"]
Progress = Callable[[int, int | None], None]  # (rows done, rows total if known)


@dataclass(frozen=True)
class ImportOptions:
    kind: Kind | None = None
    mapping: UserMapping | None = None
    date_format: str | None = None
    on_duplicate: OnDuplicate = "update"
    strict: bool = False
    dry_run: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    batch_size: int = 50_000
    lang: str = "en"

    def fingerprint(self) -> dict[str, object]:
        """What must match for an interrupted import to be resumed rather than started anew."""
        return {
            "kind": self.kind,
            "mapping": self.mapping.columns if self.mapping else None,
            "date_format": self.date_format,
            "on_duplicate": self.on_duplicate,
            "strict": self.strict,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "batch_size": self.batch_size,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _reader_problems(raw: RawBatch, lang: str) -> list[RowError]:
    return [
        RowError(
            line=p.line,
            sheet=p.sheet,
            column=None,
            code=p.code,
            message=_messages.render(p.code, lang=lang, value=p.raw) if lang == "zh" else p.message,
            value=p.raw,
        )
        for p in raw.problems
    ]


def import_file(
    path: Path,
    *,
    engine: sa.Engine,
    options: ImportOptions | None = None,
    actor: str = "cli",
    progress: Progress | None = None,
    actor_id: int | None = None,
) -> ImportReport:
    """Import ``path`` (CSV, XLSX or Parquet) and return the report.

    >>> report = import_file(Path("orders.csv"), engine=engine)  # doctest: +SKIP
    >>> report.inserted + report.updated + report.skipped + report.rejected == report.rows_in
    True
    """
    options = options or ImportOptions()
    started = time.monotonic()
    report = ImportReport(file=str(path), dry_run=options.dry_run)
    if not path.exists():
        raise DataError(f"File not found: {path}", key="err.file_not_found", path=str(path))
    mapping = options.mapping
    date_format = options.date_format or (mapping.date_format if mapping else None)
    with open_source(
        path, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet
    ) as source:
        info = source.info
        report.format, report.encoding = info.format, info.encoding
        report.encoding_detected, report.delimiter = info.encoding_detected, info.delimiter
        report.sheet = info.sheet
        report.notes.extend(info.notes)
        if not info.header:
            report.notes.append(Said("empty file: nothing to import",
                                     key="import.note.nothing_to_import"))  # fmt: skip
            return report
        kind = options.kind or (mapping.kind if mapping else None) or detect_kind(info.header, path)
        report.kind = kind
        cmap = map_columns(info.header, kind, mapping)
        report.mapping, report.unmapped_columns = dict(cmap.fields), list(cmap.unmapped)
        report.notes.extend(cmap.notes)
        if kind == "customers" and cmap.unmapped:
            kept = ", ".join(cmap.unmapped)
            report.notes.append(Said(f"kept as custom attributes: {kept}",
                                     key="import.note.custom_attributes", columns=kept))  # fmt: skip
        missing = [f for f in TABLES[kind].fields if f.required and f.name not in cmap.fields]
        one_of = TABLES[kind].one_of
        if one_of and not any(set(group) <= set(cmap.fields) for group in one_of):
            missing.append(TABLES[kind].field(one_of[0][0]))
        if missing:
            return _refuse_file(report, source.batches(options.batch_size), missing, options.lang)

        sha = file_sha256(path)
        with engine.connect() as conn:
            outer = conn.begin() if options.dry_run else None
            job_id, batch_id, cursor = _start(conn, report, path, sha, kind, options, actor)
            report.resumed_at_row = cursor
            writer = BatchWriter(
                conn, kind=kind, cmap=cmap, batch_id=batch_id, options=options, report=report
            )
            done = cursor
            # the next batch is read and validated while this one is written
            checked_batches = ahead(
                source.batches(options.batch_size, skip_records=cursor),
                lambda raw: canonicalise(raw.frame, cmap, date_format=date_format),
            )
            with closing(checked_batches), bulk_session(conn):
                for raw, checked in checked_batches:
                    tx = conn.begin() if outer is None else conn.begin_nested()
                    problems = writer.apply(raw, checked) + _reader_problems(raw, options.lang)
                    problems.sort(key=lambda p: p.line or 0)
                    report.rows_in += raw.records_read
                    report.rejected += len(raw.problems)
                    report.add_problems(problems)
                    writer.store_problems(problems)
                    done += raw.records_read
                    _save_counters(conn, report, batch_id, job_id, done, "running")
                    tx.commit()
                    if progress:
                        progress(done, None)
            report.seconds = round(time.monotonic() - started, 3)
            with conn.begin() if outer is None else conn.begin_nested():
                _save_counters(conn, report, batch_id, job_id, done, "done")
                audit.record(
                    conn,
                    actor=actor,
                    actor_id=actor_id,
                    action="import",
                    entity=kind,
                    entity_id=str(batch_id),
                    after={
                        k: v
                        for k, v in report.to_dict().items()
                        if k
                        in (
                            "file",
                            "rows_in",
                            "inserted",
                            "updated",
                            "skipped",
                            "rejected",
                            "customers_created",
                            "merged",
                        )
                    },
                )
            if outer is not None:
                outer.rollback()
                report.batch_id = report.job_id = None
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _refuse_file(
    report: ImportReport, batches: object, missing: Sequence[Field], lang: str
) -> ImportReport:
    """A required column is absent: nothing can be imported; every row is rejected, loudly."""
    from collections.abc import Iterator

    assert isinstance(batches, Iterator)
    for raw in batches:
        report.rows_in += raw.records_read
    report.rejected = report.rows_in
    report.status = "failed"
    report.add_problems(
        [
            RowError(
                line=1,
                column=f.name,
                code="missing_column",
                message=_messages.render(
                    "missing_column", lang=lang, column=f"{f.name} / {f.label_zh}"
                ),
            )
            for f in missing
        ]
    )
    return report


def _start(
    conn: sa.Connection,
    report: ImportReport,
    path: Path,
    sha: str,
    kind: str,
    options: ImportOptions,
    actor: str,
) -> tuple[int, int, int]:
    """The job and batch rows: a new pair, or the interrupted import of the same file to resume."""
    fingerprint = options.fingerprint()
    with conn.begin() if not conn.in_transaction() else conn.begin_nested():
        if not options.dry_run:
            jobs.mark_stale_jobs_interrupted(conn)
            found = jobs.find_resumable_import(conn, file_sha256=sha, options=fingerprint)
            if found is not None:
                job_id, batch_id, cursor = found
                _load_counters(conn, report, batch_id)
                jobs.start_job(conn, job_id=job_id, pid=os.getpid())
                report.notes.append(Said(f"resumed an interrupted import after row {cursor}",
                                         key="import.note.resumed", row=cursor))  # fmt: skip
                report.job_id, report.batch_id = job_id, batch_id
                return job_id, batch_id, cursor
        job_id = jobs.create_job(
            conn, kind="import", params={"file": str(path), "file_sha256": sha, **fingerprint}
        )
        jobs.start_job(conn, job_id=job_id, pid=os.getpid())
        from tierwise.store.tables import import_batches

        batch_id = conn.execute(
            sa.insert(import_batches)
            .values(
                job_id=job_id,
                kind=kind,
                file_name=path.name,
                file_sha256=sha,
                file_size=path.stat().st_size,
                encoding=report.encoding,
                options=json.loads(json.dumps(fingerprint)),
                state="running",
                started_at=_now(),
            )
            .returning(import_batches.c.id)
        ).scalar_one()
    report.job_id, report.batch_id = job_id, batch_id
    return job_id, batch_id, 0


_COUNTERS = ("rows_in", "inserted", "updated", "skipped", "rejected", "customers_created", "merged")


def _load_counters(conn: sa.Connection, report: ImportReport, batch_id: int) -> None:
    from tierwise.store.tables import import_batches

    row = conn.execute(sa.select(import_batches).where(import_batches.c.id == batch_id)).one()
    for name in _COUNTERS:
        setattr(report, name, int(getattr(row, name) or 0))
    saved = row.report or {}
    report.skipped_detail = dict(saved.get("skipped_detail", {}))
    report.warnings = int(saved.get("warnings", 0))


def _save_counters(
    conn: sa.Connection, report: ImportReport, batch_id: int, job_id: int, cursor: int, state: str
) -> None:
    from tierwise.store.tables import import_batches

    values: dict[str, object] = {name: getattr(report, name) for name in _COUNTERS}
    values["report"] = {
        "skipped_detail": report.skipped_detail,
        "warnings": report.warnings,
        "notes": report.notes,
        "mapping": report.mapping,
        "unmapped_columns": report.unmapped_columns,
    }
    values["state"] = state
    if state == "done":
        values["finished_at"] = _now()
    conn.execute(sa.update(import_batches).where(import_batches.c.id == batch_id).values(**values))
    if state == "done":
        jobs.finish_job(conn, job_id=job_id, state="done", result={"batch_id": batch_id})
    else:
        jobs.update_progress(conn, job_id=job_id, cursor=cursor, progress=0.0)


__all__ = ["ImportOptions", "OnDuplicate", "file_sha256", "import_file"]

# keep polars imported for type checkers of callers that pass frames through options
_ = pl
