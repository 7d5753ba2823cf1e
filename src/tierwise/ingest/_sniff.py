"""How a file is written: its format by content, its encoding (BOMs, UTF-16, UTF-8, GB18030;
never guessed silently) and its delimiter."""

from __future__ import annotations

import codecs
import csv
import io
import re
from contextlib import suppress
from pathlib import Path
from typing import Literal

from tierwise._said import Said
from tierwise.errors import DataError

_CHUNK = 1 << 20  # validation reads the file in 1 MB chunks


_SNIFF_CHARS = 64 * 1024


_DELIMITERS = (",", ";", "\t", "|")


_BOMS: tuple[tuple[bytes, str], ...] = (
    *(
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
    ),
    *((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")),
)


Format = Literal["csv", "xlsx", "parquet"]


class ReadError(DataError):
    """The file as a whole cannot be read (format, encoding, damaged or unsafe workbook)."""


def sniff_format(path: Path, head: bytes) -> Format:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            f"{path.name} is an old Excel 97-2003 (.xls) workbook or a password-protected one; "
            "open it in Excel or WPS and save it as .xlsx or as CSV (UTF-8), then import that file"
        )
    return "xlsx" if head.startswith(b"PK\x03\x04") else "parquet" if head[:4] == b"PAR1" else "csv"


def bom_or_utf16(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    n = len(head) // 2 * 2  # BOM-less UTF-16: ASCII characters put NULs on one side only
    even, odd = head[0:n:2].count(0), head[1:n:2].count(0)
    if odd > 1 and even * 20 <= odd:
        return "utf-16-le"
    return "utf-16-be" if even > 1 and odd * 20 <= even else None


def first_bad_byte(path: Path, encoding: str) -> str | None:
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


def choose_encoding(path: Path, head: bytes, forced: str | None) -> tuple[str, list[str]]:
    if forced is not None:
        try:
            enc = codecs.lookup(forced).name
        except LookupError as e:
            raise ReadError(f'unknown encoding "{forced}"') from e
        if bad := first_bad_byte(path, enc):
            raise ReadError(f"cannot read {path.name}: {bad}")
        return enc, []
    bom = bom_or_utf16(head)
    if bom is None and b"\x00" in head:
        raise ReadError(f"{path.name} is a binary file, not CSV, Excel (.xlsx) or Parquet")
    errors = []
    for enc in [bom] if bom else ["utf-8", "gb18030"]:
        if (bad := first_bad_byte(path, enc)) is None:
            note = Said("file is not UTF-8; read as GB18030 (GBK)", key="import.note.gb18030")
            return enc, [note] if enc == "gb18030" else []
        errors.append(bad)
    raise ReadError(
        f"cannot detect the text encoding of {path.name}: {'; '.join(errors)}. Save it as UTF-8, "
        "or name its encoding with --encoding (e.g. --encoding big5)"
    )


def sniff_delimiter(sample: str, complete: bool) -> str:
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


def ends_in_quotes(text: str, delim: str, inq: bool) -> bool:
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
