"""The vectorised CSV reader gives exactly what the csv-module path gives, for any bytes.

Each file is read twice through `open_source(...).batches()`: once as shipped (vectorised where
`_fastcsv` accepts the text, the csv module from where it does not) and once with the vectorised
path switched off. Rows, line numbers, problems, batch sizes and blank-row counts must agree.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.ingest import _fastcsv
from tierwise.ingest._readers import open_source

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _read(path: Path, size: int, skip: int, **kw: Any) -> tuple[Any, ...]:
    with open_source(path, **kw) as src:
        batches = list(src.batches(size, skip_records=skip))
        info = src.info
    return (
        info.header,
        [b.frame.rows() for b in batches],
        [b.lines for b in batches],
        [[(p.line, p.code, p.message, p.raw) for p in b.problems] for b in batches],
        [b.records_read for b in batches],
        info.blank_rows,
    )


def _both(
    path: Path, monkeypatch: pytest.MonkeyPatch, size: int = 50_000, skip: int = 0, **kw: Any
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    fast = _read(path, size, skip, **kw)
    with monkeypatch.context() as m:
        m.setattr(_fastcsv, "eligible", lambda *_: False)
        slow = _read(path, size, skip, **kw)
    return fast, slow


def test_py_space_is_every_character_python_calls_space() -> None:
    expected = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert expected == _fastcsv.PY_SPACE


def test_fast_path_is_taken_and_keeps_quoted_newline_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "o.csv"
    path.write_bytes(
        b'id,note,amount\r\n1,"two\r\nlines",5\r\n\r\n2,"say ""hi""",6\r\n3,,"1,234"\r\n'
    )
    taken: list[int] = []
    real = _fastcsv.FastCsv._tokenise

    def spy(self: _fastcsv.FastCsv, body: bytes) -> _fastcsv.Chunk | None:
        out = real(self, body)
        taken.append(0 if out is None else out.frame.height)
        return out

    monkeypatch.setattr(_fastcsv.FastCsv, "_tokenise", spy)
    fast, slow = _both(path, monkeypatch)
    assert taken == [3]  # vectorised, not handed to the csv module
    assert fast == slow
    assert fast[1] == [[("1", "two\r\nlines", "5"), ("2", 'say "hi"', "6"), ("3", None, "1,234")]]
    assert fast[2] == [[2, 5, 6]]
    assert fast[5] == 1


@pytest.mark.parametrize(
    "body",
    [
        b'a,b\n1,"x"y\n2,3\n',  # text after a closing quote
        b'a,b\n1,x"y\n2,3\n',  # a quote inside an unquoted field
        b'a,b\n1,"unclosed\n2,3\n',  # an unclosed quote runs to the end
        b"a,b\n1,2,3\n4,5\n",  # an extra non-empty field
        b"a,b\n1,2\r3,4\n",  # a lone CR ends a line for Python
        b"a,b\n" + b"1,2\n" * 1100 + b"1,\x00\n2,3\n",  # NUL (past the 4 KB sniffed for binary)
        b"a,b\n1,2,,\n3,4, \n",  # empty extras are cut silently
        b"a,b\n\n \n1\n,\n2,3",  # blank records, a short one, no final LF
        b"a,b\n1,2\n\n\n",  # blank records at the end are not counted
    ],
)
def test_awkward_records_match_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    for size in (1, 2, 50_000):
        fast, slow = _both(path, monkeypatch, size=size)
        assert fast == slow


def test_oversized_field_is_left_to_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a,b\n1,2\n3," + "x" * 200 + "\n4,5\n", encoding="utf-8")
    old = csv.field_size_limit(100)  # the csv module's own limit, which both paths read
    try:
        fast, slow = _both(path, monkeypatch)
    finally:
        csv.field_size_limit(old)
    assert fast == slow
    assert [p[1] for p in fast[3][0]] == ["field_too_large"]


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".tsv", ".txt")),
)
def test_corpus_files_read_alike(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = CORPUS / name
    if path.stat().st_size == 0 or path.read_bytes()[:4] == b"PK\x03\x04":
        pytest.skip("not a text file")
    for size, skip in ((50_000, 0), (3, 0), (2, 3)):
        fast, slow = _both(path, monkeypatch, size=size, skip=skip)
        assert fast == slow


_PIECES = st.sampled_from(
    ["a", "b", "中", ",", ",", '"', '"', '""', "\n", "\n", "\r\n", "\r", " ", "\t", "\u3000", ";"]
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.sampled_from(["a,b,c\n", "a\n", '"a","b"\r\n', "a,b,,\n"]),
    body=st.lists(_PIECES, max_size=60).map("".join),
    size=st.integers(1, 4),
    skip=st.integers(0, 3),
    chunk=st.sampled_from([1, 7, 64, 1 << 20]),
)
def test_any_text_reads_alike(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    header: str,
    body: str,
    size: int,
    skip: int,
    chunk: int,
) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes((header + body).encode("utf-8"))
    with monkeypatch.context() as m:
        m.setattr(_fastcsv, "_CHUNK", chunk)  # records cut across reads
        fast, slow = _both(path, m, size=size, skip=skip, delimiter=",")
    assert fast == slow
