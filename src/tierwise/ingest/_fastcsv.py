"""Vectorised CSV tokenizer: the csv module's records and line numbers, without a row loop.

The Python ``csv`` reader costs ~11 µs a record (a million-line file: 11 s, a quarter of an
import). This reads UTF-8 text in chunks of whole records with numpy (structure) and Arrow
(values), and gives exactly what `_readers._CsvRecords` + `Source._assemble` give for the same
bytes: the same fields, the same first physical line of every record, the same blank records.

It only does so where the two provably agree: a chunk is taken when every quote sits where
RFC 4180 puts it (opening a field, doubled inside one, or closing one right before a delimiter
or the line end), it has no NUL, no lone CR (Python counts it as a line end) and no oversized
field, and no record has non-blank fields past the header. Anything else — a stray quote, an
unclosed one, ``"ab"c``, extra fields — ends the fast path: `FastCsv.chunks` stops and says at
which byte and line, and the csv module reads the rest, so its error reports are unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa

_CHUNK = 2 << 20  # bytes read at a time (bounded memory); cut after its last complete record
_MAX_RECORD = 64 << 20  # a record longer than this goes to the csv module (it reports it)
_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D
# every character str.isspace() accepts (what str.strip() removes); a record of only these is
# blank. Rust's white space lacks \x1c-\x1f, so Polars' default strip is not the same
PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True)
class Chunk:
    """The non-blank records of one chunk, and the blank ones around them."""

    frame: pl.DataFrame  # one String column per header name, "" as null
    lines: np.ndarray  # the first physical line of each record (int64)
    blank: int  # blank records in the chunk
    trailing_blank: int  # of those, the ones after its last non-blank record


@dataclass(frozen=True)
class Stop:
    """The fast path ends here: the csv module reads on from this byte (a record start)."""

    offset: int
    line: int


def eligible(encoding: str, delimiter: str) -> bool:
    """Can this file be tokenised here? UTF-8 only (ASCII delimiters never split a character)."""
    return (
        encoding in ("utf-8", "utf-8-sig")
        and len(delimiter) == 1
        and delimiter.isascii()
        and delimiter not in '"\r\n'
    )


class FastCsv:
    """Chunks of records from byte ``offset`` (the start of physical line ``line``) of ``fh``."""

    def __init__(
        self, fh: BinaryIO, *, offset: int, line: int, delimiter: str, header: list[str]
    ) -> None:
        self.fh, self.offset, self.line = fh, offset, line
        self.delim = ord(delimiter)
        self.header = header

    def chunks(self) -> Iterator[Chunk | Stop]:
        """Yield chunks until the file ends, or one `Stop` where the csv module must take over."""
        self.fh.seek(self.offset)
        buf = b""
        eof = False
        want = _CHUNK
        while True:
            if not eof:
                more = self.fh.read(want)
                eof = len(more) < want
                buf += more
            if not buf:
                return
            cut = _cut(buf, eof)
            if cut is None:  # no complete record in the buffer yet
                if eof or len(buf) > _MAX_RECORD:
                    yield Stop(self.offset, self.line)
                    return
                want = len(buf)  # grow: a record longer than a chunk
                continue
            want = _CHUNK
            body = buf[:cut] if cut <= len(buf) else buf + b"\n"  # the last line may lack one
            chunk = self._tokenise(body)
            if chunk is None:
                yield Stop(self.offset, self.line)
                return
            yield chunk
            self.offset += min(cut, len(buf))
            self.line += body.count(b"\n")
            buf = buf[cut:]

    def _tokenise(self, body: bytes) -> Chunk | None:
        """Records of ``body`` (whole records, ending in LF), or None where the csv module differs."""
        if b"\x00" in body or (b"\r" in body and body.count(b"\r") != body.count(b"\r\n")):
            return None
        arr = np.frombuffer(body, dtype=np.uint8)
        d = self.delim
        quotes = np.flatnonzero(arr == _QUOTE)
        if quotes.size:
            # an even-numbered quote opens a field (or is the second of a doubled pair); an
            # odd-numbered one closes it (or is the first of a pair): RFC 4180 positions only
            opening, closing = quotes[0::2], quotes[1::2]
            before = arr[np.maximum(opening - 1, 0)]
            ok_open = (opening == 0) | (before == d) | (before == _LF) | (before == _QUOTE)
            after = arr[closing + 1]  # body ends in LF, so a quote is never its last byte
            ok_close = (after == d) | (after == _LF) | (after == _CR) | (after == _QUOTE)
            if quotes.size % 2 or not (ok_open.all() and ok_close.all()):
                return None
        # separators: delimiters and LFs outside quotes (after an even number of quotes)
        seps = np.flatnonzero((arr == d) | (arr == _LF))
        if quotes.size:
            seps = seps[(np.searchsorted(quotes, seps) & 1) == 0]
        is_end = arr[seps] == _LF  # the separator ends a record
        f_start = np.empty(seps.size, dtype=np.int64)
        f_start[0], f_start[1:] = 0, seps[:-1] + 1
        f_end = seps.astype(np.int64)
        cr = is_end & (f_end > f_start) & (arr[np.maximum(f_end - 1, 0)] == _CR)
        f_end[cr] -= 1  # CRLF: the CR is not data
        last = np.flatnonzero(is_end)  # index of each record's last field
        n_fields = np.diff(last, prepend=-1)
        first = last - n_fields + 1
        quoted = (f_end > f_start) & (arr[f_start] == _QUOTE)
        lengths = f_end - f_start - 2 * quoted
        if int(lengths.max()) > csv.field_size_limit():
            return None  # the csv module reports it (field_too_large)
        keep = np.ones(arr.size, dtype=bool)
        keep[seps] = False
        keep[f_end[cr]] = False
        keep[f_start[quoted]] = False
        keep[f_end[quoted] - 1] = False
        data = arr[keep]
        offsets = np.zeros(lengths.size + 2, dtype=np.int64)  # one extra null value at the end
        np.cumsum(lengths, out=offsets[1:-1])
        offsets[-1] = offsets[-2]
        if int(offsets[-1]) != data.size:  # cannot happen for input that passed the checks
            return None
        # an empty field is null, as in `_readers._batch`; the extra value pads short records
        valid = np.append(lengths > 0, False)
        values = pa.LargeStringArray.from_buffers(
            valid.size,
            pa.py_buffer(offsets),
            pa.py_buffer(data),
            pa.py_buffer(np.packbits(valid, bitorder="little")),
        )
        fields = pl.Series("v", values).cast(pl.String)
        if b'""' in body:  # a doubled quote inside a quoted field is one quote
            fields = fields.str.replace_all('""', '"', literal=True)
        width = len(self.header)
        if int(n_fields.max()) > width and not _blank_extras(fields, n_fields, first, width):
            return None  # the csv module reports extra_fields
        pad = lengths.size
        frame = pl.DataFrame(
            [
                fields.gather(pl.Series(np.where(n_fields > j, first + j, pad))).alias(name)
                for j, name in enumerate(self.header)
            ]
        )
        starts = f_start[first]
        if body.count(b"\n") == last.size:  # no quoted newlines: one record a line
            lines = self.line + np.arange(starts.size)
        else:
            lines = self.line + np.searchsorted(np.flatnonzero(arr == _LF), starts)
        blank = _blank(arr, frame, f_start + quoted, lengths, first, d)
        kept = ~blank
        trailing = 0
        if blank.size and blank[-1]:
            nonblank = np.flatnonzero(kept)
            trailing = int(blank.size - (nonblank[-1] + 1 if nonblank.size else 0))
        return Chunk(
            frame=frame.filter(pl.Series(kept)) if blank.any() else frame,
            lines=lines[kept],
            blank=int(blank.sum()),
            trailing_blank=trailing,
        )


# bytes that are never white space nor structure: one of them as a field's first byte makes
# its record non-blank. Bytes >= 0x80 may start U+3000 and kin, so they do not decide
_SOLID = np.zeros(256, dtype=bool)
_SOLID[0x21:0x7F] = True
_SOLID[_QUOTE] = False
_SOLID[0x00:0x09] = _SOLID[0x0E:0x1C] = _SOLID[0x7F] = True


def _blank(
    arr: np.ndarray,
    frame: pl.DataFrame,
    content: np.ndarray,
    lengths: np.ndarray,
    first: np.ndarray,
    delim: int,
) -> np.ndarray:
    """Which records are blank: their fields joined are empty or white space (`str.isspace`).

    Decided by the first byte of each field where that is enough; the few records left (empty,
    or starting with spaces or non-ASCII text) are checked exactly on their values.
    """
    solid = _SOLID.copy()
    solid[delim] = False
    solid_field = (lengths > 0) & solid[arr[np.minimum(content, arr.size - 1)]]
    maybe = ~np.logical_or.reduceat(solid_field, first)
    if not maybe.any():
        return np.asarray(maybe, dtype=bool)
    which = np.flatnonzero(maybe)
    joined = frame[which].select(pl.concat_str(pl.all(), ignore_nulls=True)).to_series()
    maybe[which] = (joined.fill_null("").str.strip_chars(PY_SPACE).str.len_bytes() == 0).to_numpy()
    return np.asarray(maybe, dtype=bool)


def _cut(buf: bytes, eof: bool) -> int | None:
    """Where the last complete record of ``buf`` ends (after its LF), outside quotes.

    At the end of the file the rest is complete: ``len(buf) + 1`` says "all of it, plus the LF it
    lacks" when it does not end in one. The quote parity assumes the text is RFC 4180; where it
    is not, the chunk fails its checks and the csv module reads from its start.
    """
    if eof:
        return len(buf) if buf.endswith(b"\n") else len(buf) + 1
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(arr == _LF)
    if not newlines.size:
        return None
    quotes = np.flatnonzero(arr == _QUOTE)
    if quotes.size:
        newlines = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
        if not newlines.size:
            return None
    return int(newlines[-1]) + 1


def _blank_extras(fields: pl.Series, n_fields: np.ndarray, first: np.ndarray, width: int) -> bool:
    """Are all fields past ``width`` white space? (The csv path cuts those off silently.)"""
    extra_per = np.maximum(n_fields - width, 0)
    rec = np.repeat(np.arange(n_fields.size), extra_per)
    pos = np.arange(int(extra_per.sum())) - np.repeat(np.cumsum(extra_per) - extra_per, extra_per)
    idx = first[rec] + width + pos
    extra = fields.gather(pl.Series(idx, dtype=pl.Int64))
    return bool((extra.str.strip_chars(PY_SPACE).str.len_bytes() == 0).all())


def header_end(fh: BinaryIO, lines: int) -> int | None:
    """The byte offset after the first ``lines`` physical lines; None if one ends in a lone CR.

    Python's universal newlines end a line at a lone CR too; LF-only counting is exact without.
    """
    fh.seek(0)
    offset = 0
    seen = 0
    while seen < lines:
        block = fh.read(1 << 16)
        if not block:
            return offset if seen + 1 >= lines else None  # the last line lacks its LF
        count = block.count(b"\n")
        if seen + count >= lines:
            cut = -1
            for _ in range(lines - seen):
                cut = block.index(b"\n", cut + 1)
            head = block[: cut + 1]
            if head.count(b"\r") != head.count(b"\r\n"):
                return None
            return offset + cut + 1
        if block.count(b"\r") != block.count(b"\r\n") or block.endswith(b"\r"):
            return None
        seen += count
        offset += len(block)
    return offset


__all__ = ["PY_SPACE", "Chunk", "FastCsv", "Stop", "eligible", "header_end"]
