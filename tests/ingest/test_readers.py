"""Raw readers: encodings, delimiters, line numbers, bad records, workbooks, Parquet, resume."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierwise.errors import DataError
from tierwise.ingest import _sniff, _xlsx
from tierwise.ingest._readers import RawBatch, ReadError, SourceInfo, list_sheets, open_source

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def read_all(
    path: Path, batch_size: int = 50_000, skip_records: int = 0, **kw: Any
) -> tuple[SourceInfo, list[RawBatch]]:
    with open_source(path, **kw) as src:
        batches = list(src.batches(batch_size, skip_records=skip_records))
        return src.info, batches


def rows(batches: list[RawBatch]) -> list[dict[str, object]]:
    return [r for b in batches for r in b.frame.to_dicts()]


def lines(batches: list[RawBatch]) -> list[int]:
    return [n for b in batches for n in b.lines]


def problems(batches: list[RawBatch]) -> list[tuple[int, str]]:
    return [(p.line, p.code) for b in batches for p in b.problems]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "first_header", "sample"),
    [
        ("01_customers.csv", "utf-8", ",", "customer_id", "张伟"),
        ("08_customers_utf8_bom_chinese_headers.csv", "utf-8-sig", ",", "客户编号", "欧阳锋"),
        ("09_orders_gbk_chinese_headers.csv", "gb18030", ",", "订单编号", "已退款"),
        ("10_customers_gb18030_rare_chars.csv", "gb18030", ",", "客户编号", "王𠀀"),
        ("11_orders_utf16le_bom_tab.txt", "utf-16", "\t", "订单编号", "已发货\t待签收"),
        ("12_customers_semicolon.csv", "utf-8", ";", "customer_id", "Müller, Hans"),
        ("13_orders_tab.tsv", "utf-8", "\t", "order_id", "online, app"),
        ("14_products_pipe.txt", "utf-8", "|", "product_id", "Mug, ceramic, 350 ml"),
    ],
)
def test_corpus_encoding_and_delimiter_detected(
    name: str, encoding: str, delimiter: str, first_header: str, sample: str
) -> None:
    info, batches = read_all(CORPUS / name)
    assert (info.format, info.encoding, info.encoding_detected) == ("csv", encoding, True)
    assert info.delimiter == delimiter
    assert info.header[0] == first_header
    values = {v for r in rows(batches) for v in r.values()}
    assert sample in values
    assert lines(batches) == list(range(2, 2 + len(lines(batches))))
    assert not problems(batches)


def test_gb18030_fallback_is_noted() -> None:
    info, _ = read_all(CORPUS / "09_orders_gbk_chinese_headers.csv")
    assert any("GB18030" in n for n in info.notes)


@pytest.mark.parametrize(
    ("codec", "name"), [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")]
)
def test_bomless_utf16_detected_from_nul_pattern(tmp_path: Path, codec: str, name: str) -> None:
    text = "客户编号\t客户名称\t手机\r\nCU1\t张三\t13800138000\r\nCU2\t李四\t13900139000\r\n"
    info, batches = read_all(write(tmp_path, "u.txt", text.encode(codec)))
    assert (info.encoding, info.delimiter) == (name, "\t")
    assert info.header == ["客户编号", "客户名称", "手机"]
    assert rows(batches)[1] == {"客户编号": "CU2", "客户名称": "李四", "手机": "13900139000"}


def test_utf16_be_with_bom(tmp_path: Path) -> None:
    p = write(tmp_path, "be.csv", "\ufeffa,b\n1,2\n".encode("utf-16-be"))
    info, batches = read_all(p)
    assert (info.encoding, info.header, rows(batches)) == (
        "utf-16",
        ["a", "b"],
        [{"a": "1", "b": "2"}],
    )


def test_forced_encoding_is_used_and_reported() -> None:
    info, batches = read_all(CORPUS / "09_orders_gbk_chinese_headers.csv", encoding="GBK")
    assert (info.encoding, info.encoding_detected) == ("gbk", False)
    assert info.header[0] == "订单编号"
    assert len(rows(batches)) == 10


def test_forced_encoding_that_does_not_fit_names_the_line() -> None:
    with pytest.raises(ReadError, match=r"line 1\b.*utf-8"):
        open_source(CORPUS / "09_orders_gbk_chinese_headers.csv", encoding="utf-8")
    with pytest.raises(ReadError, match="unknown encoding"):
        open_source(CORPUS / "01_customers.csv", encoding="no-such-codec")


def test_undecodable_file_names_offset_line_and_encoding_option(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", b"a,b\n1,2\n3,\xff\xfe\n")
    with pytest.raises(ReadError) as err:
        open_source(p)
    msg = str(err.value)
    assert "offset 10 (line 3)" in msg and "0xFF" in msg
    assert "--encoding" in msg and "utf-8" in msg and "gb18030" in msg
    assert isinstance(err.value, DataError) and isinstance(err.value, ValueError)


def test_validation_streams_across_chunk_boundaries(tmp_path: Path) -> None:
    # a 3-byte UTF-8 character split by the 1 MB chunk boundary is fine ...
    head = "a,b\n" + "x" * (_sniff._CHUNK - 5) + ",1\n"
    p = write(tmp_path, "big.csv", head[:-3] + "中,1\n" + "y,2\n")
    assert read_all(p)[0].encoding == "utf-8"
    # ... a GBK byte far beyond the first chunk still switches the whole file to GB18030
    body = ("a,b\n" + "x,1\n" * 400_000).encode() + "张三,2\n".encode("gbk")
    info, batches = read_all(write(tmp_path, "late_gbk.csv", body))
    assert info.encoding == "gb18030" and rows(batches)[-1] == {"a": "张三", "b": "2"}
    # ... and the offset of a bad byte past the first chunk is exact
    bad = ("a,b\n" + "x,1\n" * 400_000).encode() + b"\xff,2\n"
    with pytest.raises(ReadError, match=r"offset 1600004 \(line 400002\)"):
        open_source(write(tmp_path, "bad_late.csv", bad))


def test_binary_file_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="binary"):
        open_source(write(tmp_path, "x.csv", b"\x01\x02\x00\x00\x7fELF\x00\x00\x00" * 10))


# ---------------------------------------------------------------- CSV structure


def test_delimiter_sniffing_prefers_consistent_counts(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "id;name;price\n1;Tea, green;1,50\n2;Mug;2,00\n")
    info, batches = read_all(p)
    assert info.delimiter == ";" and rows(batches)[0]["price"] == "1,50"
    assert read_all(write(tmp_path, "one.csv", "name\nA\nB\n"))[0].delimiter == ","
    forced, fb = read_all(p, delimiter=",")
    assert forced.delimiter == "," and forced.header == ["id;name;price"]
    assert problems(fb) == [(2, "extra_fields"), (3, "extra_fields")]


def test_quoted_newlines_and_doubled_quotes_keep_start_lines() -> None:
    _, batches = read_all(CORPUS / "15_interactions_quoted_newlines.csv")
    assert lines(batches) == [2, 4, 5, 9, 10, 11]
    notes = [r["note"] for r in rows(batches)]
    assert notes[0] == 'Asked about "VIP" pricing\nwants a quote by Friday'
    assert notes[1] == '客户说："收到了，谢谢"'
    assert notes[3] == 'Subject: "Invoice #2024-017", resend please'
    assert notes[5] == "Line one\n\nline three after an empty line"


def test_oversized_field_is_a_problem_and_reading_goes_on() -> None:
    _, batches = read_all(CORPUS / "36_interactions_huge_field.csv")
    assert problems(batches) == [(3, "field_too_large")]
    assert lines(batches) == [2, 5, 6, 7]
    assert [r["note"] for r in rows(batches)][1] == "after the long one"
    assert sum(b.records_read for b in batches) == 5
    problem = batches[0].problems[0]
    assert "131,072" in problem.message and "lines 3-4" in problem.message
    assert problem.raw is not None and problem.raw.startswith("CU002,") and len(problem.raw) == 200


def test_oversized_field_recovery_variants(tmp_path: Path) -> None:
    big = "z" * 140_000
    text = f'a,b\n1,{big}\n2,"{big}\nstill, the same "" field\n"\n3,"x ""q"" {big}"\n4,ok\n'
    _, batches = read_all(write(tmp_path, "v.csv", text))
    assert problems(batches) == [
        (2, "field_too_large"),
        (3, "field_too_large"),
        (6, "field_too_large"),
    ]
    assert lines(batches) == [7] and rows(batches) == [{"a": "4", "b": "ok"}]
    # an unclosed quote swallows the rest of the file: reported, not silently lost
    _, batches = read_all(write(tmp_path, "u.csv", f'a,b\n1,"{big}\n2,x\n3,y\n'))
    assert problems(batches) == [(2, "field_too_large")]
    assert "rest of the file was skipped" in batches[0].problems[0].message


def test_oversized_header_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="header"):
        open_source(write(tmp_path, "h.csv", "a," + "b" * 200_000 + "\n1,2\n"))


def test_extra_fields_and_short_records() -> None:
    _, batches = read_all(CORPUS / "37_orders_extra_fields.csv")
    assert problems(batches) == [(3, "extra_fields"), (6, "extra_fields")]
    assert lines(batches) == [2, 4, 5, 7]
    data = rows(batches)
    assert data[2] == {
        "order_id": "SO9204",
        "customer_id": "CU004",
        "ordered_at": "2024-06-04 10:00:00",
        "amount": "199.00",
        "status": "paid",
    }
    assert data[3]["status"] is None  # a short record is padded with nulls
    p = batches[0].problems[0]
    assert p.raw == "SO9202,CU002,2024-06-02 10:00:00,1,234.00,paid" and "6 fields" in p.message


def test_trailing_empty_column_ignored() -> None:
    info, batches = read_all(CORPUS / "38_customers_trailing_empty_column.csv")
    assert info.header == ["customer_id", "name", "phone", "province"]
    assert any("empty column" in n for n in info.notes)
    assert len(rows(batches)) == 6 and not problems(batches)


def test_blank_lines_counted_and_empty_strings_null(tmp_path: Path) -> None:
    text = "\n  \r\nid,name,phone\r\n1,,\r\n\r\n,,\r\n 2 ,B,\r\n\r\n,\r\n"
    info, batches = read_all(write(tmp_path, "b.csv", text))
    assert info.header == ["id", "name", "phone"]
    assert "2 blank line(s) before the header skipped" in info.notes
    assert lines(batches) == [4, 7]
    assert info.blank_rows == 2  # lines 5 and 6; trailing blank lines are not counted
    assert rows(batches) == [
        {"id": "1", "name": None, "phone": None},
        {"id": " 2 ", "name": "B", "phone": None},
    ]


def test_empty_header_only_and_blank_only_files() -> None:
    info, batches = read_all(CORPUS / "27_empty.csv")
    assert (info.header, batches, info.notes) == ([], [], ["file is empty"])
    info, batches = read_all(CORPUS / "28_header_only.csv")
    assert info.header[:3] == ["order_id", "customer_id", "ordered_at"] and batches == []
    info, batches = read_all(CORPUS / "29_only_blank_lines.csv")
    assert info.header == [] and batches == [] and "only blank lines" in info.notes[0]


def test_header_cleanup_renames_with_notes(tmp_path: Path) -> None:
    info, batches = read_all(CORPUS / "17_customers_duplicate_and_blank_headers.csv")
    assert info.header == ["customer_id", "name", "phone", "phone (2)", "column_5", "email"]
    assert 'duplicate column "phone" renamed "phone (2)"' in info.notes
    assert 'blank header at column 5 named "column_5"' in info.notes
    assert rows(batches)[0]["phone (2)"] == "010-66001122"
    raw = '\ufeff\u200b 金额 ,金额,金额 (2),金额,"  Order\n ID ",\u00a0,last\n1,2,3,4,5,6,7\n'
    info, batches = read_all(write(tmp_path, "h.csv", raw), encoding="utf-8")
    assert info.header == [
        "金额",
        "金额 (3)",
        "金额 (2)",
        "金额 (4)",
        "Order ID",
        "column_6",
        "last",
    ]
    assert lines(batches) == [3] and rows(batches)[0]["last"] == "7"


def test_full_width_headers_are_kept_for_the_mapper() -> None:
    info, _ = read_all(CORPUS / "18_customers_fullwidth_mixed_case_headers.csv")
    assert info.header[0] == "ＣＵＳＴＯＭＥＲ_ＩＤ" and info.header[3] == "E-Mail"


def test_skip_records_resumes_at_the_right_record() -> None:
    _, batches = read_all(CORPUS / "02_orders.csv", batch_size=7, skip_records=10)
    assert [b.records_read for b in batches] == [7, 3]
    assert lines(batches) == list(range(12, 22))
    assert rows(batches)[0]["order_id"] == "SO1011"
    # unreadable records count as records
    _, batches = read_all(CORPUS / "36_interactions_huge_field.csv", skip_records=1)
    assert problems(batches) == [(3, "field_too_large")] and lines(batches) == [5, 6, 7]
    _, batches = read_all(CORPUS / "36_interactions_huge_field.csv", skip_records=2)
    assert problems(batches) == [] and lines(batches) == [5, 6, 7]
    assert read_all(CORPUS / "02_orders.csv", skip_records=20)[1] == []


def test_text_named_like_a_workbook_is_read_as_csv(tmp_path: Path) -> None:
    info, _ = read_all(write(tmp_path, "x.xlsx", "a,b\n1,2\n"))
    assert info.format == "csv" and "plain text" in info.notes[0]


# ---------------------------------------------------------------- Excel


def test_xlsx_renamed_csv_is_read_as_workbook() -> None:
    info, batches = read_all(CORPUS / "30_customers_xlsx_renamed.csv")
    assert (info.format, info.encoding, info.sheet) == ("xlsx", None, "客户")
    assert "file is an Excel workbook although named .csv" in info.notes
    assert rows(batches)[0] == {
        "客户编号": "CU601",
        "客户名称": "钱多多",
        "手机": "13800136601",
        "省份": "上海",
        "行业": "金融",
    }


def test_old_xls_refused_with_advice() -> None:
    with pytest.raises(ReadError, match=r"\.xls\).*save it as \.xlsx or as CSV"):
        open_source(CORPUS / "40_old_excel.xls")
    with pytest.raises(ReadError, match="97-2003"):
        list_sheets(CORPUS / "40_old_excel.xls")


def test_zip_bomb_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("xl/worksheets/sheet1.xml", "w") as w,
    ):
        for _ in range(64):
            w.write(b"\0" * (1 << 20))
    assert p.stat().st_size < 200_000
    with pytest.raises(ReadError, match="zip bomb"):
        open_source(p)


def test_zip_total_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xlsx, "_ZIP_MAX_TOTAL", 10_000)
    with pytest.raises(ReadError, match="more than 2 GB"):
        open_source(CORPUS / "31_customers_and_orders_two_sheets.xlsx")


def test_damaged_workbook_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="damaged"):
        open_source(write(tmp_path, "d.xlsx", b"PK\x03\x04" + b"\x00" * 100))
    p = tmp_path / "notxl.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(ReadError, match="Excel workbook"):
        open_source(p)


def test_xlsx_value_conversion() -> None:
    info, batches = read_all(CORPUS / "33_customers_numeric_phones_real_dates.xlsx")
    assert info.sheets == ["Customers"]
    got = [
        (r["customer_id"], r["phone"], r["birthday"], r["created_at"], r["company_size"], r["tags"])
        for r in rows(batches)
    ]
    assert got == [
        ("CU901", "13800139901", "1990-01-31", "2023-05-01 09:30:00", "12", "vip"),
        ("CU902", "13800139902", "1992-02-29", "2023-05-02 00:00:00", "0.5", None),
        ("901903", "13800139903", "1985-06-15 00:00:00", "2023-05-03 23:59:59", "0.00001", "true"),
        ("CU904", "013800139904", None, "2023-05-04", "1234.5", "false"),
        ("CU905", "8613800139905", "2000-12-31", "08:15:00", "3.14159", "a, b"),
    ]
    assert all(dtype == pl.String for dtype in batches[0].frame.dtypes)


def test_cell_text_conversions() -> None:
    class Cell:
        number_format = "General"

    c = Cell()
    assert _xlsx.cell_text(13800138000.0, c) == "13800138000"
    assert _xlsx.cell_text(1e-7, c) == "0.0000001"
    assert _xlsx.cell_text(0.1 + 0.2, c) == "0.30000000000000004"
    assert _xlsx.cell_text(dt.datetime(2024, 1, 2), c) == "2024-01-02"
    assert _xlsx.cell_text(dt.datetime(2024, 1, 2, 3, 4, 5, 600), c) == "2024-01-02 03:04:05"
    assert _xlsx.cell_text(dt.time(7, 8, 9), c) == "07:08:09"
    assert _xlsx.cell_text(dt.timedelta(hours=27, minutes=5), c) == "27:05:00"
    assert _xlsx.cell_text("#DIV/0!", c) == "#DIV/0!"
    c.number_format = 'yyyy-mm-dd "at" hh:mm'
    assert _xlsx.cell_text(dt.datetime(2024, 1, 2), c) == "2024-01-02 00:00:00"


def test_xlsx_formula_cached_values() -> None:
    _, batches = read_all(CORPUS / "34_orders_formulas.xlsx")
    amounts = [r["amount"] for r in rows(batches)]
    assert amounts == ["199", "179.7", "4800", "199", "356", "#DIV/0!", "5733.7"]
    assert rows(batches)[-1]["order_id"] == "合计" and lines(batches) == list(range(2, 9))
    assert rows(batches)[0]["ordered_at"] == "2024-09-01"


def test_xlsx_sheet_selection() -> None:
    path = CORPUS / "31_customers_and_orders_two_sheets.xlsx"
    assert list_sheets(path) == ["客户", "订单"]
    assert list_sheets(CORPUS / "01_customers.csv") == []
    info, batches = read_all(path)
    assert (info.sheet, info.sheets, info.header[0]) == ("客户", ["客户", "订单"], "客户编号")
    assert {b.sheet for b in batches} == {"客户"}
    for choice in ("订单", 1):
        info, batches = read_all(path, sheet=choice)
        assert info.sheet == "订单" and info.header[0] == "订单编号"
        assert rows(batches)[0]["下单时间"] == "2024-04-01 09:30:00"
        assert rows(batches)[1]["订单金额"] == "110.5"
        assert len(rows(batches)) == 8 and {b.sheet for b in batches} == {"订单"}
    with pytest.raises(ReadError, match=r'sheet "订单".*same columns'):
        open_source(path, sheet="*")
    with pytest.raises(ReadError, match=r'no sheet "Orders".*客户, 订单'):
        open_source(path, sheet="Orders")
    with pytest.raises(ReadError, match="no sheet number 5"):
        open_source(path, sheet=5)


def test_xlsx_all_sheets_blank_rows_and_trailing_formatting() -> None:
    path = CORPUS / "32_orders_by_year_sheets.xlsx"
    info, batches = read_all(path, sheet="*", batch_size=4)
    assert info.sheet == "*" and info.sheets == ["2023", "2024", "备注"]
    assert 'sheet "备注" is empty' in info.notes
    assert [(b.sheet, b.lines) for b in batches] == [
        ("2023", [2, 3, 4, 5]),
        ("2023", [6]),
        ("2024", [2, 3, 4, 6]),
        ("2024", [7, 8]),
    ]
    assert info.blank_rows == 1  # row 5 of sheet 2024; formatted empty rows 12-15 are not counted
    assert rows(batches)[5]["ordered_at"] == "2024-05-01" and rows(batches)[5]["amount"] == "50.5"
    _, resumed = read_all(path, sheet="*", skip_records=6)
    assert [(b.sheet, b.lines) for b in resumed] == [("2024", [3, 4, 6, 7, 8])]


def test_xlsx_header_after_blank_rows_and_blank_header_cells(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["D3"], ws["C3"] = "name", "phone", None
    ws["B4"], ws["C4"], ws["D4"], ws["E4"] = "张三", "x", 13800138000, None
    ws["B5"], ws["F5"] = "李四", "stray"
    wb.save(tmp_path / "w.xlsx")
    info, batches = read_all(tmp_path / "w.xlsx")
    assert info.header == ["column_1", "name", "column_3", "phone"]
    assert lines(batches) == [4] and problems(batches) == [(5, "extra_fields")]
    assert rows(batches) == [
        {"column_1": None, "name": "张三", "column_3": "x", "phone": "13800138000"}
    ]


def test_empty_workbook(tmp_path: Path) -> None:
    openpyxl.Workbook().save(tmp_path / "e.xlsx")
    info, batches = read_all(tmp_path / "e.xlsx")
    assert info.header == [] and batches == [] and "workbook has no data" in info.notes


# ---------------------------------------------------------------- Parquet


def test_parquet_native_dtypes_lines_and_resume() -> None:
    path = CORPUS / "42_orders.parquet"
    info, batches = read_all(path, batch_size=3)
    assert info.format == "parquet" and info.encoding is None
    assert info.header == ["order_id", "customer_id", "ordered_at", "amount", "quantity", "paid"]
    frame = pl.concat([b.frame for b in batches])
    expected: list[pl.DataType] = [pl.String(), pl.String(), pl.Datetime("us"), pl.Float64()]
    assert frame.dtypes == [*expected, pl.Int64(), pl.Boolean()]
    assert lines(batches) == list(range(2, 10))
    _, resumed = read_all(path, batch_size=2, skip_records=4)
    assert lines(resumed) == [6, 7, 8, 9]
    assert pl.concat([b.frame for b in resumed])["order_id"].to_list() == [
        "SO9505",
        "SO9506",
        "SO9507",
        "SO9508",
    ]


def test_parquet_named_csv(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "p.csv")
    info, batches = read_all(tmp_path / "p.csv")
    assert info.format == "parquet" and "Parquet file although named .csv" in info.notes[0]
    assert batches[0].frame["a"].to_list() == [1, 2]


# ---------------------------------------------------------------- scale


_MEASURE = textwrap.dedent(
    """
    import re, sys, time
    from pathlib import Path
    from tierwise.ingest._readers import open_source

    def peak_rss_mb():  # VmHWM: this process's peak RSS (ru_maxrss would include the parent's)
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024

    base = peak_rss_mb()
    t0 = time.perf_counter()
    n = last = 0
    with open_source(Path(sys.argv[1])) as src:
        for batch in src.batches(50_000):
            n += len(batch.frame)
            last = batch.lines[-1]
    took = time.perf_counter() - t0
    print(n, last, src.info.encoding, round(took, 2), base, peak_rss_mb() - base)
    """
)


@pytest.mark.slow
def test_million_line_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("客户编号,客户名称,手机,下单时间,订单金额\n")
        for i in range(999_999):
            f.write(f"C{i:07d},客户{i % 997},138{i:08d},2024-01-01 10:00:00,{i % 10_000}.50\n")
    size_mb = path.stat().st_size // 2**20
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    n, last, encoding, took = int(out[0]), int(out[1]), out[2], float(out[3])
    base_mb, grew_mb = int(out[4]), int(out[5])
    print(f"\n1,000,000 lines ({size_mb} MB): {took:.1f} s, peak RSS {base_mb} MB + {grew_mb} MB")
    assert (n, last, encoding) == (999_999, 1_000_000, "utf-8")
    assert grew_mb < 250 and grew_mb < size_mb * 3  # a full load as Python strings is far bigger


def test_corpus_is_complete() -> None:
    files = sorted(p.name for p in CORPUS.iterdir() if p.name[:2].isdigit())
    assert len(files) >= 28
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)
    started = time.perf_counter()
    for p in CORPUS.iterdir():
        if p.name[:2].isdigit() and p.suffix != ".xls":
            read_all(p)
    assert time.perf_counter() - started < 30
