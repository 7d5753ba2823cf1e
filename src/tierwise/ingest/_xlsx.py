"""Excel workbooks: opened read-only (defusedxml installed), sheets listed, cells as text the way
the sheet shows them (phones and ids never as numbers)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import warnings
import zipfile
from collections.abc import Generator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tierwise.ingest._sniff import (
    ReadError,
    sniff_format,
)

_FMT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


# zip-bomb limits for .xlsx: unpacked size in all, and the compression ratio of one part
_ZIP_MAX_TOTAL, _ZIP_MAX_RATIO, _ZIP_RATIO_FLOOR = 2 * 1024**3, 200, 1 << 20


def cell_text(value: object, cell: Any) -> str:
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


def sheet_rows(ws: Any) -> Generator[tuple[int, list[str]], None, None]:
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
                yield number, [cell_text(c.value, c) for c in row]
    finally:
        gen.close()


def load_workbook(path: Path) -> tuple[Any, IO[bytes]]:
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


def list_sheets(path: Path) -> list[str]:
    """Worksheet names of an Excel workbook (found by content, not name); [] for other files."""
    with Path(path).open("rb") as fh:
        if sniff_format(Path(path), fh.read(8)) != "xlsx":
            return []
    wb, f = load_workbook(Path(path))
    with f:
        names = [ws.title for ws in wb.worksheets]
        wb.close()
    return names
