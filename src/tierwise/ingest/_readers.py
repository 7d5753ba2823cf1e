"""Raw readers: a CSV, XLSX or Parquet file -> batches of text columns with line numbers.

Format comes from the magic bytes, not the extension. CSV is streamed with bounded memory:
the encoding comes from a BOM, from the NUL pattern of BOM-less UTF-16, or from validating
the whole file as strict UTF-8, then GB18030; the delimiter is sniffed. Records that cannot
be read become `RowProblem`s; problems with the file as a whole raise `ReadError`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import math
import re
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import polars as pl

from tierwise.errors import DataError
from tierwise.ingest import _fastcsv

_CHUNK = 1 << 20  # validation reads the file in 1 MB chunks
_SNIFF_CHARS = 64 * 1024
_ZIP_MAX_TOTAL, _ZIP_MAX_RATIO, _ZIP_RATIO_FLOOR = 2 * 1024**3, 200, 1 << 20
_RAW_MAX = 200
_DELIMITERS = (",", ";", "\t", "|")
_BOMS: tuple[tuple[bytes, str], ...] = (
    *(
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
    ),
    *((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")),
)
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
_FMT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')

Format = Literal["csv", "xlsx", "parquet"]


class ReadError(DataError):
    """The file as a whole cannot be read (format, encoding, damaged or unsafe workbook)."""


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
        notes.append(f"{len(raw) - len(names)} empty column(s) at the end of the header ignored")
    out: list[str] = []
    for i, name in enumerate(names, start=1):
        if not name:
            name = f"column_{i}"
            notes.append(f'blank header at column {i} named "{name}"')
        elif name in out:
            k = 2
            while f"{name} ({k})" in names or f"{name} ({k})" in out:
                k += 1
            notes.append(f'duplicate column "{name}" renamed "{name} ({k})"')
            name = f"{name} ({k})"
        out.append(name)
    return out, notes


def _sniff_format(path: Path, head: bytes) -> Format:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            f"{path.name} is an old Excel 97-2003 (.xls) workbook or a password-protected one; "
            "open it in Excel or WPS and save it as .xlsx or as CSV (UTF-8), then import that file"
        )
    return "xlsx" if head.startswith(b"PK\x03\x04") else "parquet" if head[:4] == b"PAR1" else "csv"


def _bom_or_utf16(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    n = len(head) // 2 * 2  # BOM-less UTF-16: ASCII characters put NULs on one side only
    even, odd = head[0:n:2].count(0), head[1:n:2].count(0)
    if odd > 1 and even * 20 <= odd:
        return "utf-16-le"
    return "utf-16-be" if even > 1 and odd * 20 <= even else None


def _first_bad_byte(path: Path, encoding: str) -> str | None:
    """Stream-validate `path`; describe the first undecodable byte, if any."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    offset = newlines = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            pending = len(dec.getstate()[0])
            try:
                dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                pos = e.start - pending
                line = newlines + chunk.count(b"\n", 0, max(pos, 0)) + 1
                byte = e.object[e.start]
                return f"byte 0x{byte:02X} at offset {offset + pos} (line {line}) is not valid {encoding}"
            if not chunk:
                return None
            offset += len(chunk)
            newlines += chunk.count(b"\n")


def _choose_encoding(path: Path, head: bytes, forced: str | None) -> tuple[str, list[str]]:
    if forced is not None:
        try:
            enc = codecs.lookup(forced).name
        except LookupError as e:
            raise ReadError(f'unknown encoding "{forced}"') from e
        if bad := _first_bad_byte(path, enc):
            raise ReadError(f"cannot read {path.name}: {bad}")
        return enc, []
    bom = _bom_or_utf16(head)
    if bom is None and b"\x00" in head:
        raise ReadError(f"{path.name} is a binary file, not CSV, Excel (.xlsx) or Parquet")
    errors = []
    for enc in [bom] if bom else ["utf-8", "gb18030"]:
        if (bad := _first_bad_byte(path, enc)) is None:
            return enc, ["file is not UTF-8; read as GB18030 (GBK)"] if enc == "gb18030" else []
        errors.append(bad)
    raise ReadError(
        f"cannot detect the text encoding of {path.name}: {'; '.join(errors)}. Save it as UTF-8, "
        "or name its encoding with --encoding (e.g. --encoding big5)"
    )


def _sniff_delimiter(sample: str, complete: bool) -> str:
    """The delimiter giving the most consistent field count (> 1) over the sample's records."""
    best, choice = (0.0, 0, 0), ","
    for rank, delim in enumerate(_DELIMITERS):
        counts: list[int] = []
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim)
        with suppress(csv.Error):  # a sample cut inside a huge field
            counts.extend(len(row) for row in reader if "".join(row).strip())
        if not complete and len(counts) > 1:
            counts.pop()  # the last record may be cut off
        if counts and counts[0] > 1:
            score = (sum(c == counts[0] for c in counts) / len(counts), counts[0], -rank)
            best, choice = max((best, choice), (score, delim))
    return choice


def _ends_in_quotes(text: str, delim: str, inq: bool) -> bool:
    """Mirror of the csv module's quoting: is `text` (whole lines) still inside a quoted field?"""
    special = re.compile(f'[{re.escape(delim)}\r\n"]')
    i, field_start = 0, 0
    while i < len(text):
        if inq:
            j = text.find('"', i)
            if j < 0:
                return True
            inq = text.startswith('"', j + 1)  # a doubled quote stays inside
            i, field_start = j + 1 + inq, -1
        elif m := special.search(text, i):
            i = m.end()
            if m.group() != '"':
                field_start = i
            elif m.start() == field_start:
                inq = True
        else:
            return False
    return inq


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
        inq = _ends_in_quotes(raw, self.delim, False)
        while inq:  # the bad field is quoted and goes on: skip to the end of its record
            self.cur.clear()
            if (line := next(self.feed, None)) is None:
                break
            inq = _ends_in_quotes(line, self.delim, True)
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
        notes.append("file is empty")
        return Source(SourceInfo(path, "csv", None, False, None, [], None, [], notes, 0), None, [])
    enc, enc_notes = _choose_encoding(path, head, encoding)
    delim = delimiter
    if delim is None:
        with path.open(encoding=enc, newline="") as f:
            sample = f.read(_SNIFF_CHARS)
            delim = _sniff_delimiter(sample, complete=not f.read(1))
    recs = _CsvRecords(path, enc, delim)
    with recs.file:
        _, raw, blank = recs.header()
        header_lines = recs.lines
    if raw is None:
        notes.append(f"file has only blank lines ({blank})")
    elif blank:
        notes.append(f"{blank} blank line(s) before the header skipped")
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


def _cell_text(value: object, cell: Any) -> str:
    """An Excel cell as the text a user would type: no `.0`, ISO dates, true/false."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text and math.isfinite(value) else text
    if isinstance(value, dt.datetime):
        fmt = _FMT_LITERALS.sub("", str(cell.number_format).lower())
        if value.time() == dt.time() and "h" not in fmt and "s" not in fmt:
            return value.date().isoformat()  # a date cell
        return value.isoformat(" ", "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat("seconds")
    if isinstance(value, dt.timedelta):
        secs = int(value.total_seconds())
        return f"{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    return str(value)


def _sheet_rows(ws: Any) -> Generator[tuple[int, list[str]], None, None]:
    """(sheet row number, cell texts); openpyxl's warnings are silenced chunk by chunk."""
    ws.reset_dimensions()  # a wrong <dimension> tag would otherwise cut rows off
    gen = ws.iter_rows()
    rows = enumerate(gen, start=1)
    try:
        while True:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                chunk = list(itertools.islice(rows, 1000))
            if not chunk:
                return
            for number, row in chunk:
                yield number, [_cell_text(c.value, c) for c in row]
    finally:
        gen.close()


def _load_workbook(path: Path) -> tuple[Any, IO[bytes]]:
    import openpyxl

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as e:
        raise ReadError(f"{path.name} looks like an Excel workbook but is damaged: {e}") from e
    if sum(i.file_size for i in infos) > _ZIP_MAX_TOTAL:
        raise ReadError(f"{path.name} unpacks to more than 2 GB; refusing to open it (zip bomb?)")
    for i in infos:
        if i.file_size > max(_ZIP_RATIO_FLOOR, _ZIP_MAX_RATIO * i.compress_size):
            raise ReadError(
                f'{path.name}: part "{i.filename}" is compressed more than {_ZIP_MAX_RATIO}:1; '
                "refusing to open it (zip bomb?)"
            )
    f = path.open("rb")  # a file object: openpyxl refuses paths not named .xlsx
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(f, read_only=True, data_only=True), f
    except Exception as e:
        f.close()
        raise ReadError(f"cannot read {path.name} as an Excel workbook: {e}") from e


def _open_xlsx(path: Path, sheet: str | int | None, notes: list[str]) -> Source:
    wb, f = _load_workbook(path)
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
            with closing(_sheet_rows(ws)) as rows:
                found = next(((n, r) for n, r in rows if "".join(r).strip()), None)
            if found is None:
                notes.append(f'sheet "{ws.title}" is empty')
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
            notes.append("workbook has no data")
        first = picked[0][0] if picked else chosen[0] if chosen else None
        label = "*" if sheet == "*" else first.title if first else None
    except BaseException:
        wb.close()
        f.close()
        raise

    def sections() -> Iterator[tuple[str | None, Iterable[Record]]]:
        for ws, header_row in picked:
            with closing(_sheet_rows(ws)) as rows:
                yield ws.title, (r for r in rows if r[0] > header_row)

    info = SourceInfo(path, "xlsx", None, False, None, names, label, header, notes, 0)
    return Source(info, sections, [wb, f])


def list_sheets(path: Path) -> list[str]:
    """Worksheet names of an Excel workbook (found by content, not name); [] for other files."""
    with Path(path).open("rb") as fh:
        if _sniff_format(Path(path), fh.read(8)) != "xlsx":
            return []
    wb, f = _load_workbook(Path(path))
    with f:
        names = [ws.title for ws in wb.worksheets]
        wb.close()
    return names


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
    fmt = _sniff_format(path, head)
    ext, notes = path.suffix.lower(), []
    if fmt != "csv" and ext not in ((".xlsx", ".xlsm") if fmt == "xlsx" else (".parquet", ".pq")):
        kind = "an Excel workbook" if fmt == "xlsx" else "a Parquet file"
        notes.append(f"file is {kind} although named {ext or 'without an extension'}")
    if fmt == "csv" and ext in (".xlsx", ".xlsm", ".xls", ".parquet"):
        notes.append(f"file is plain text (read as CSV) although named {ext}")
    if fmt == "csv" and sheet is not None:
        notes.append("the sheet option is ignored: the file is not a workbook")
    if fmt != "csv" and (encoding or delimiter):
        notes.append(f"the encoding and delimiter options are ignored for a {fmt} file")
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
