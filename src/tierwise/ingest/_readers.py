"""Raw readers: a CSV, XLSX or Parquet file -> batches of text columns with line numbers.

Format comes from the magic bytes, not the extension. CSV is streamed with bounded memory:
the encoding comes from a BOM, from the NUL pattern of BOM-less UTF-16, or from validating
the whole file as strict UTF-8, then GB18030; the delimiter is sniffed. Records that cannot
be read become `RowProblem`s; problems with the file as a whole raise `ReadError`.

What was noticed about the file (a header cleaned up, blank lines skipped, a misnamed file) is in
`SourceInfo.notes`: English `Said` texts whose keys (``import.note.*``) the web app and the CLI
say in the user's language (``tierwise/web/messages_import_notes.yaml``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl

from tierwise._said import Said
from tierwise.ingest import _fastcsv
from tierwise.ingest._sniff import (
    _SNIFF_CHARS,
    Format,
    ReadError,
    choose_encoding,
    ends_in_quotes,
    sniff_delimiter,
    sniff_format,
)
from tierwise.ingest._xlsx import (
    list_sheets,
    load_workbook,
    sheet_rows,
)

_RAW_MAX = 200
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")


@dataclass(frozen=True)
class RowProblem:
    line: int
    sheet: str | None
    code: str
    message: str
    raw: str | None


Record = tuple[int, list[str] | RowProblem]
Sections = Callable[[], Iterator[tuple[str | None, Iterable[Record]]]]


@dataclass(frozen=True)
class RawBatch:
    frame: pl.DataFrame
    lines: list[int]
    sheet: str | None
    problems: list[RowProblem]
    records_read: int


@dataclass(frozen=True)
class SourceInfo:
    path: Path
    format: Format
    encoding: str | None
    encoding_detected: bool
    delimiter: str | None
    sheets: list[str]
    sheet: str | None
    header: list[str]
    notes: list[str]
    blank_rows: int


class Source:
    """An opened import file (a context manager); `info.blank_rows` is final after `batches()`."""

    def __init__(
        self,
        info: SourceInfo,
        sections: Sections | None,
        closers: list[Any],
        csv_text: tuple[str, int] | None = None,
    ) -> None:
        self._info, self._sections, self._closers = info, sections, closers
        # a CSV file: (its encoding, the physical lines up to and including the header)
        self._csv_text = csv_text
        self._blank = self._seen = 0

    @property
    def info(self) -> SourceInfo:
        return replace(self._info, blank_rows=self._blank, notes=list(self._info.notes))

    def batches(self, batch_size: int = 50_000, *, skip_records: int = 0) -> Iterator[RawBatch]:
        """Yield the records in batches, after skipping `skip_records` records silently."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._blank = self._seen = 0
        if self._info.format == "parquet":
            yield from _parquet_batches(self._info, batch_size, skip_records)
        elif self._info.header and self._csv_text is not None and self._info.delimiter:
            yield from self._csv_batches(batch_size, skip_records)
        elif self._info.header and self._sections is not None:
            joiner = self._info.delimiter or "\t"
            for sheet, records in self._sections():
                yield from self._assemble(records, sheet, batch_size, skip_records, joiner)

    def close(self) -> None:
        for closer in self._closers:
            closer.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _csv_batches(self, size: int, skip: int) -> Iterator[RawBatch]:
        """CSV records in batches: vectorised where `_fastcsv` can, by the csv module from there."""
        assert self._csv_text is not None and self._info.delimiter is not None
        encoding, header_lines = self._csv_text
        path, delim, header = self._info.path, self._info.delimiter, self._info.header
        with path.open("rb") as fh:
            offset = _fastcsv.header_end(fh, header_lines)
            if offset is None or not _fastcsv.eligible(encoding, delim):
                records = _CsvRecords(path, encoding, delim, offset=0)
                with records.file:
                    yield from self._assemble(records.header()[0], None, size, skip, delim)
                return
            frames: list[pl.DataFrame] = []
            lines: list[np.ndarray] = []
            held = seen = pending_blank = 0
            reader = _fastcsv.FastCsv(
                fh, offset=offset, line=header_lines + 1, delimiter=delim, header=header
            )
            for piece in reader.chunks():
                if isinstance(piece, _fastcsv.Stop):
                    # the csv module reads the rest, continuing the batch being filled
                    rest = pl.concat(frames) if frames else pl.DataFrame()
                    start = (
                        ([list(r) for r in rest.rows()], [int(n) for n in np.concatenate(lines)])
                        if frames
                        else None
                    )
                    records = _CsvRecords(
                        path, encoding, delim, offset=piece.offset, lines=piece.line - 1
                    )
                    with records.file:
                        yield from self._assemble(
                            iter(records),
                            None,
                            size,
                            skip,
                            delim,
                            start=start,
                            seen=seen,
                            pending_blank=pending_blank,
                        )
                    return
                frame, at = piece.frame, piece.lines
                if frame.height:  # blank records count only when a record follows them
                    self._blank += pending_blank + piece.blank - piece.trailing_blank
                    pending_blank = piece.trailing_blank
                else:
                    pending_blank += piece.blank
                if seen < skip:
                    drop = min(skip - seen, frame.height)
                    seen += drop
                    frame, at = frame.slice(drop), at[drop:]
                seen += frame.height
                self._seen = seen
                frames.append(frame)
                lines.append(at)
                held += frame.height
                while held >= size:
                    whole = pl.concat(frames)
                    numbers = np.concatenate(lines)
                    yield RawBatch(whole.head(size), numbers[:size].tolist(), None, [], size)
                    frames, lines = [whole.slice(size)], [numbers[size:]]
                    held -= size
            if held:
                whole = pl.concat(frames)
                yield RawBatch(whole, np.concatenate(lines).tolist(), None, [], held)

    def _assemble(
        self,
        records: Iterable[Record],
        sheet: str | None,
        size: int,
        skip: int,
        joiner: str,
        *,
        start: tuple[list[list[str]], list[int]] | None = None,
        seen: int | None = None,
        pending_blank: int = 0,
    ) -> Iterator[RawBatch]:
        """Records -> batches; ``start``, ``seen`` and ``pending_blank`` continue a batch begun
        by the vectorised reader (its rows and lines, records seen, blank records pending)."""
        header = self._info.header
        width = len(header)
        rows: list[list[str]] = start[0] if start else []
        lines: list[int] = start[1] if start else []
        probs: list[RowProblem] = []
        seen = self._seen if seen is None else seen  # blank rows count only when data follows
        for line, rec in records:
            if isinstance(rec, RowProblem):
                problem: RowProblem | None = rec
            else:
                joined = "".join(rec)
                if not joined or joined.isspace():
                    pending_blank += 1
                    continue
                problem = None if len(rec) == width else _fit(rec, width, line, sheet, joiner)
                if "\x00" in joined:
                    msg = f"line {line} contains a NUL character (binary data)"
                    problem = RowProblem(line, sheet, "unreadable_row", msg, joined[:_RAW_MAX])
            if pending_blank:
                self._blank += pending_blank
                pending_blank = 0
            seen += 1
            if seen <= skip:
                continue
            if problem is None:
                rows.append(rec)  # type: ignore[arg-type]
                lines.append(line)
            else:
                probs.append(problem)
            if len(lines) + len(probs) >= size:
                self._seen = seen
                yield _batch(header, rows, lines, sheet, probs)
                rows, lines, probs = [], [], []
        self._seen = seen
        if rows or probs:
            yield _batch(header, rows, lines, sheet, probs)


def _fit(
    rec: list[str], width: int, line: int, sheet: str | None, joiner: str
) -> RowProblem | None:
    """Pad a short record with empty fields; cut empty extra fields; report non-empty ones."""
    if len(rec) < width:
        rec.extend([""] * (width - len(rec)))
        return None
    problem = None
    if any(v.strip() for v in rec[width:]):
        msg = f"line {line} has {len(rec)} fields but the header has {width}"
        problem = RowProblem(line, sheet, "extra_fields", msg, joiner.join(rec)[:_RAW_MAX])
    del rec[width:]
    return problem


def _batch(
    header: list[str],
    rows: list[list[str]],
    lines: list[int],
    sheet: str | None,
    probs: list[RowProblem],
) -> RawBatch:
    columns = [
        pl.Series(name, [r[i] for r in rows], dtype=pl.String) for i, name in enumerate(header)
    ]
    empty = pl.all().str.len_bytes() == 0
    frame = pl.DataFrame(columns).with_columns(
        pl.when(empty).then(None).otherwise(pl.all()).name.keep()
    )
    return RawBatch(frame, lines, sheet, probs, len(rows) + len(probs))


def _clean_header(raw: list[str], trim: bool = True) -> tuple[list[str], list[str]]:
    """Strip, name blanks `column_N`, rename duplicates `name (2)`; returns (header, notes)."""
    names = [" ".join(_INVISIBLE.sub("", v).split()) for v in raw]
    notes: list[str] = []
    while trim and names and not names[-1]:
        names.pop()
    if len(names) < len(raw):
        n = len(raw) - len(names)
        notes.append(Said(f"{n} empty column(s) at the end of the header ignored",
                          key="import.note.trailing_columns", count=n))  # fmt: skip
    out: list[str] = []
    for i, name in enumerate(names, start=1):
        if not name:
            name = f"column_{i}"
            notes.append(Said(f'blank header at column {i} named "{name}"',
                              key="import.note.blank_header", column=i, name=name))  # fmt: skip
        elif name in out:
            k = 2
            while f"{name} ({k})" in names or f"{name} ({k})" in out:
                k += 1
            renamed = f"{name} ({k})"
            notes.append(Said(f'duplicate column "{name}" renamed "{renamed}"',
                              key="import.note.duplicate_column", name=name,
                              renamed=renamed))  # fmt: skip
            name = renamed
        out.append(name)
    return out, notes


class _CsvRecords:
    """csv.reader over a text stream that counts physical lines and survives csv.Error."""

    def __init__(
        self, path: Path, encoding: str, delimiter: str, *, offset: int = 0, lines: int = 0
    ) -> None:
        """Read from byte ``offset``, a record start after ``lines`` physical lines."""
        self.path, self.delim = path, delimiter
        if offset:  # past the start there is no BOM to drop: a U+FEFF there is data
            raw = path.open("rb")
            raw.seek(offset)
            enc = "utf-8" if encoding == "utf-8-sig" else encoding
            self.file: IO[str] = io.TextIOWrapper(raw, encoding=enc, errors="strict", newline="")
        else:
            self.file = path.open(encoding=encoding, errors="strict", newline="")
        self.lines = lines
        self.cur: list[str] = []  # the lines of the record being read
        self.feed = self._feed()
        self.reader = csv.reader(self.feed, delimiter=delimiter)

    def _feed(self) -> Iterator[str]:
        for line in self.file:
            self.lines += 1
            self.cur.append(line)
            yield line

    def __iter__(self) -> Iterator[Record]:
        reader, cur = self.reader, self.cur
        while True:
            start = self.lines + 1
            cur.clear()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:  # csv drops the rest of the line and goes on with the next
                yield start, self._recover(start, str(e))
                continue
            except UnicodeDecodeError as e:
                raise ReadError(
                    f"cannot read {self.path.name} near line {self.lines + 1}: {e}"
                ) from e
            yield start, row

    def _recover(self, start: int, reason: str) -> RowProblem:
        raw = "".join(self.cur)
        inq = ends_in_quotes(raw, self.delim, False)
        while inq:  # the bad field is quoted and goes on: skip to the end of its record
            self.cur.clear()
            if (line := next(self.feed, None)) is None:
                break
            inq = ends_in_quotes(line, self.delim, True)
        where = f" (record spans lines {start}-{self.lines})" if self.lines > start else ""
        if inq:
            where += "; an unclosed quote? the rest of the file was skipped"
        if "field larger than field limit" in reason:
            msg = (
                f"line {start}: a field is longer than {csv.field_size_limit():,} characters{where}"
            )
            return RowProblem(start, None, "field_too_large", msg, raw[:_RAW_MAX])
        msg = f"line {start} could not be read: {reason}{where}"
        return RowProblem(start, None, "unreadable_row", msg, raw[:_RAW_MAX])

    def header(self) -> tuple[Iterator[Record], list[str] | None, int]:
        """Advance to the first non-blank record: (the records after it, it, blank lines before)."""
        records, blank = iter(self), 0
        for _, rec in records:
            if isinstance(rec, RowProblem):
                raise ReadError(f"cannot read the header of {self.path.name}: {rec.message}")
            if "".join(rec).strip():
                return records, rec, blank
            blank += 1
        return records, None, blank


def _open_csv(
    path: Path, head: bytes, encoding: str | None, delimiter: str | None, notes: list[str]
) -> Source:
    if not head:
        notes.append(Said("file is empty", key="import.note.file_empty"))
        return Source(SourceInfo(path, "csv", None, False, None, [], None, [], notes, 0), None, [])
    enc, enc_notes = choose_encoding(path, head, encoding)
    delim = delimiter
    if delim is None:
        with path.open(encoding=enc, newline="") as f:
            sample = f.read(_SNIFF_CHARS)
            delim = sniff_delimiter(sample, complete=not f.read(1))
    recs = _CsvRecords(path, enc, delim)
    with recs.file:
        _, raw, blank = recs.header()
        header_lines = recs.lines
    if raw is None:
        notes.append(Said(f"file has only blank lines ({blank})",
                          key="import.note.only_blank_lines", count=blank))  # fmt: skip
    elif blank:
        notes.append(Said(f"{blank} blank line(s) before the header skipped",
                          key="import.note.blank_lines_skipped", count=blank))  # fmt: skip
    header, header_notes = _clean_header(raw or [])
    notes += enc_notes + header_notes
    info = SourceInfo(path, "csv", enc, encoding is None, delim, [], None, header, notes, 0)
    closers: list[Any] = []

    def sections() -> Iterator[tuple[str | None, Iterable[Record]]]:
        recs = _CsvRecords(path, enc, delim)
        closers.append(recs.file)
        with recs.file:
            yield None, recs.header()[0]

    return Source(info, sections, closers, csv_text=(enc, header_lines))


def _open_xlsx(path: Path, sheet: str | int | None, notes: list[str]) -> Source:
    wb, f = load_workbook(path)
    try:
        worksheets = list(wb.worksheets)
        names = [ws.title for ws in worksheets]
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise ReadError(
                f"{path.name} has {len(names)} sheet(s); there is no sheet number {sheet}"
            )
        if isinstance(sheet, str) and sheet != "*" and sheet not in names:
            raise ReadError(f'{path.name} has no sheet "{sheet}"; its sheets: {", ".join(names)}')
        chosen = worksheets[sheet : sheet + 1] if isinstance(sheet, int) else worksheets
        if isinstance(sheet, str) and sheet != "*":
            chosen = [worksheets[names.index(sheet)]]
        picked: list[tuple[Any, int]] = []
        header: list[str] = []
        for ws in chosen:
            with closing(sheet_rows(ws)) as rows:
                found = next(((n, r) for n, r in rows if "".join(r).strip()), None)
            if found is None:
                notes.append(Said(f'sheet "{ws.title}" is empty', key="import.note.sheet_empty",
                                  sheet=ws.title))  # fmt: skip
                continue
            this, header_notes = _clean_header(found[1])
            if picked and this != header:
                raise ReadError(
                    f'sheet "{ws.title}" of {path.name} does not have the same columns as sheet '
                    f'"{picked[0][0].title}"; import the sheets one by one'
                )
            header = this
            notes += [] if picked else header_notes
            picked.append((ws, found[0]))
            if sheet is None:
                break
        if not picked:
            notes.append(Said("workbook has no data", key="import.note.workbook_empty"))
        first = picked[0][0] if picked else chosen[0] if chosen else None
        label = "*" if sheet == "*" else first.title if first else None
    except BaseException:
        wb.close()
        f.close()
        raise

    def sections() -> Iterator[tuple[str | None, Iterable[Record]]]:
        for ws, header_row in picked:
            with closing(sheet_rows(ws)) as rows:
                yield ws.title, (r for r in rows if r[0] > header_row)

    info = SourceInfo(path, "xlsx", None, False, None, names, label, header, notes, 0)
    return Source(info, sections, [wb, f])


def _parquet_batches(info: SourceInfo, size: int, skip: int) -> Iterator[RawBatch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(info.path) as pf:
        groups: list[int] = []
        position = 0
        for g in range(pf.num_row_groups):  # whole row groups before `skip` are not read
            if groups or position + pf.metadata.row_group(g).num_rows > skip:
                groups.append(g)
            else:
                position += pf.metadata.row_group(g).num_rows
        for rb in pf.iter_batches(batch_size=size, row_groups=groups):
            start = max(skip - position, 0)
            table = pa.Table.from_batches([rb]).slice(start).rename_columns(info.header)
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            lines = list(range(position + start + 2, position + rb.num_rows + 2))
            position += rb.num_rows
            if len(frame):
                yield RawBatch(frame, lines, None, [], len(frame))


def _format_notes(
    path: Path, fmt: Format, sheet: str | int | None, encoding: str | None, delimiter: str | None
) -> list[str]:
    """What the user should know about the file's format against its name and the options."""
    ext = path.suffix.lower()
    notes: list[str] = []
    if fmt != "csv" and ext not in ((".xlsx", ".xlsm") if fmt == "xlsx" else (".parquet", ".pq")):
        named = ext or "without an extension"
        if fmt == "xlsx" and ext:
            said = Said(f"file is an Excel workbook although named {ext}",
                        key="import.note.xlsx_misnamed", ext=ext)  # fmt: skip
        elif fmt == "xlsx":
            said = Said(f"file is an Excel workbook although named {named}",
                        key="import.note.xlsx_no_extension")  # fmt: skip
        elif ext:
            said = Said(f"file is a Parquet file although named {ext}",
                        key="import.note.parquet_misnamed", ext=ext)  # fmt: skip
        else:
            said = Said(f"file is a Parquet file although named {named}",
                        key="import.note.parquet_no_extension")  # fmt: skip
        notes.append(said)
    if fmt == "csv" and ext in (".xlsx", ".xlsm", ".xls", ".parquet"):
        notes.append(Said(f"file is plain text (read as CSV) although named {ext}",
                          key="import.note.text_misnamed", ext=ext))  # fmt: skip
    if fmt == "csv" and sheet is not None:
        notes.append(Said("the sheet option is ignored: the file is not a workbook",
                          key="import.note.sheet_ignored"))  # fmt: skip
    if fmt != "csv" and (encoding or delimiter):
        notes.append(Said(f"the encoding and delimiter options are ignored for a {fmt} file",
                          key="import.note.text_options_ignored", format=fmt))  # fmt: skip
    return notes


def open_source(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> Source:
    """Open an import file and read its header; close it (or use it in a `with`) when done."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise ReadError(f"cannot open {path}: {e.strerror}") from e
    fmt = sniff_format(path, head)
    notes = _format_notes(path, fmt, sheet, encoding, delimiter)
    if fmt == "xlsx":
        return _open_xlsx(path, sheet, notes)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            with pq.ParquetFile(path) as pf:
                names = [str(n) for n in pf.schema_arrow.names]
        except Exception as e:
            raise ReadError(f"cannot read {path.name} as a Parquet file: {e}") from e
        header, header_notes = _clean_header(names, trim=False)
        info = SourceInfo(
            path, "parquet", None, False, None, [], None, header, notes + header_notes, 0
        )
        return Source(info, None, [])
    if delimiter is not None and len(delimiter) != 1:
        raise ReadError(f'the delimiter must be one character, not "{delimiter}"')
    return _open_csv(path, head, encoding, delimiter, notes)


__all__ = [
    "RawBatch",
    "ReadError",
    "RowProblem",
    "Source",
    "SourceInfo",
    "list_sheets",
    "open_source",
]
